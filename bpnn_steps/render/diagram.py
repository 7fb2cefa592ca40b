"""A TikZ picture of the network: one column of nodes per layer, bias nodes on
top, every weight an arrow labelled with its initial value.

Labels are placed where they cannot collide: for each weight layer the label
position along the edges is chosen (in Python, from the node coordinates) so
that no two labels and no label and node overlap.  Edges and labels leaving the
same node share a colour, so a label is easy to match to its arrow.  When no
position keeps every label clear (wide layers), the labels of that layer are
left out and the picture says so; the weights are in the matrices anyway.
"""

from __future__ import annotations

import functools
from collections.abc import Callable, Sequence
from dataclasses import dataclass

import numpy as np

from ..model.notation import Sym, unit_base
from ..numfmt import fmt

COLOURS = ("blue!70!black", "red!75!black", "green!45!black", "orange!85!black",
           "violet!80!black", "cyan!55!black", "brown!80!black", "magenta!75!black")
NODE_DIAMETER = 0.9          # cm
LABEL_HEIGHT = 0.38          # cm, \footnotesize with inner sep
CHAR_WIDTH = 0.17            # cm per character at \footnotesize
# cm between the first and the last column's centres: the layer names under them
# (up to ~2.5 cm wide, centred) must stay inside the sheet's 17 cm text width.
MAX_WIDTH = 14.5
MAX_HEIGHT = 10.0            # cm
MIN_CLEARANCE = 0.05         # cm between a label and anything else
MAX_LABELLED_EDGES = 48      # more edges than this in a layer: no labels


@dataclass(frozen=True)
class _Node:
    name: str
    x: float
    y: float
    label: str
    bias: bool
    text: str = ""              # the label in Unicode (for SVG)


def _unit_label(n: int, j: int, depth: int) -> str:
    base, layer = unit_base(n, depth)
    return Sym(base, (j,), None, layer).latex()


def _columns(layers: Sequence[int]) -> tuple[list[list[_Node]], float, float]:
    depth = len(layers) - 1
    tallest = max(layers[n] + (1 if n < depth else 0) for n in range(depth + 1))
    dy = min(1.6, MAX_HEIGHT / max(tallest - 1, 1))
    dx = min(6.0, MAX_WIDTH / max(depth, 1))
    columns: list[list[_Node]] = []
    for n, size in enumerate(layers):
        nodes = []
        count = size + (1 if n < depth else 0)
        top = (count - 1) * dy / 2
        k = 0
        if n < depth:
            nodes.append(_Node(f"b{n}", n * dx, top, "1", True, "1"))
            k = 1
        for j in range(1, size + 1):
            base, layer = unit_base(n, depth)
            nodes.append(_Node(f"n{n}u{j}", n * dx, top - (k + j - 1) * dy,
                               _unit_label(n, j, depth), False,
                               Sym(base, (j,), None, layer).unicode()))
        columns.append(nodes)
    return columns, dx, dy


