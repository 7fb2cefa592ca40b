"""``bpnn-steps train FILE``: train over many epochs, then summarise, save, plot."""

from __future__ import annotations

import json
import math
import os
import sys
from enum import Enum
from pathlib import Path
from typing import Any, Optional

import typer

from ..errors import ProblemError


class Method(str, Enum):
    batch = "batch"
    sgd = "sgd"
    minibatch = "minibatch"


class TrainFormat(str, Enum):
    text = "text"
    json = "json"


class KernelChoice(str, Enum):
    auto = "auto"
    compiled = "compiled"
    numpy = "numpy"


def register(app: typer.Typer) -> None:
    app.command("train")(train_command)


def train_command(
    problem: str = typer.Argument(..., help="Problem file, or the name of a bundled problem "
                                            "(see 'bpnn-steps list')."),
    epochs: Optional[int] = typer.Option(None, "--epochs", "-e", min=1,
                                         help="Override training.epochs."),
    learning_rate: Optional[float] = typer.Option(None, "--learning-rate", "--lr", "-l",
                                                  help="Override training.learning_rate "
                                                       "(lambda)."),
    method: Optional[Method] = typer.Option(None, "--method", "-m",
                                            help="Override training.method."),
    batch_size: Optional[int] = typer.Option(None, "--batch-size", "-b", min=1,
                                             help="Override training.batch_size (minibatch)."),
    beta: Optional[float] = typer.Option(None, "--beta", "--l2",
                                         help="Override training.l2 (the L2 weight beta)."),
    seed: Optional[int] = typer.Option(None, "--seed", min=0,
                                       help="Override training.seed (shuffling and random "
                                            "initial weights)."),
    shuffle: Optional[bool] = typer.Option(None, "--shuffle/--no-shuffle",
                                           help="Override training.shuffle."),
    save: Optional[Path] = typer.Option(None, "--save",
                                        help="Write the trained network as a problem file "
                                             "(solve or train it further)."),
    plot: Optional[Path] = typer.Option(None, "--plot",
                                        help="Draw the fit or decision boundary and the cost "
                                             "per epoch into FILE.png, .svg or .pdf."),
    fmt: TrainFormat = typer.Option(TrainFormat.text, "--format", "-f",
                                    help="text (a summary) or json (cost history and final "
                                         "weights, double precision)."),
    output: Optional[Path] = typer.Option(None, "--output", "-o",
                                          help="Write the summary or JSON to this file "
                                               "(atomically) instead of standard output."),
    decimals: int = typer.Option(4, "--decimals", "-d", min=0, max=15,
                                 help="Decimals shown in the summary."),
    cost_every: Optional[int] = typer.Option(None, "--cost-every", min=1,
                                             help="Record the cost every K epochs (default: "
                                                  "every epoch unless that would slow a long "
                                                  "run by more than a twentieth)."),
    kernel: KernelChoice = typer.Option(KernelChoice.auto, "--kernel",
                                        help="auto (compiled for long runs), compiled, or "
                                             "numpy (the step engine's own functions)."),
    progress: Optional[bool] = typer.Option(None, "--progress/--no-progress",
                                            help="Progress bar on standard error (default: "
                                                 "only when it is a terminal)."),
) -> None:
    """Train over many epochs (batch GD, SGD or mini-batch), then summarise, save and plot."""
    from .app import emit, fail
    from ..files.problem_file import load_problem, parse_problem, parse_yaml, resolve_path, \
        training_generator
    from ..maths.training import train

    if learning_rate is not None and not (math.isfinite(learning_rate) and learning_rate > 0):
        fail(f"--learning-rate must be a number > 0, got {learning_rate:g}")
    if beta is not None and not (math.isfinite(beta) and beta >= 0):
        fail(f"--beta must be a number >= 0, got {beta:g}")
    if plot is not None and plot.suffix.lower() not in (".png", ".svg", ".pdf"):
        fail(f"--plot: {plot} must end in .png, .svg or .pdf")
    try:
        prob = load_problem(problem)
        path = resolve_path(problem)
        display = str(problem) if Path(problem) == path else f"{problem} ({path.name})"
        text = path.read_bytes().decode("utf-8-sig")
        root = parse_yaml(text, display)
        if seed is not None:
            text = _with_seed(text, display, seed)
            prob = parse_problem(text, display)
        prob = _apply_overrides(prob, epochs=epochs, learning_rate=learning_rate,
                                method=method, batch_size=batch_size, beta=beta,
                                shuffle=shuffle)
    except ProblemError as err:
        fail(err)
        return
    show_progress = progress if progress is not None else sys.stderr.isatty()
    try:
        if show_progress:
            result = _train_with_bar(prob, kernel.value, cost_every)
        else:
            result = train(prob, kernel=kernel.value, cost_every=cost_every)
    except ProblemError as err:
        fail(err)
        return
    if result.interrupted:
        sys.stderr.write(f"bpnn-steps: interrupted after epoch {result.epochs_run} of "
                         f"{prob.training.epochs}; the results below are those so far\n")
    generator = training_generator(text, display)
    try:
        if save is not None:
            from ..files.textio import write_atomic
            write_atomic(save, saved_problem(result, root, _source_dir(path), save))
            sys.stderr.write(f"wrote {save}\n")
        if plot is not None:
            from ..render.plot import save_plot
            save_plot(result, plot, generator.true_function() if generator else None)
            sys.stderr.write(f"wrote {plot}\n")
    except ProblemError as err:
        fail(err)
        return
    if fmt is TrainFormat.json:
        doc = result.to_dict()
        if generator is not None:
            doc["data"] = {"generate": generator.to_mapping()}
        emit(json.dumps(doc, indent=1, allow_nan=False), output)
    else:
        emit(summary(result, decimals, chart=plot is None,
                     data_note=generator.describe() if generator else None), output)
    if result.interrupted:
        raise typer.Exit(130)


