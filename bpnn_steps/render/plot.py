"""Figures of a training run (matplotlib, imported only when a figure is drawn)
and a small text chart of the cost for terminals.

Figure kinds, chosen from the network:

* ``regression``: one input and mse -- the data (training and test), the
  noise-free function when the data were generated, and the fitted curve;
* ``classification``: two inputs and bce or ce -- the decision regions and
  boundary with the data;
* always: the cost per epoch on a log scale, training and test together.
"""

from __future__ import annotations

import io
import math
import os
from collections.abc import Callable, Sequence
from pathlib import Path
from typing import TYPE_CHECKING

import numpy as np

from ..errors import ProblemError
from ..files.textio import write_atomic
from ..maths.losses import LOSSES
from ..maths.training import TrainResult, predict

if TYPE_CHECKING:
    from matplotlib.axes import Axes

FORMATS = (".png", ".svg", ".pdf")
DPI = 110               # of the PNG (and of the images inside SVG and PDF)
Array = np.ndarray


def plot_kind(result: TrainResult) -> str:
    """"regression", "classification" or "cost" (the cost panel alone)."""
    p = result.problem
    classification = LOSSES[p.loss].classification
    if p.layers[0] == 1 and not classification:
        return "regression"
    if p.layers[0] == 2 and classification:
        return "classification"
    return "cost"


def describe_run(result: TrainResult, network: bool = True) -> str:
    """'1-8-1 (sigmoid, linear), SGD, λ = 0.03, 50000 epochs' (without the network part
    when ``network`` is false)."""
    p = result.problem
    t = p.training
    method = {"batch": "batch GD", "sgd": "SGD",
              "minibatch": f"mini-batch of {t.batch_size}"}[t.method]
    text = f"{method}, λ = {t.learning_rate:g}"
    if t.l2:
        text += f", β = {t.l2:g}"
    text += f", {result.epochs_run} epoch{'s' if result.epochs_run != 1 else ''}"
    if network:
        text = f"{'-'.join(str(n) for n in p.layers)} ({', '.join(p.activations)}), " + text
    return text


def save_plot(result: TrainResult, path: str | os.PathLike[str],
              true_function: Callable[[Array], Array] | None = None,
              title: str | None = None) -> str:
    """Draw the run's figure into ``path`` (.png, .svg or .pdf); returns the kind drawn."""
    target = Path(path)
    suffix = target.suffix.lower()
    if suffix not in FORMATS:
        raise ProblemError(f"cannot plot to {suffix or 'a file without an extension'}; use "
                           f"{', '.join(FORMATS)}", file=str(path))
    folder = target.parent if str(target.parent) else Path(".")
    if not folder.is_dir():
        raise ProblemError(f"cannot write: folder {str(folder)!r} does not exist",
                           file=str(path))
    import matplotlib
    from matplotlib.backends.backend_agg import FigureCanvasAgg
    from matplotlib.figure import Figure

    kind = plot_kind(result)
    with matplotlib.rc_context({"svg.hashsalt": "bpnn-steps", "font.size": 9}):
        # The figure is laid out at the dpi it is saved at, on its own Agg canvas: the
        # PNG is then drawn with the renderer tight_layout measured the text with, so
        # every label (and the mathtext of the log axis) is laid out once, not twice.
        if kind == "cost":
            fig = Figure(figsize=(5.5, 4.0), dpi=DPI)
            ax_cost = fig.add_subplot(1, 1, 1)
        else:
            fig = Figure(figsize=(10.0, 4.0), dpi=DPI)
            ax_data = fig.add_subplot(1, 2, 1)
            ax_cost = fig.add_subplot(1, 2, 2)
            if kind == "regression":
                _draw_regression(ax_data, result, true_function)
            else:
                _draw_classification(ax_data, result)
        _draw_cost(ax_cost, result)
        heading = title if title is not None else (result.problem.title or "")
        # parse_math=False: the title is the user's text, shown as written ('$x$' was
        # set as maths, and '$\\foo$' ended in a parse error)
        fig.suptitle(f"{heading}\n{describe_run(result)}" if heading else describe_run(result),
                     fontsize=10, parse_math=False)
        FigureCanvasAgg(fig)
        fig.tight_layout()
        # tight_layout leaves a placeholder layout engine, and savefig draws the whole
        # figure once more (text and ticks laid out again) for any engine before it
        # draws it for real; the layout is final here, so drop the engine.
        fig.set_layout_engine(None)
        # No time stamp, so that the same run gives the same file (each format names
        # it its own way).
        metadata = {".svg": {"Date": None}, ".pdf": {"CreationDate": None}}.get(suffix, {})
        buffer = io.BytesIO()
        fig.savefig(buffer, dpi=DPI, metadata=metadata, format=suffix[1:])
        write_atomic(path, buffer.getvalue())
    return kind


