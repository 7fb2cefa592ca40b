"""``bpnn-steps train FILE``: train over many epochs, then summarise, save, plot."""

# No `from __future__ import annotations`: typer reads the command's annotations,
# and as strings it would evaluate them (re-running every typer.Option) on each start.

import math
import sys
from enum import StrEnum
from pathlib import Path
from typing import TYPE_CHECKING, Annotated, Any, Optional

import typer

from ..errors import ExitCode, ProblemError
from .boundary import exit_with
from .formats import TRAINING, Training
from .options import (Format, allow_read_option, decimals_option, epochs_option,
                      format_option, number_option, output_option, path_parser,
                      problem_argument, read_access)
from .output import check_outputs, deliver, say

if TYPE_CHECKING:
    from ..maths.training import TrainResult
    from ..model.problem import Problem


class Method(StrEnum):
    batch = "batch"
    sgd = "sgd"
    minibatch = "minibatch"


class KernelChoice(StrEnum):
    auto = "auto"
    compiled = "compiled"
    numpy = "numpy"


PLOT_SUFFIXES = (".png", ".svg", ".pdf")


def train(
    problem: Annotated[str, problem_argument()],
    epochs: Annotated[Optional[int], epochs_option()] = None,
    learning_rate: Annotated[Optional[float], number_option(
        "--learning-rate", "--lr", "-l", positive=True,
        help="Override training.learning_rate (lambda).")] = None,
    method: Annotated[Optional[Method], typer.Option(
        "--method", "-m", help="Override training.method.")] = None,
    batch_size: Annotated[Optional[int], typer.Option(
        "--batch-size", "-b", min=1, help="Override training.batch_size (minibatch).")] = None,
    beta: Annotated[Optional[float], number_option(
        "--beta", "--l2", help="Override training.l2 (the L2 weight beta).")] = None,
    seed: Annotated[Optional[int], typer.Option(
        "--seed", min=0, help="Override training.seed (shuffling and random initial "
                              "weights).")] = None,
    shuffle: Annotated[Optional[bool], typer.Option(
        "--shuffle/--no-shuffle", help="Override training.shuffle.")] = None,
    save: Annotated[Optional[Path], typer.Option(
        "--save", parser=path_parser("--save"), help="Write the trained network as a problem file (solve or train it "
                       "further).")] = None,
    plot: Annotated[Optional[Path], typer.Option(
        "--plot", parser=path_parser("--plot"), help="Draw the fit or decision boundary and the cost per epoch into "
                       "FILE.png, .svg or .pdf.")] = None,
    fmt: Annotated[Format, format_option(TRAINING, "text (a summary) or json (cost history "
                                         "and final weights, double "
                                         "precision).")] = Format.text,
    output: Annotated[Optional[Path], output_option(
        "Write the summary or JSON to this file (atomically) instead of standard "
        "output.")] = None,
    decimals: Annotated[int, decimals_option("Decimals shown in the summary.")] = 4,
    cost_every: Annotated[Optional[int], typer.Option(
        "--cost-every", min=1, help="Record the cost every K epochs (default: every epoch "
                                    "unless that would slow a long run by more than a "
                                    "twentieth).")] = None,
    kernel: Annotated[KernelChoice, typer.Option(
        "--kernel", help="auto (compiled for long runs), compiled, or numpy (the step "
                         "engine's own functions).")] = KernelChoice.auto,
    progress: Annotated[Optional[bool], typer.Option(
        "--progress/--no-progress", help="Progress bar on standard error (default: only "
                                         "when it is a terminal).")] = None,
    allow_read: Annotated[Optional[list[Path]], allow_read_option()] = None,
) -> None:
    """Train over many epochs (batch GD, SGD or mini-batch), then summarise, save and plot."""
    from ..files.problem_file import read_problem_document
    from ..maths.training import train as run

    if plot is not None and plot.suffix.lower() not in PLOT_SUFFIXES:
        raise ProblemError(f"--plot: {plot} must end in .png, .svg or .pdf")
    # before training, not after it: nothing is lost
    check_outputs({"--save": save, "--plot": plot, "-o": output}, [problem])
    document = read_problem_document(problem, seed=seed, access=read_access(allow_read))
    prob = _with_overrides(document.problem, epochs=epochs, learning_rate=learning_rate,
                           method=method, batch_size=batch_size, beta=beta, shuffle=shuffle)
    show_progress = progress if progress is not None else sys.stderr.isatty()
    if show_progress:
        result = _train_with_bar(prob, kernel, cost_every)
    else:
        result = run(prob, kernel=kernel.value, cost_every=cost_every)
    written: list[str] = []         # what an interrupted run wrote, for its message
    if save is not None:
        from ..files.problem_writer import saved_problem
        from ..files.textio import write_atomic

        write_atomic(save, saved_problem(result, document, save))
        say(f"wrote {save}")
        written.append(str(save))
    if plot is not None:
        from ..render.plot import save_plot

        generator = document.generator
        save_plot(result, plot, generator.true_function() if generator else None)
        say(f"wrote {plot}")
        written.append(str(plot))
    deliver(TRAINING[fmt](Training(result, document.generator, decimals, chart=plot is None)),
            output)
    if result.interrupted:
        written.append(str(output) if output is not None else "the results to standard output")
        say(f"bpnn-steps: interrupted at epoch {result.epochs_run} of "
            f"{prob.training.epochs}; wrote {', '.join(written)} (the results so far)")
        exit_with(ExitCode.INTERRUPTED)