# --------------------------------------------------------------------------- helpers


def _source_dir(path: Path) -> Path:
    return path.resolve().parent


def _with_seed(text: str, name: str, seed: int) -> str:
    """The problem text with training.seed set (so random weights follow it too)."""
    import io

    from ruamel.yaml import YAML

    from ..files.problem_file import parse_yaml

    root = parse_yaml(text, name)
    training = root.get("training")
    if training is None:
        root["training"] = {"seed": seed}
    else:
        training["seed"] = seed
    yaml = YAML(typ="rt", pure=True)
    out = io.StringIO()
    yaml.dump(root, out)
    return out.getvalue()


def _apply_overrides(prob, *, epochs, learning_rate, method, batch_size, beta, shuffle):
    changes: dict[str, Any] = {}
    if epochs is not None:
        changes["epochs"] = epochs
    if learning_rate is not None:
        changes["learning_rate"] = float(learning_rate)
    if beta is not None:
        changes["l2"] = float(beta)
    if shuffle is not None:
        changes["shuffle"] = shuffle
    effective = method.value if method is not None else prob.training.method
    if method is not None:
        changes["method"] = effective
        if effective != "minibatch":
            changes["batch_size"] = None
    if batch_size is not None:
        if effective != "minibatch":
            raise ProblemError(f"--batch-size applies to method minibatch only, but the method "
                               f"is {effective}; add --method minibatch")
        changes["batch_size"] = batch_size
    if effective == "minibatch" and batch_size is None and \
            (method is not None and prob.training.batch_size is None):
        raise ProblemError("--method minibatch needs --batch-size")
    return prob.with_training(**changes) if changes else prob


