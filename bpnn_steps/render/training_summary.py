"""The plain-text summary of a training run (``bpnn-steps train``).

Plain text with aligned labels and no terminal markup: it reads the same on a
terminal, in a pipe and in a file.
"""

from __future__ import annotations

from typing import TYPE_CHECKING

from ..numfmt import fmt

if TYPE_CHECKING:
    from ..maths.training import TrainResult


def _plural(count: int, word: str) -> str:
    return f"{count} {word}{'s' if count != 1 else ''}"


def training_summary(result: TrainResult, decimals: int = 4, *, chart: bool = True,
                     data_note: str | None = None) -> str:
    """The network, data and settings, the run, the cost and errors before and
    after, a text chart of the cost (``chart``) and the final weights.

    ``data_note`` describes generated data ("sine, 40 points ..."), after the count.
    """
    from .plot import describe_run, text_chart

    p = result.problem
    t = p.training
    lines: list[str] = []
    if p.title:
        lines.append(p.title)
    lines.append(f"network  {'-'.join(map(str, p.layers))} ({', '.join(p.activations)}), "
                 f"loss {p.loss}")
    data = f"data     {_plural(p.samples, 'training sample')}"
    if p.x_test is not None:
        data += f", {_plural(int(p.x_test.shape[0]), 'test sample')}"
    if data_note:
        data += f" ({data_note})"
    lines.append(data)
    lines.append(f"training {describe_run(result, network=False)}"
                 + (f", l2_bias {str(t.l2_bias).lower()}" if t.l2 else "")
                 + (f", shuffled (seed {t.seed})" if t.shuffle else ""))
    conventions = p.conventions
    if conventions.stated:
        lines.append(f"conventions {conventions.summary()}")
    rate = result.updates_per_second
    lines.append(f"ran      {result.epochs_run} of {_plural(t.epochs, 'epoch')}, "
                 f"{_plural(result.updates, 'update')}, "
                 f"{result.sample_updates} sample-updates in {result.seconds:.3g} s "
                 f"({rate:.3g}/s, {result.kernel} kernel)")
    lines.append("")
    lines.append(f"cost           {fmt(result.initial_cost, decimals)} before training, "
                 f"{fmt(result.final_cost, decimals)} after epoch {result.epochs_run}"
                 + (" (L2 term included)" if t.l2 else ""))
    lines.append(_error_line("training error", result.train_error, result.train_accuracy,
                             decimals))
    if result.test_error is not None:
        lines.append(_error_line("test error    ", result.test_error, result.test_accuracy,
                                 decimals))
    lines.append("(errors: mean J over the set, without the L2 term)")
    if chart and len(result.costs) > 1:
        series = [(result.cost_epochs, result.costs, "*")]
        tested = len(result.test_epochs) > 0
        if tested:
            series.append((result.test_epochs, result.test_errors, "o"))
        lines.append("")
        lines.append("cost per epoch, log scale (* training" + (", o test)" if tested else ")"))
        lines.append(text_chart(series, fmt=lambda v: fmt(v, 3)))
    lines.append("")
    lines.append("final weights (row 0: biases)")
    for n, w in enumerate(result.weights, start=1):
        lines.append(f"W{n} ({w.shape[0]} x {w.shape[1]})")
        cells = [[fmt(v, decimals) for v in row] for row in w]
        widths = [max(len(r[j]) for r in cells) for j in range(w.shape[1])]
        for row in cells:
            lines.append("  " + "  ".join(c.rjust(widths[j]) for j, c in enumerate(row)))
    return "\n".join(lines) + "\n"


def _error_line(label: str, error: float, accuracy: float | None, decimals: int) -> str:
    line = f"{label} {fmt(error, decimals)}"
    if accuracy is not None:
        line += f" (accuracy {100 * accuracy:.1f}%)"
    return line