def _clearances(positions: np.ndarray, sources: Sequence[_Node], targets: Sequence[_Node],
                texts: np.ndarray) -> np.ndarray:
    """For each row of ``positions`` (a candidate: where along its edge each label
    sits, edges sources major), the smallest gap (cm) between two labels, a label
    and a node, or a label and an edge it does not belong to; negative when
    something overlaps.  All candidates at once: a diagram tries hundreds."""
    edges = [(s, t) for s in sources for t in targets]
    ax = np.array([s.x for s, _ in edges])
    ay = np.array([s.y for s, _ in edges])
    bx = np.array([t.x for _, t in edges])
    by = np.array([t.y for _, t in edges])
    ex, ey = bx - ax, by - ay
    # label boxes: centre (x, y) on the edge, width by the text, one height
    x = ax + positions * ex
    y = ay + positions * ey
    w = np.array([CHAR_WIDTH * len(texts[i][j]) + 0.12
                  for i in range(len(sources)) for j in range(len(targets))])
    half_h = LABEL_HEIGHT / 2
    nodes = np.array([(n.x, n.y) for n in (*sources, *targets)], dtype=float)
    # label - node (node as a disc)
    dx = np.maximum(np.abs(x[:, :, None] - nodes[:, 0]) - w[:, None] / 2, 0.0)
    dy = np.maximum(np.abs(y[:, :, None] - nodes[:, 1]) - half_h, 0.0)
    worst = np.min(np.hypot(dx, dy), axis=(1, 2)) - NODE_DIAMETER / 2
    diagonal = np.eye(len(edges), dtype=bool)
    # label - label
    if len(edges) > 1:
        gap = np.maximum(np.abs(x[:, :, None] - x[:, None, :]) - (w[:, None] + w[None, :]) / 2,
                         np.abs(y[:, :, None] - y[:, None, :]) - (half_h + half_h))
        gap[:, diagonal] = np.inf
        worst = np.minimum(worst, np.min(gap, axis=(1, 2)))
    # label - other edges: an edge through a label makes the label ambiguous
    u = ((x[:, :, None] - ax) * ex + (y[:, :, None] - ay) * ey) / (ex * ex + ey * ey)
    u = np.clip(u, 0.0, 1.0)
    dist = np.hypot(x[:, :, None] - ax - u * ex, y[:, :, None] - ay - u * ey) - half_h
    dist[:, diagonal] = np.inf
    result: np.ndarray = np.minimum(worst, 1.5 * np.min(dist, axis=(1, 2)))
    return result


def _everywhere(p: float) -> Callable[[int, int], float]:
    """Every label at ``p`` along its edge."""
    return lambda i, j: p


def _alternating(even: float, odd: float, by_source: bool) -> Callable[[int, int], float]:
    """Labels at ``even`` on the edges of even sources i (targets j without
    ``by_source``), at ``odd`` on the others."""
    return lambda i, j: even if (i if by_source else j) % 2 == 0 else odd


def _choose_position(sources: Sequence[_Node], targets: Sequence[_Node], texts: np.ndarray
                     ) -> Callable[[int, int], float] | None:
    """The label position along the edges that leaves every label clearest."""
    if len(sources) * len(targets) > MAX_LABELLED_EDGES:
        return None
    # Only the labels' lengths matter: a course draws the same network hundreds of
    # times with other weights, mostly of the same lengths.
    lengths = tuple(tuple(len(str(text)) for text in row) for row in texts)
    return _best_position(tuple(sources), tuple(targets), lengths)


@functools.lru_cache(maxsize=64)
def _candidates(sources: int, targets: int
                ) -> tuple[list[Callable[[int, int], float]], np.ndarray]:
    """The label positions tried, and where each puts every label (a row per
    candidate, edges sources major)."""
    grid = [round(0.2 + 0.05 * k, 2) for k in range(13)]
    candidates = [_everywhere(p) for p in grid]
    for a in grid:
        for b in grid:
            if a < b:
                candidates += [_alternating(a, b, by_source=True),
                               _alternating(b, a, by_source=True),
                               _alternating(a, b, by_source=False),
                               _alternating(b, a, by_source=False)]
    positions = np.array([[pos(i, j) for i in range(sources) for j in range(targets)]
                          for pos in candidates], dtype=float)
    positions.flags.writeable = False
    return candidates, positions


@functools.lru_cache(maxsize=256)
def _best_position(sources: tuple[_Node, ...], targets: tuple[_Node, ...],
                   lengths: tuple[tuple[int, ...], ...]) -> Callable[[int, int], float] | None:
    texts = np.array([["x" * n for n in row] for row in lengths], dtype=object)
    candidates, positions = _candidates(len(sources), len(targets))
    best, best_score = None, MIN_CLEARANCE
    for pos, score in zip(candidates, _clearances(positions, sources, targets, texts)):
        if score > best_score + 1e-9:
            best, best_score = pos, float(score)
    return best


@dataclass(frozen=True)
class Edge:
    """One weight's arrow: its ends, its colour (by source), its label and where
    along the arrow the label sits (None: no label)."""

    source: _Node
    target: _Node
    colour: int
    label: str | None
    pos: float | None