def _draw_regression(ax: Axes, result: TrainResult,
                     true_function: Callable[[Array], Array] | None) -> None:
    p = result.problem
    inputs, y = p.data()
    x = inputs[:, 0]
    test = p.test_data()
    lows = [x.min()] + ([test[0][:, 0].min()] if test is not None else [])
    highs = [x.max()] + ([test[0][:, 0].max()] if test is not None else [])
    low, high = min(lows), max(highs)
    pad = 0.02 * (high - low or 1.0)
    grid = np.linspace(low - pad, high + pad, 600)
    fitted = predict(p, result.weights, grid[:, None])
    outputs = y.shape[1]
    for k in range(outputs):
        suffix = f" (output {k + 1})" if outputs > 1 else ""
        if true_function is not None and outputs == 1:
            ax.plot(grid, true_function(grid), color="0.55", lw=1.2, ls="--",
                    label="true function")
        # One output: the usual blue data / red fit.  Several: one colour per output
        # (data, test data and fit of output k share it; markers tell them apart).
        data_c, test_c, fit_c = (("tab:blue", "tab:orange", "tab:red") if outputs == 1
                                 else (f"C{k}",) * 3)
        if test is not None:
            ax.plot(test[0][:, 0], test[1][:, k], "x", color=test_c, ms=4,
                    alpha=0.7, label=f"test data{suffix}")
        ax.plot(x, y[:, k], "o", color=data_c, ms=4, label=f"training data{suffix}")
        ax.plot(grid, fitted[:, k], color=fit_c, lw=1.8, label=f"network{suffix}")
    ax.set_xlabel("x")
    ax.set_ylabel("y")
    ax.set_title("fit")
    ax.legend(loc="best", fontsize=8, frameon=False)
    ax.grid(alpha=0.3)


def _draw_classification(ax: Axes, result: TrainResult) -> None:
    from matplotlib.colors import ListedColormap

    p = result.problem
    training, test = p.data(), p.test_data()
    points = [training[0]] + ([test[0]] if test is not None else [])
    allx = np.vstack(points)
    lo, hi = allx.min(axis=0), allx.max(axis=0)
    pad = 0.15 * np.maximum(hi - lo, 1e-9)
    gx, gy = np.meshgrid(np.linspace(lo[0] - pad[0], hi[0] + pad[0], 300),
                         np.linspace(lo[1] - pad[1], hi[1] + pad[1], 300))
    grid = np.column_stack([gx.ravel(), gy.ravel()])
    out = predict(p, result.weights, grid)
    colours = ["tab:blue", "tab:red", "tab:green", "tab:purple", "tab:brown", "tab:olive"]
    labels: Callable[[Array], Array]           # the class of each row of targets
    if out.shape[1] == 1:
        prob = out[:, 0].reshape(gx.shape)
        ax.contourf(gx, gy, prob, levels=np.linspace(0, 1, 11), cmap="RdBu_r", alpha=0.35)
        ax.contour(gx, gy, prob, levels=[0.5], colors="k", linewidths=1.5)
        labels = lambda y: (y[:, 0] >= 0.5).astype(int)  # noqa: E731
        classes = 2
    else:
        region = np.argmax(out, axis=1).reshape(gx.shape)
        classes = out.shape[1]
        cmap = ListedColormap([colours[i % len(colours)] for i in range(classes)])
        ax.contourf(gx, gy, region, levels=np.arange(classes + 1) - 0.5, cmap=cmap, alpha=0.25)
        ax.contour(gx, gy, region, levels=np.arange(classes) + 0.5, colors="k",
                   linewidths=1.2)
        labels = lambda y: np.argmax(y, axis=1)  # noqa: E731
    sets = [(*training, "o", "training")] + ([(*test, "x", "test")] if test is not None else [])
    for data_x, data_y, marker, name in sets:
        lab = labels(data_y)
        for c in range(classes):
            sel = lab == c
            if np.any(sel):
                ax.plot(data_x[sel, 0], data_x[sel, 1], marker, ms=4,
                        color=colours[c % len(colours)], mec="k" if marker == "o" else None,
                        mew=0.4, label=f"{name}, class {c}")
    ax.set_xlabel("x₁")
    ax.set_ylabel("x₂")
    ax.set_title("decision boundary")
    ax.legend(loc="best", fontsize=7, frameon=True)