def _with_overrides(prob: "Problem", *, epochs: Optional[int], learning_rate: Optional[float],
                    method: Optional[Method], batch_size: Optional[int], beta: Optional[float],
                    shuffle: Optional[bool]) -> "Problem":
    """The problem with the training settings given on the command line (each
    named by its option in the messages about its value)."""
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
        if effective != Method.minibatch:
            changes["batch_size"] = None
    if shuffle and effective == Method.batch:
        # one update over all the data: the order of its samples changes nothing
        raise ProblemError("--shuffle applies to methods sgd and minibatch only, but the "
                           "method is batch; add --method sgd or --method minibatch")
    if batch_size is not None:
        if effective != Method.minibatch:
            raise ProblemError(f"--batch-size applies to method minibatch only, but the method "
                               f"is {effective}; add --method minibatch")
        changes["batch_size"] = batch_size
    if effective == Method.minibatch and batch_size is None and \
            (method is not None and prob.training.batch_size is None):
        raise ProblemError("--method minibatch needs --batch-size")
    given_by = {key: OPTION_OF[key] for key in changes}
    return prob.with_training(given_by, **changes) if changes else prob


# The option that overrides each training key.
OPTION_OF = {"epochs": "--epochs", "learning_rate": "--learning-rate", "l2": "--beta",
             "shuffle": "--shuffle", "method": "--method", "batch_size": "--batch-size"}


def _train_with_bar(prob: "Problem", kernel: KernelChoice, cost_every: Optional[int]
                    ) -> "TrainResult":
    """The run with a progress bar on stderr: epochs, cost, updates per second."""
    from rich.console import Console
    from rich.progress import (BarColumn, MofNCompleteColumn, Progress, TextColumn,
                               TimeElapsedColumn, TimeRemainingColumn)

    from ..maths.training import Progress as Report
    from ..maths.training import train as run

    console = Console(stderr=True)
    columns = (TextColumn("epoch"), MofNCompleteColumn(), BarColumn(),
               TextColumn("cost {task.fields[cost]}"),
               TextColumn("{task.fields[rate]} updates/s"),
               TimeElapsedColumn(), TextColumn("left"), TimeRemainingColumn())
    with Progress(*columns, console=console, transient=False) as bar:
        task = bar.add_task("train", total=prob.training.epochs, cost="…", rate="…")

        def report(p: "Report") -> None:
            rate = p.sample_updates / p.seconds if p.seconds > 0 else 0.0
            bar.update(task, completed=p.epoch,
                       cost=f"{p.cost:.4g}" if math.isfinite(p.cost) else "…",
                       rate=f"{rate:.3g}")

        return run(prob, kernel=kernel.value, progress=report, cost_every=cost_every)
