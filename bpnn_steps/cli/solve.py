"""``bpnn-steps solve FILE``: every step of the training run, as the lecture shows it."""

# No `from __future__ import annotations`: typer reads the command's annotations,
# and as strings it would evaluate them (re-running every typer.Option) on each start.

from collections.abc import Callable, Collection
from pathlib import Path
from typing import TYPE_CHECKING, Annotated, Optional

import typer

from .formats import SOLUTION, Solution, solution, standalone
from .options import (EPOCHS_GIVEN, Format, allow_read_option, decimals_option, epochs_option, format_option,
                      output_option, problem_argument, read_access, round_as_you_go_option,
                      samples_option, samples_spec, show_option, show_spec, shown_updates)
from .output import check_outputs, deliver

if TYPE_CHECKING:
    from ..maths.gradient_check import Verdict


def solve(
    problem: Annotated[str, problem_argument()],
    decimals: Annotated[int, decimals_option()] = 3,
    show: Annotated[str, show_option()] = "auto",
    samples: Annotated[str, samples_option()] = "auto",
    fmt: Annotated[Format, format_option(SOLUTION, "text (tables), json (the full trace, "
                                         "double precision), markdown ($$ maths), "
                                         "latex.")] = Format.text,
    epochs: Annotated[Optional[int], epochs_option()] = None,
    round_as_you_go: Annotated[Optional[int], round_as_you_go_option(
        "Round every intermediate value to D decimals, as a hand calculation does.")] = None,
    output: Annotated[Optional[Path], output_option()] = None,
    exact: Annotated[bool, typer.Option(
        "--exact", help="Also calculate with exact fractions (sympy): inputs are read as "
                        "the decimals they are written as (0.1 = 1/10) and exact values are "
                        "shown beside the decimals.")] = False,
    allow_read: Annotated[Optional[list[Path]], allow_read_option()] = None,
    verify: Annotated[bool, typer.Option(
        "--verify", help="Gradient check: beside each gradient entry, the central "
                         "difference of the cost; exit 1 when the largest relative "
                         "difference exceeds 1e-6.")] = False,
) -> None:
    """Solve a problem and show every step: feed-forward, back-propagation, update."""
    from ..files.problem_file import load_problem
    from ..maths.engine import solve as run
    from ..maths.workload import solve_workload
    from ..present.report import select_steps

    samples_spec(samples)
    check_outputs({"-o": output}, [problem])
    prob = load_problem(problem, access=read_access(allow_read))
    if epochs is not None:
        prob = prob.with_training(EPOCHS_GIVEN, epochs=epochs)
    solve_workload(prob, shown_updates(show), verify=verify)
    trace = run(prob, round_as_you_go=round_as_you_go,
                detailed=None if fmt is Format.json or exact else _detailed(
                    show, prob.training.epochs, standalone(fmt)))
    verdict = None
    if verify:
        from ..maths.gradient_check import verify_run

        trace, verdict = verify_run(prob, trace, rounded=round_as_you_go)
    with show_spec(show):
        select_steps(len(trace.steps), show)
    deliver(solution(Solution(prob, trace, decimals, show, exact, samples), fmt), output)
    if verdict is not None:
        _gradient_check_verdict(verdict, round_as_you_go)


def _gradient_check_verdict(verdict: "Verdict", rounded: Optional[int]) -> None:
    """Say what was checked; exit 1, naming the worst entry, when a gradient fails."""
    from ..maths.gradient_check import TOLERANCE

    how = "" if rounded is None else (f"; ∇ back-propagated without rounding (--round-as-you-go "
                                      f"{rounded} rounds the calculation shown, and a rounded "
                                      "gradient is no derivative of the cost)")
    if not verdict.passes:
        i, j = verdict.entry
        typer.echo(f"bpnn-steps: gradient check failed: update {verdict.update}, "
                   f"W{verdict.layer + 1}[{i},{j}] differs from the central difference of "
                   f"the cost by {verdict.relative:.1e} (relative; at most {TOLERANCE:g} "
                   f"passes){how}", err=True)
        raise typer.Exit(1)
    count = verdict.updates
    typer.echo(f"verified: the gradient of {'the' if count == 1 else f'all {count:,}'} "
               f"update{'s' if count != 1 else ''} agrees with the central differences of "
               f"the cost (largest relative difference {verdict.relative:.1e}; at most "
               f"{TOLERANCE:g} passes){how}", err=True)


def _detailed(show: str, epochs: int, statement: bool) -> Callable[[int], Collection[int]]:
    """Which updates a text, Markdown or LaTeX solution reads in full: the ones shown,
    and the first epoch's when the document states the problem (its data table)."""
    def updates(count: int) -> Collection[int]:
        from ..present.report import select_steps

        with show_spec(show):
            shown = set(select_steps(count, show))
        if statement:
            shown.update(range(1, count // max(epochs, 1) + 1))
        return shown

    return updates
