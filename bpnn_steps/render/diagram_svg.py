"""The network's picture as SVG, drawn from the same layout as the TikZ picture
(:func:`bpnn_steps.render.diagram.network_layout`): the same nodes, arrows,
colours, label positions and captions, for outputs that cannot run TeX (a
Moodle question embeds it as a file).

Every text is written through XML escaping; the picture has no scripts, links
or external references.
"""

from __future__ import annotations

import math
from collections.abc import Sequence
from xml.sax.saxutils import escape

import numpy as np

from .diagram import COLOURS, LABEL_HEIGHT, Layout, network_layout

SCALE = 40.0            # px per cm of the layout
MARGIN = 0.6            # cm around the picture
# xcolor's base colours (RGB, 0..1), for the layout's "base!percent!black" mixes
_BASE_RGB = {"blue": (0.0, 0.0, 1.0), "red": (1.0, 0.0, 0.0), "green": (0.0, 1.0, 0.0),
             "orange": (1.0, 0.5, 0.0), "violet": (0.5, 0.0, 0.5), "cyan": (0.0, 1.0, 1.0),
             "brown": (0.75, 0.5, 0.25), "magenta": (1.0, 0.0, 1.0)}


def svg_colour(tikz: str) -> str:
    """An xcolor mix ``base!p!black`` (p percent of base, the rest black) as #rrggbb."""
    base, percent, other = tikz.split("!")
    if other != "black":
        raise ValueError(f"cannot mix {tikz}")
    share = int(percent) / 100
    r, g, b = (round(255 * share * c) for c in _BASE_RGB[base])
    return f"#{r:02x}{g:02x}{b:02x}"


def network_svg(layers: Sequence[int], activations: Sequence[str],
                weights: Sequence[np.ndarray] | None = None, decimals: int = 3) -> str:
    """A standalone SVG document of the network (labels with the initial weights)."""
    return layout_svg(network_layout(layers, activations, weights, decimals))


def layout_svg(layout: Layout) -> str:
    nodes = [n for column in layout.columns for n in column]
    radius = layout.node_size / 2
    caption_depth = 0.5
    # A caption may be wider than its column's nodes (about 0.18 cm a character).
    half = [0.09 * len(text) for _, _, text in layout.captions]
    left = min(min(n.x for n in nodes) - radius,
               min(x - h for (x, _, _), h in zip(layout.captions, half))) - MARGIN
    right = max(max(n.x for n in nodes) + radius,
                max(x + h for (x, _, _), h in zip(layout.captions, half))) + MARGIN
    top = max(n.y for n in nodes) + radius + MARGIN
    bottom = min(y for _, y, _ in layout.captions) - caption_depth - MARGIN
    width, height = (right - left) * SCALE, (top - bottom) * SCALE

    def px(x: float, y: float) -> tuple[float, float]:
        return (x - left) * SCALE, (top - y) * SCALE

    colours = [svg_colour(c) for c in COLOURS]
    out = [f'<svg xmlns="http://www.w3.org/2000/svg" width="{width:.0f}" '
           f'height="{height:.0f}" viewBox="0 0 {width:.1f} {height:.1f}" '
           'font-family="DejaVu Sans, Arial, sans-serif">',
           "<defs>"]
    for k, colour in enumerate(colours):
        out.append(f'<marker id="arrow{k}" viewBox="0 0 10 10" refX="10" refY="5" '
                   'markerWidth="7" markerHeight="7" orient="auto-start-reverse">'
                   f'<path d="M 0 0 L 10 5 L 0 10 z" fill="{colour}"/></marker>')
    out.append("</defs>")
    labels = []
    for e in layout.edges:
        # From border to border, as TikZ draws a line between two named nodes;
        # a label's pos is measured along that line too.
        dx, dy = e.target.x - e.source.x, e.target.y - e.source.y
        length = math.hypot(dx, dy)
        ux, uy = dx / length, dy / length
        ax, ay = e.source.x + radius * ux, e.source.y + radius * uy
        bx, by = e.target.x - radius * ux, e.target.y - radius * uy
        x1, y1 = px(ax, ay)
        x2, y2 = px(bx, by)
        colour = colours[e.colour]
        out.append(f'<line x1="{x1:.1f}" y1="{y1:.1f}" x2="{x2:.1f}" y2="{y2:.1f}" '
                   f'stroke="{colour}" stroke-width="1.2" marker-end="url(#arrow{e.colour})"/>')
        if e.label is not None and e.pos is not None:
            lx, ly = px(ax + e.pos * (bx - ax), ay + e.pos * (by - ay))
            w = (0.17 * len(e.label) + 0.12) * SCALE
            h = LABEL_HEIGHT * SCALE
            labels.append(f'<rect x="{lx - w / 2:.1f}" y="{ly - h / 2:.1f}" width="{w:.1f}" '
                          f'height="{h:.1f}" fill="white"/>'
                          f'<text x="{lx:.1f}" y="{ly:.1f}" font-size="11" fill="{colour}" '
                          f'text-anchor="middle" dominant-baseline="central">'
                          f"{escape(e.label)}</text>")
    out += labels                   # over every arrow, as TikZ's filled label nodes
    for n in nodes:
        cx, cy = px(n.x, n.y)
        fill = "#e6e6e6" if n.bias else "white"
        out.append(f'<circle cx="{cx:.1f}" cy="{cy:.1f}" r="{radius * SCALE:.1f}" '
                   f'fill="{fill}" stroke="black" stroke-width="1.6"/>'
                   f'<text x="{cx:.1f}" y="{cy:.1f}" font-size="{13 if not layout.small else 9}" '
                   f'text-anchor="middle" dominant-baseline="central">{escape(n.text)}</text>')
    for x, y, caption in layout.captions:
        cx, cy = px(x, y)
        out.append(f'<text x="{cx:.1f}" y="{cy + 12:.1f}" font-size="12" '
                   f'text-anchor="middle">{escape(caption)}</text>')
    out.append("</svg>")
    return "\n".join(out) + "\n"