def _train_with_bar(prob, kernel: str, cost_every: Optional[int]):
    from rich.console import Console
    from rich.progress import (BarColumn, MofNCompleteColumn, Progress, TextColumn,
                               TimeElapsedColumn, TimeRemainingColumn)

    from ..maths.training import train

    console = Console(stderr=True)
    columns = (TextColumn("epoch"), MofNCompleteColumn(), BarColumn(),
               TextColumn("cost {task.fields[cost]}"),
               TextColumn("{task.fields[rate]} updates/s"),
               TimeElapsedColumn(), TextColumn("left"), TimeRemainingColumn())
    with Progress(*columns, console=console, transient=False) as bar:
        task = bar.add_task("train", total=prob.training.epochs, cost="…", rate="…")

        def report(p) -> None:
            rate = p.sample_updates / p.seconds if p.seconds > 0 else 0.0
            bar.update(task, completed=p.epoch,
                       cost=f"{p.cost:.4g}" if math.isfinite(p.cost) else "…",
                       rate=f"{rate:.3g}")

        return train(prob, kernel=kernel, progress=report, cost_every=cost_every)


def summary(result, decimals: int = 4, *, chart: bool = True,
            data_note: Optional[str] = None) -> str:
    """The text summary of a run."""
    from ..numfmt import fmt
    from ..render.plot import describe_run, text_chart

    p = result.problem
    t = p.training
    lines: list[str] = []
    if p.title:
        lines.append(p.title)
    lines.append(f"network  {'-'.join(map(str, p.layers))} ({', '.join(p.activations)}), "
                 f"loss {p.loss}")
    data = f"data     {p.samples} training sample{'s' if p.samples != 1 else ''}"
    if p.x_test is not None:
        data += f", {p.x_test.shape[0]} test sample{'s' if p.x_test.shape[0] != 1 else ''}"
    if data_note:
        data += f" ({data_note})"
    lines.append(data)
    lines.append(f"training {describe_run(result, network=False)}"
                 + (f", l2_bias {str(t.l2_bias).lower()}" if t.l2 else "")
                 + (f", shuffled (seed {t.seed})" if t.shuffle else ""))
    rate = result.updates_per_second
    lines.append(f"ran      {result.epochs_run} of {t.epochs} epoch{'s' if t.epochs != 1 else ''}, "
                 f"{result.updates} update{'s' if result.updates != 1 else ''}, "
                 f"{result.sample_updates} sample-updates in {result.seconds:.3g} s "
                 f"({rate:.3g}/s, {result.kernel} kernel)")
    lines.append("")
    lines.append(f"cost           {fmt(result.initial_cost, decimals)} before training, "
                 f"{fmt(result.final_cost, decimals)} after epoch {result.epochs_run}"
                 + (" (L2 term included)" if t.l2 else ""))
    err = f"training error {fmt(result.train_error, decimals)}"
    if result.train_accuracy is not None:
        err += f" (accuracy {100 * result.train_accuracy:.1f}%)"
    lines.append(err)
    if result.test_error is not None:
        err = f"test error     {fmt(result.test_error, decimals)}"
        if result.test_accuracy is not None:
            err += f" (accuracy {100 * result.test_accuracy:.1f}%)"
        lines.append(err)
    lines.append("(errors: mean J over the set, without the L2 term)")
    if chart and len(result.costs) > 1:
        series = [(result.cost_epochs, result.costs, "*")]
        if len(result.test_epochs):
            series.append((result.test_epochs, result.test_errors, "o"))
        lines.append("")
        legend = "cost per epoch, log scale (* training" + \
            (", o test)" if len(result.test_epochs) else ")")
        lines.append(legend)
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


# --------------------------------------------------------------------------- --save


def _yaml_scalar(value: Any) -> str:
    if isinstance(value, bool):
        return "true" if value else "false"
    if isinstance(value, int):
        return str(value)
    if isinstance(value, float):
        if not math.isfinite(value):
            raise ValueError("non-finite number")
        return repr(value)
    if value is None:
        return "null"
    return json.dumps(str(value), ensure_ascii=False)


