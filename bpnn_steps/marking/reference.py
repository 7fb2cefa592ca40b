"""What marking needs of a problem's exact solution, whatever the answers.

Marking an answer file compares it with the traced values, with each diagnosable
mistake made consistently from those values, and with hand calculations rounded
to a few decimals.  None of these depends on the student's numbers, so a
:class:`Reference` computes each the first time it is needed and keeps it: a
class's 200 answer files for one problem (or the quality test's mistaken sheets)
compute them once.
"""

from __future__ import annotations

from dataclasses import dataclass

from .diagnose import Mistake, differs, factors_for
from .recompute import Chain, Env, Scenario, kept, scenarios_for, trace_env
from ..model.problem import Problem
from ..model.quantities import Kind, Quantity, answer_quantities, entry_name
from ..model.trace import Trace


@dataclass(frozen=True)
class Candidate:
    """A typical mistake that may explain a wrong number of one quantity."""

    place: int                  # its index in Reference.scenarios
    scenario: Scenario
    code: Mistake               # its name for this quantity


# For each entry (row-major), each candidate mistake with its value made from the
# exact values, or None where that value is the exact one (it explains nothing).
Candidates = list[list[tuple[Candidate, float | None]]]

class Reference:
    """The exact values, the mistaken ones and the hand-rounded ones of one solved
    problem, computed when first asked for (an object, not a frozen record: it
    fills its caches as marking goes)."""

    def __init__(self, problem: Problem, trace: Trace) -> None:
        self.problem = problem
        self.trace = trace
        self.chain = Chain(problem, trace)
        self.scenarios: list[Scenario] = scenarios_for(problem, self.chain.schedule,
                                                       every_convention=True)
        self._exact: dict[int, Env] = {}
        self._mistaken: dict[int, list[Env]] = {}
        self._rounded: dict[tuple[int, int], Env] = {}
        self._positions: dict[Quantity, int] | None = None
        self._names: dict[tuple[Quantity, tuple[int, ...]], str] = {}
        self._factors: dict[tuple[Quantity, int], list[tuple[float, Mistake, str]]] = {}
        # The same values as Python floats, row-major (an entry's flat place): every
        # answer file reads them entry by entry, so each array is converted once.
        self._exact_at: dict[tuple[int, Quantity], list[float]] = {}
        self._mistaken_at: dict[tuple[int, Quantity], list[list[float]]] = {}
        self._rounded_at: dict[tuple[int, int, Quantity], list[float]] = {}
        self._candidates: dict[tuple[int, Quantity], Candidates] = {}

    def positions(self) -> dict[Quantity, int]:
        """The place of every quantity in a worked solution (the lecture's order)."""
        if self._positions is None:
            self._positions = {}
            for u, samples in enumerate(self.chain.schedule, start=1):
                for q in answer_quantities(self.problem.layers, samples, u):
                    self._positions[q] = len(self._positions)
        return self._positions

    def entry_name(self, q: Quantity, index: tuple[int, ...]) -> str:
        """The lecture's name of one entry (every answer file names the same ones)."""
        return kept(self._names, (q, index), lambda: entry_name(q, index, self.chain.depth))

    def factors(self, q: Quantity, batch: int) -> list[tuple[float, Mistake, str]]:
        """:func:`~bpnn_steps.marking.diagnose.factors_for` of ``q``, kept."""
        return kept(self._factors, (q, batch), lambda: factors_for(q, self.problem, batch))

    def exact_at(self, updates: int, q: Quantity) -> list[float]:
        """``exact(updates)[q]`` as floats, row-major."""
        return kept(self._exact_at, (updates, q),
                     lambda: self.exact(updates)[q].ravel().tolist())

    def mistaken_at(self, updates: int, q: Quantity) -> list[list[float]]:
        """``q`` in each of ``mistaken(updates)``, as floats, row-major."""
        return kept(self._mistaken_at, (updates, q),
                     lambda: [env[q].ravel().tolist() for env in self.mistaken(updates)])

    def rounded_at(self, decimals: int, updates: int, q: Quantity) -> list[float]:
        """``rounded(decimals, updates)[q]`` as floats, row-major."""
        return kept(self._rounded_at, (decimals, updates, q),
                     lambda: self.rounded(decimals, updates)[q].ravel().tolist())

    def candidates(self, updates: int, q: Quantity) -> Candidates:
        """The mistakes (each of :attr:`scenarios` but the exact calculation) that
        may explain an entry of ``q``, in the order they are named, with the value
        each gives made from the exact values where it differs from the exact one:
        the same for every answer file, so what a wrong number is compared with is
        sorted out once."""
        def sort_out() -> Candidates:
            named = [Candidate(i, s, s.named_at(q))
                     for i, s in enumerate(self.scenarios) if s.code is not None]
            made = self.mistaken_at(updates, q)
            return [[(c, ref if differs(ref := made[c.place][flat], e) else None)
                     for c in named]
                    for flat, e in enumerate(self.exact_at(updates, q))]

        return kept(self._candidates, (updates, q), sort_out)

    def exact(self, updates: int) -> Env:
        """Every quantity of the first ``updates`` updates, as traced."""
        if updates not in self._exact:
            self._exact[updates] = trace_env(self.trace, updates)
        return self._exact[updates]

    def mistaken(self, updates: int) -> list[Env]:
        """For each of :attr:`scenarios`, every quantity of the first ``updates``
        updates with that mistake made from the exact values; each update starts
        again from the exact weights (a mistake is tried within one update), and its
        new weights are those the mistake gives."""
        if updates not in self._mistaken:
            chain, exact = self.chain, self.exact(updates)
            # Two environments per mistake: what marking compares with (an update's
            # new weights as the mistake makes them), and what the next update is
            # computed from (the exact new weights).
            marked: list[Env] = [{} for _ in self.scenarios]
            working: list[Env] = [{} for _ in self.scenarios]
            # The calculation without a mistake, by the same rules: a mistake that does
            # not act on a quantity whose inputs are this calculation's (the same
            # arrays) gives its value, which is shared rather than worked out again.
            plain: Env = {}
            for u in range(1, updates + 1):
                for q in chain.nodes(u):
                    plain[q] = chain.calc(q, plain)
                    ins = [i for i in chain.inputs(q) if i.update == u]  # the weights
                    for seen, env, s in zip(marked, working, self.scenarios):  # are exact
                        if not chain.acts_on(q.kind, s) and all(env[i] is plain[i] for i in ins):
                            seen[q] = env[q] = plain[q]
                        else:
                            seen[q] = env[q] = chain.calc(q, env, s)
                for n in range(1, chain.depth + 1):
                    q = Quantity(u, Kind.NEW, n)
                    for env in working + [plain]:
                        env[q] = exact[q]
            self._mistaken[updates] = marked
        return self._mistaken[updates]

    def rounded(self, decimals: int, updates: int) -> Env:
        """The first ``updates`` updates of a calculation that rounds every step to
        ``decimals`` decimals."""
        from ..maths.engine import solve, updates_per_epoch

        key = (decimals, updates)
        if key not in self._rounded:
            # Only the whole epochs that hold those updates: the rest of the run is
            # never compared (line_1101_gd's sheet asks for 1 update of 100), and the
            # first epochs are the same whatever follows (shuffles are drawn in order).
            epochs = min(self.problem.training.epochs,
                         -(-updates // updates_per_epoch(self.problem)))
            shorter = (self.problem if epochs == self.problem.training.epochs
                       else self.problem.with_training(epochs=epochs))
            self._rounded[key] = trace_env(solve(shorter, round_as_you_go=decimals), updates)
        return self._rounded[key]