@dataclass(frozen=True)
class Layout:
    """Where everything of the picture goes (cm, y up): the nodes column by column,
    the arrows, the captions under the columns, and which weight layers' labels
    were left out.  TikZ and SVG both draw this."""

    columns: list[list[_Node]]
    edges: list[Edge]
    captions: list[tuple[float, float, str]]
    node_size: float
    small: bool
    omitted: list[int]

    @property
    def note(self) -> str | None:
        """The sentence saying which weight labels were left out, if any."""
        if not self.omitted and not self.small:
            return None
        which = "all layers" if self.small else ", ".join(f"W[{n}]" for n in self.omitted)
        return (f"Weight labels of {which} left out to keep the picture legible; the "
                "values are in the matrices below.")


def network_layout(layers: Sequence[int], activations: Sequence[str],
                   weights: Sequence[np.ndarray] | None = None, decimals: int = 3) -> Layout:
    """The layout of the network's picture (labels placed so that none collide)."""
    depth = len(layers) - 1
    columns, dx, dy = _columns(layers)
    small = dy < 1.0
    node_size = NODE_DIAMETER if not small else max(0.45, dy * 0.8)
    omitted = []
    edges = []
    for n in range(1, depth + 1):
        sources, targets = columns[n - 1], [t for t in columns[n] if not t.bias]
        texts = None
        pos = None
        if weights is not None and not small:
            w = weights[n - 1]
            texts = np.array([[fmt(float(v), decimals) for v in row] for row in w], dtype=object)
            pos = _choose_position(sources, targets, texts)
            if pos is None:
                omitted.append(n)
        for i, s in enumerate(sources):
            for j, t in enumerate(targets):
                labelled = pos is not None and texts is not None
                edges.append(Edge(s, t, i % len(COLOURS),
                                  str(texts[i][j]) if labelled and texts is not None else None,
                                  pos(i, j) if labelled and pos is not None else None))
    bottom = min(node.y for column in columns for node in column) - node_size / 2 - 0.35
    captions = []
    for n, column in enumerate(columns):
        if n == 0:
            caption = "input"
        elif n == depth:
            caption = f"output ({activations[n - 1]})"
        else:
            caption = ("hidden" if depth == 2 else f"hidden {n}") + f" ({activations[n - 1]})"
        captions.append((column[0].x, bottom, caption))
    return Layout(columns, edges, captions, node_size, small,
                  omitted if weights is not None else [])


def network_tikz(layers: Sequence[int], activations: Sequence[str],
                 weights: Sequence[np.ndarray] | None = None, decimals: int = 3) -> str:
    """The TikZ code (a ``tikzpicture``, centred) of the network."""
    layout = network_layout(layers, activations, weights, decimals)
    small, node_size = layout.small, layout.node_size
    out = [r"\begin{center}",
           r"\begin{tikzpicture}[>=stealth,",
           rf"  unit/.style={{circle, draw, thick, minimum size={node_size:.2f}cm, inner sep=0pt"
           + (r", font=\scriptsize" if small else "") + "},",
           r"  bias/.style={unit, fill=black!10},",
           r"  weight/.style={fill=white, inner sep=1pt, font=\footnotesize}]"]
    for column in layout.columns:
        for node in column:
            style = "bias" if node.bias else "unit"
            out.append(rf"\node[{style}] ({node.name}) at ({node.x:.3f},{node.y:.3f}) "
                       rf"{{${node.label}$}};")
    for e in layout.edges:
        colour = COLOURS[e.colour]
        label = ""
        if e.label is not None and e.pos is not None:
            label = (rf" node[weight, pos={e.pos:.2f}, text={colour}] "
                     rf"{{${e.label}$}}")
        out.append(rf"\draw[->, {colour}] ({e.source.name}) --{label} ({e.target.name});")
    for x, y, caption in layout.captions:
        caption = caption.replace("_", r"\_")     # leaky_relu: _ is special in TeX
        out.append(rf"\node[font=\small, anchor=north] at ({x:.3f},{y:.3f}) "
                   rf"{{{caption}}};")
    out.append(r"\end{tikzpicture}")
    if weights is not None and layout.note is not None:
        out.append("")
        out.append(rf"{{\small ({layout.note})}}")
    out.append(r"\end{center}")
    return "\n".join(out)