def _yaml_flow(value: Any) -> str:
    if isinstance(value, dict):
        return "{" + ", ".join(f"{k}: {_yaml_flow(v)}" for k, v in value.items()) + "}"
    if isinstance(value, (list, tuple)):
        return "[" + ", ".join(_yaml_flow(v) for v in value) + "]"
    return _yaml_scalar(value)


def _plain(node: Any) -> Any:
    """A ruamel node as plain dicts, lists and scalars."""
    from collections.abc import Mapping, Sequence

    if isinstance(node, Mapping):
        return {str(k): _plain(v) for k, v in node.items()}
    if isinstance(node, Sequence) and not isinstance(node, str):
        return [_plain(v) for v in node]
    if isinstance(node, bool) or node is None:
        return node
    if isinstance(node, int):
        return int(node)
    if isinstance(node, float):
        return float(node)
    return str(node)


def _relocate_csv(section: dict, source_dir: Path, target_dir: Path) -> None:
    """Rewrite csv file paths (relative to the source file) relative to the new file."""
    for holder in (section, section.get("test") if isinstance(section.get("test"), dict)
                   else None):
        if not holder or "csv" not in holder:
            continue
        node = holder["csv"]
        file_text = node if isinstance(node, str) else node.get("file")
        if not isinstance(file_text, str):
            continue
        resolved = Path(file_text) if Path(file_text).is_absolute() else source_dir / file_text
        try:
            new = os.path.relpath(resolved, target_dir)
        except ValueError:
            new = str(resolved)
        if isinstance(node, str):
            holder["csv"] = new
        else:
            node["file"] = new


def saved_problem(result, root: Any, source_dir: Path, target: Path) -> str:
    """The trained network as a problem file: same network, data and settings, the
    trained weights as its initial weights."""
    p = result.problem
    t = p.training
    name = target.name
    lines = [
        f"# Trained by 'bpnn-steps train': {result.epochs_run} epoch"
        f"{'s' if result.epochs_run != 1 else ''} from {p.source}.",
        "# The weights below are the trained ones.  One update from them, step by step:",
        f"#   bpnn-steps solve {name} --epochs 1",
        "# Train further:",
        f"#   bpnn-steps train {name}",
    ]
    title = p.title or "network"
    if not title.endswith("(trained)"):
        title += " (trained)"
    lines.append(f"title: {_yaml_scalar(title)}")
    lines.append("network:")
    lines.append(f"  layers: {_yaml_flow(list(p.layers))}")
    lines.append(f"  activations: {_yaml_flow(list(p.activations))}")
    lines.append(f"loss: {p.loss}")
    data = _plain(root.get("data")) if root is not None else None
    if isinstance(data, dict):
        _relocate_csv(data, source_dir, target.resolve().parent)
        lines.append("data:")
        for key, value in data.items():
            lines.append(f"  {key}: {_yaml_flow(value)}")
    else:
        lines.append("data:")
        lines.append(f"  x: {_yaml_flow(p.x.tolist())}")
        lines.append(f"  y: {_yaml_flow(p.y.tolist())}")
    lines.append("weights:")
    for n, w in enumerate(result.weights, start=1):
        rows = [_yaml_flow([float(v) for v in row]) for row in w]
        head = f"  W{n}: ["
        lines.append(head + (",\n" + " " * len(head)).join(rows) + "]")
    lines.append("training:")
    lines.append(f"  learning_rate: {_yaml_scalar(float(t.learning_rate))}")
    lines.append(f"  method: {t.method}")
    if t.method == "minibatch":
        lines.append(f"  batch_size: {t.batch_size}")
    lines.append(f"  epochs: {t.epochs}")
    lines.append(f"  l2: {_yaml_scalar(float(t.l2))}")
    lines.append(f"  l2_bias: {_yaml_scalar(t.l2_bias)}")
    lines.append(f"  shuffle: {_yaml_scalar(t.shuffle)}")
    lines.append(f"  seed: {t.seed}")
    return "\n".join(lines) + "\n"