def _positive(values: Array) -> Array:
    values = np.asarray(values, dtype=float)
    tiny = np.finfo(float).tiny
    return np.where(values > 0, values, tiny)


def _draw_cost(ax: Axes, result: TrainResult) -> None:
    beta = result.problem.training.l2
    label = "training cost" + (" (with L2 term)" if beta else "")
    ax.plot(result.cost_epochs, _positive(result.costs), color="tab:blue", lw=1.5,
            label=label)
    if len(result.test_epochs):
        ax.plot(result.test_epochs, _positive(result.test_errors), color="tab:orange",
                lw=1.5, ls="--", label="test error (mean J)")
    ax.set_yscale("log")
    ax.set_xlabel("epoch")
    ax.set_ylabel("cost")
    ax.set_title("cost per epoch")
    ax.grid(alpha=0.3, which="both")
    ax.legend(loc="best", fontsize=8, frameon=False)


# --------------------------------------------------------------------------- terminal


def text_chart(series: Sequence[tuple[Array, Array, str]], width: int = 60,
               height: int = 10, fmt: Callable[[float], str] = lambda v: f"{v:.3g}") -> str:
    """A small chart of one or more (epochs, values, mark) series, log-scaled values.

    Each column covers a range of epochs and marks every row between the
    smallest and the largest value in it, so steep falls show as vertical strokes.
    """
    usable = [(np.asarray(e, float), _positive(v), m) for e, v, m in series if len(e)]
    if not usable:
        return ""
    top = max(float(np.max(v)) for _, v, _ in usable)
    bottom = min(float(np.min(v)) for _, v, _ in usable)
    last = max(float(np.max(e)) for e, _, _ in usable)
    first = min(float(np.min(e)) for e, _, _ in usable)
    log_top, log_bottom = math.log10(top), math.log10(bottom)
    span = log_top - log_bottom or 1.0
    grid = [[" "] * width for _ in range(height)]
    for epochs, values, mark in usable:
        cols = np.clip(((epochs - first) / max(last - first, 1e-12) * (width - 1)).round()
                       .astype(int), 0, width - 1)
        rows = np.clip(np.round((log_top - np.log10(values)) / span * (height - 1)), 0,
                       height - 1).astype(int)
        for col in np.unique(cols):
            here = rows[cols == col]
            for row in range(int(here.min()), int(here.max()) + 1):
                grid[row][col] = mark
    labels = [fmt(top)] + [""] * (height - 2) + [fmt(bottom)]
    pad = max(len(s) for s in labels)
    lines = [f"{labels[r]:>{pad}} |{''.join(grid[r])}" for r in range(height)]
    lines.append(" " * pad + " +" + "-" * width)
    left, right = f"{first:g}", f"{last:g}"
    lines.append(" " * (pad + 2) + left + " " * max(1, width - len(left) - len(right)) + right)
    return "\n".join(lines)
