"""Every registered activation and loss through every backend.

The networks are built from the registries (never from a hand-written list of
names), so a new record is tested by adding it:

* the engine's per-sample gradients against central finite differences of an
  independent numpy forward pass (helpers.np_sample_loss, which does not import
  bpnn_steps);
* ``solve --exact`` against the engine;
* ``derive --verify``: the chain-rule derivation against the central difference of the
  cost written directly;
* the compiled kernel (one sample per update, and large batches in blocks)
  against the step engine, to 1e-12;
* formula answers: the derivation written as a student would in the answer
  grammar is marked correct, wrong ones are marked wrong with the right cause;
* the records' own facts (range, grammar functions, texts, rules) against their
  numpy value.

The last part takes each record apart: a copy with one part replaced by a wrong or
absent implementation (``Record._replace``) must fail the check of that part,
and a record with a part missing cannot be built at all.
"""

from __future__ import annotations

import dataclasses
import math
import textwrap
from dataclasses import dataclass
from fractions import Fraction
from pathlib import Path

import numpy as np
import pytest

import helpers
from bpnn_steps.maths import engine, exact, symbolic
from bpnn_steps.maths.activations import (ACTIVATIONS, Unitwise,
                                          hidden_names)
from bpnn_steps.maths.losses import LOSSES, Cancels, Loss
from bpnn_steps.maths.record import Record
from bpnn_steps.maths.tree import (Const, Diff, NegExp, Node, One, Prod, Ref, Square, Step, Sum,
                                   Var)
from bpnn_steps.model.problem import Problem, Training

RTOL = 1e-12        # compiled kernel vs engine, as tests/test_train_engine.py has it


# --------------------------------------------------------------------------- cases


@dataclass(frozen=True)
class Case:
    """A valid network for one record: ``acts`` with ``loss``."""

    id: str
    layers: tuple[int, ...]
    acts: tuple[str, ...]
    loss: str


def _hidden(name: str) -> str:
    """``name`` where a hidden layer may use it, else the first that may."""
    return hidden_names()[0] if ACTIVATIONS[name].output_only else name


def _loss_for(output: str) -> str:
    """The first loss that accepts ``output`` as the output activation."""
    return next(n for n, l in LOSSES.items() if l.output_activation in (None, output))


def _output_for(loss: Loss) -> str:
    return loss.output_activation or hidden_names()[-1]


def activation_cases(depth: int) -> list[Case]:
    """Each activation in two hidden layers and at the output (deeper nets), or in
    one hidden layer and at the output."""
    out = []
    for name in ACTIVATIONS:
        h = _hidden(name)
        layers = (1, 2, 2, 2) if depth == 3 else (1, 2, 2)
        acts = (h, h, name) if depth == 3 else (h, name)
        out.append(Case(f"activation-{name}", layers, acts, _loss_for(name)))
    return out


def loss_cases(depth: int) -> list[Case]:
    out = []
    for name, loss in LOSSES.items():
        h = hidden_names()[-1]
        layers = (1, 2, 2, 2) if depth == 3 else (1, 2, 2)
        acts = (h, h, _output_for(loss)) if depth == 3 else (h, _output_for(loss))
        out.append(Case(f"loss-{name}", layers, acts, name))
    return out


def exact_cases() -> list[Case]:
    """Small networks, so that exact values stay short enough to be shown: each
    activation at the output of a single layer and as the hidden layer before an
    identity output; each loss on a single layer."""
    identity = next(n for n, a in ACTIVATIONS.items() if a.identity)
    out = []
    for name, act in ACTIVATIONS.items():
        out.append(Case(f"activation-{name}-output", (1, 2), (name,), _loss_for(name)))
        if not act.output_only:
            out.append(Case(f"activation-{name}-hidden", (1, 1, 1), (name, identity), "mse"))
    for name, loss in LOSSES.items():
        out.append(Case(f"loss-{name}", (1, 2), (_output_for(loss),), name))
    return out


CASES = activation_cases(3) + loss_cases(3)
SMALL_CASES = exact_cases()


def _ids(cases: list[Case]) -> list[str]:
    return [c.id for c in cases]


def random_problem(case: Case, *, samples: int, method: str, epochs: int, seed: int = 0,
                   decimals: int | None = None) -> Problem:
    """Random data with targets that every loss accepts (probabilities: each in
    [0, 1], each row summing to 1); ``decimals`` rounds every input."""
    rng = np.random.default_rng(seed)
    n, k = case.layers[0], case.layers[-1]
    x = rng.normal(size=(samples, n))
    y = rng.dirichlet(np.ones(k), size=samples)
    weights = tuple(rng.uniform(-0.9, 0.9, size=(a + 1, b))
                    for a, b in zip(case.layers[:-1], case.layers[1:]))
    if decimals is not None:
        x = np.round(x, decimals)
        y[:, :-1] = np.round(y[:, :-1], decimals)
        y[:, -1] = np.round(1.0 - y[:, :-1].sum(axis=1), decimals)
        weights = tuple(np.round(w, decimals) for w in weights)
    return Problem(layers=case.layers, activations=case.acts, loss=case.loss, x=x, y=y,
                   weights=weights,
                   training=Training(learning_rate=0.3, method=method, batch_size=None,
                                     epochs=epochs, l2=0.0, l2_bias=True, shuffle=False,
                                     seed=seed))


# --------------------------------------------------------------------------- the checks
# Each raises AssertionError when the record disagrees; the mutation tests below call
# them with a record taken apart.


def check_engine_against_finite_differences(case: Case) -> None:
    """Engine J and per-sample gradients vs an independent numpy forward pass."""
    p = random_problem(case, samples=4, method="batch", epochs=1, seed=1)
    for t in range(p.samples):
        x, y = p.x[t:t + 1], p.y[t:t + 1]
        zs, acts = engine.feed_forward(p.weights, x, case.acts)
        j = engine.sample_losses(zs[-1], acts[-1], y, case.loss)[0]
        assert math.isclose(j, helpers.np_sample_loss(p.weights, x[0], y[0], case.acts,
                                                      case.loss), rel_tol=1e-12, abs_tol=1e-14)
        grads = engine.back_propagate(p.weights, x, y, zs, acts, case.acts, case.loss)[3]
        want = helpers.fd_gradients(p.weights, x[0], y[0], case.acts, case.loss)
        for got, ref in zip(grads, want):
            assert np.allclose(got[0], ref, rtol=1e-6, atol=1e-7), (got[0], ref)


def check_exact_against_engine(case: Case) -> None:
    """solve --exact: every exact value (read as a float) equals the engine's."""
    p = random_problem(case, samples=2, method="batch", epochs=1, seed=2, decimals=1)
    if not ACTIVATIONS[case.acts[-1]].elementwise:
        # exp(z1) / (exp(z1) + exp(z2)) is too long to show unless z1 = z2 (then 1/2):
        # equal columns keep the Jacobian's exact product short
        last = np.repeat(p.weights[-1][:, :1], case.layers[-1], axis=1)
        p = dataclasses.replace(p, weights=(*p.weights[:-1], last))
    trace = engine.solve(p)
    ex = exact.exact_steps(p, trace, 1)[0]
    step = trace.steps[0]
    compared = 0

    def same(value, number: float) -> None:
        nonlocal compared
        if value is not None:
            compared += 1
            assert math.isclose(float(value), float(number), rel_tol=1e-9, abs_tol=1e-12), \
                (value, number)

    for s, f, b in zip(ex.samples, step.forward, step.backward):
        assert all(v is not None for v in s.a[0]), "the first layer's values are not exact"
        for n in range(len(s.a)):
            for v, w in zip(s.z[n], f.z[n]):
                same(v, w)
            for v, w in zip(s.a[n], f.a[n]):
                same(v, w)
        same(s.loss, f.loss)
        for n, g in enumerate(s.grad):
            for i, row in enumerate(g):
                for j, v in enumerate(row):
                    same(v, b.grad[n][i, j])
    # every gradient passes through f' (or the Jacobian) of each layer
    assert all(v is not None for s in ex.samples for g in s.grad for row in g for v in row), \
        "a gradient is too long to compare"
    assert compared > 10


def check_derive_verify(case: Case) -> None:
    checked, bad = symbolic.check_with_sympy(case.layers, case.acts, case.loss, points=2)
    assert checked > 0 and not bad, bad


def check_kernel_against_engine(case: Case, mode: str) -> None:
    """train --kernel compiled vs the step engine over whole runs."""
    from bpnn_steps.maths.training import kernel_mode, train
    from test_train_engine import assert_same_run, compact_solve

    if mode == "sample":
        p = random_problem(case, samples=8, method="sgd", epochs=3, seed=3)
    else:
        p = random_problem(case, samples=1100, method="batch", epochs=2, seed=4)
    assert kernel_mode(p) == mode
    result = train(p, kernel="compiled", cost_every=1)
    assert result.kernel == "compiled"
    assert_same_run(result, compact_solve(p), p, RTOL)


def grammar(node: Node, depth: int) -> str:
    """A derivation tree written as a student would in the answer-file grammar."""
    def g(nd: Node) -> str:
        if isinstance(nd, Var):
            return symbolic.symbol_name(nd, depth)
        if isinstance(nd, One):
            return "1"
        if isinstance(nd, Const):
            return nd.text
        if isinstance(nd, Sum):
            return "(" + " + ".join(g(t) for t in nd.terms) + ")"
        if isinstance(nd, Diff):
            return f"({g(nd.left)} - {g(nd.right)})"
        if isinstance(nd, Prod):
            return "(" + "*".join(g(f) for f in nd.factors) + ")"
        if isinstance(nd, Square):
            return f"{g(nd.base)}^2"
        if isinstance(nd, NegExp):
            return f"exp(-{g(nd.base)})"
        if isinstance(nd, Step):
            step = f"step({g(nd.unit)})"
            return step if nd.above else f"(1 - {step})"
        raise AssertionError(f"no formula for {nd!r} (a new node needs a spelling here)")
    assert not isinstance(node, Ref)
    return g(node)


def _yaml_matrix(m: np.ndarray) -> str:
    return "[" + ", ".join("[" + ", ".join(repr(float(v)) for v in row) + "]" for row in m) + "]"


def problem_yaml(p: Problem) -> str:
    weights = "\n".join(f"  W{n}: {_yaml_matrix(w)}" for n, w in enumerate(p.weights, start=1))
    return textwrap.dedent(f"""\
        network:
          layers: {list(p.layers)}
          activations: [{", ".join(p.activations)}]
        loss: {p.loss}
        data:
          x: {_yaml_matrix(p.x)}
          y: {_yaml_matrix(p.y)}
        weights:
        """) + weights + textwrap.dedent(f"""
        training:
          learning_rate: {p.training.learning_rate}
          method: {p.training.method}
          epochs: 1
        """)


def mark_formulas(tmp: Path, case: Case, layer: int, cells: list[list[str]]):
    from bpnn_steps.marking.marker import check_file

    p = random_problem(case, samples=2, method="batch", epochs=1, seed=5, decimals=2)
    prob = tmp / "problem.yaml"
    prob.write_text(problem_yaml(p), encoding="utf-8")
    rows = "\n".join("    - [" + ", ".join(f'"{c}"' for c in row) + "]" for row in cells)
    answers = tmp / "answers.yaml"
    answers.write_text(f"problem: {prob.name}\nanswers:\n  grad W[{layer}](t):\n{rows}\n",
                       encoding="utf-8")
    result = check_file(answers)
    return [e for e in result.entries if e.update is None]


def check_formula_answers(case: Case, tmp: Path) -> None:
    """The derivation of grad W[1](t), written in the grammar, is marked correct; its
    negative is a sign slip; twice it is a missing ½ exactly when J has the ½."""
    d = symbolic.derive(case.layers, case.acts, case.loss)
    entries = d.layer[0].entries
    right = [[grammar(e, d.depth) for e in row] for row in entries]
    marks = mark_formulas(tmp, case, 1, right)
    assert len(marks) == sum(len(r) for r in right)
    assert all(m.mark == "correct" for m in marks), [(m.name, m.message) for m in marks]
    marks = mark_formulas(tmp, case, 1, [[f"-{c}" for c in row] for row in right])
    assert all(m.mark == "wrong" and m.cause == "sign" for m in marks), \
        [(m.name, m.message) for m in marks]
    marks = mark_formulas(tmp, case, 1, [[f"2*{c}" for c in row] for row in right])
    want = "missing-1/2" if LOSSES[case.loss].half else "constant-factor"
    assert all(m.mark == "wrong" and m.cause == want for m in marks), \
        [(m.name, m.cause, m.message) for m in marks]


def check_missing_derivative_diagnosis(name: str, tmp: Path) -> None:
    """A hidden-layer formula without f' is diagnosed as such, f' written in the
    unit's value (σ: h(1 − h), relu: [h > 0], which is 0 at the points where the
    gradient is); the derivation of the network with that layer made linear is
    exactly that formula."""
    form = ACTIVATIONS[name].form
    if ACTIVATIONS[name].output_only:
        return                                # never in a hidden layer
    case = Case("diagnosis", (1, 2, 1), (_hidden(name), hidden_names()[0]), "mse")
    identity = next(n for n, a in ACTIVATIONS.items() if a.identity)
    d = symbolic.derive(case.layers, (identity, case.acts[1]), case.loss)
    without = [[grammar(e, d.depth) for e in row] for row in d.layer[0].entries]
    marks = mark_formulas(tmp, case, 1, without)
    missing = [m.cause == "missing-derivative" for m in marks]
    if isinstance(form, Unitwise) and not ACTIVATIONS[name].identity:
        assert all(missing), [(m.name, m.cause, m.message) for m in marks]
        assert all(ACTIVATIONS[name].derivative_unicode(f"h{m.index[1] + 1}") in m.message
                   for m in marks), [m.message for m in marks]
    else:
        assert not any(missing)


def check_record_facts(name: str) -> None:
    """What a record says about f against its numpy value (and its other forms)."""
    act = ACTIVATIONS[name]
    z = np.concatenate([np.linspace(-15, 15, 121), [-1e-9, 0.0, 1e-9]])
    layer = z.reshape(-1, 2) if not act.elementwise else z
    a = act.value(layer).ravel()
    # range: f's own values are never "impossible"; values beyond a finite bound are
    assert not act.range.excludes(a[np.isfinite(a)], False)
    for bound, is_open, step in ((act.range.low, act.range.low_open, -1),
                                 (act.range.high, act.range.high_open, 1)):
        if math.isfinite(bound):
            assert act.range.excludes(np.array([bound + step * 0.5]), False)
            assert act.range.excludes(np.array([bound]), False) == is_open
    assert act.range.text.startswith(name)
    assert act.identity == bool(np.array_equal(a, z))
    assert act.symbol or act.identity
    # grammar: each name of each function is f itself, as a float and in sympy
    import sympy

    from bpnn_steps.maths.formula import _evaluate, parse, to_sympy

    sym = {"x1": sympy.Symbol("x1", real=True)}
    for function in act.formula_functions:
        for fname in function.names:
            formula = parse(f"{fname}(x1)", ["x1"])
            expr = to_sympy(formula, sym)
            for v in (-2.5, -0.3, 0.0, 0.4, 3.0):
                want = float(act.value(np.array([v]))[0])
                assert math.isclose(_evaluate(formula.root, {"x1": v}), want,
                                     rel_tol=1e-12, abs_tol=1e-15), (fname, v)
                got = expr.xreplace({sym["x1"]: sympy.Rational(Fraction(v).numerator,
                                                               Fraction(v).denominator)})
                assert math.isclose(float(got), want, rel_tol=1e-12, abs_tol=1e-15), (fname, v)
    if not act.elementwise:
        assert act.output_only and act.min_units >= 2   # its delta is not error ⊙ H_d
        return
    form = act.unitwise
    # of_value: f' written in f's own values (on both sides of z = 0) is f' there
    zz = np.array([-1.5, -0.5, 0.0, 0.5, 2.0])
    h = act.value(zz)
    assert np.array_equal(form.of_value(h), form.derivative(zz, h))
    # the derivative jumps at z = 0 exactly when z is snapped to 0 there
    jump = abs(float(form.derivative(np.array([1e-9]), act.value(np.array([1e-9])))[0]
                     - form.derivative(np.array([-1e-9]), act.value(np.array([-1e-9])))[0]))
    assert act.snaps_zero == (jump > 1e-3)
    # a constant slope below 0 other than 0 and 1 is a convention the solution names
    below = form.derivative(np.array([-2.0, -0.5]), act.value(np.array([-2.0, -0.5])))
    if below[0] == below[1] and below[0] not in (0.0, 1.0):
        assert f"{below[0]:g}" in act.convention
    # the derivative's texts are its tree, printed without indices
    tree = form.tree(Var("h", (1,)), 1, 1)
    if tree is None:
        assert form.text == "1" and form.latex == "1"
    else:
        text = symbolic.to_unicode(tree).replace("₁", "").replace("⁽¹⁾", "")
        assert form.text.replace("{h}", "h") == text
        tex = symbolic.to_latex(tree, None).replace("_{1}", "").replace("^{[1]}", "")
        assert form.latex.replace("{h}", "h") == tex
    assert form.explanation.startswith((f"{act.symbol}′(z)", f"{name}′(z)"))


def check_loss_facts(name: str) -> None:
    """What a loss record says about its targets against its value and rules."""
    loss = LOSSES[name]
    rng = np.random.default_rng(6)
    y = np.array([loss.draw_targets(rng, 3) for _ in range(20)])
    assert not np.any(loss.bad_targets(y))
    z = rng.normal(size=(20, 3))
    out = ACTIVATIONS[loss.output_activation or hidden_names()[0]].value(z)
    half_squares = 0.5 * np.sum((out - y) ** 2, axis=1)
    assert loss.half == bool(np.allclose(loss.value(z, out, y), half_squares))
    if not loss.classification:
        assert loss.accuracy(out, y) is None and loss.z_from_output(out) is None
        return
    assert np.all(loss.bad_targets(np.array([[2.0, -1.0, 0.0]])))
    assert loss.targets_message.startswith(name)
    one_hot = np.eye(3)[rng.integers(0, 3, size=20)]
    assert loss.accuracy(one_hot, one_hot) == 1.0 and loss.accuracy(1 - one_hot, one_hot) == 0.0
    # J is read from z: the z a student's ŷ implies gives the same J as the engine's z
    z_back = loss.z_from_output(out)
    assert z_back is not None
    assert np.allclose(loss.value(z_back, out, y), loss.value(z, out, y), rtol=1e-10)
    assert isinstance(loss.output, Cancels) == (loss.output_activation is not None)


# --------------------------------------------------------------------------- the tests


@pytest.mark.parametrize("case", CASES, ids=_ids(CASES))
def test_engine_gradients_equal_finite_differences(case: Case) -> None:
    check_engine_against_finite_differences(case)


@pytest.mark.parametrize("case", SMALL_CASES, ids=_ids(SMALL_CASES))
def test_exact_values_equal_the_engine(case: Case) -> None:
    check_exact_against_engine(case)


@pytest.mark.parametrize("case", CASES, ids=_ids(CASES))
def test_derive_verify_agrees_with_sympy(case: Case) -> None:
    check_derive_verify(case)


KERNEL_CASES = [(c, mode) for c in activation_cases(3) for mode in ("sample", "blocked")] + \
    [(c, "sample") for c in loss_cases(3)]


@pytest.mark.parametrize("case,mode", KERNEL_CASES,
                         ids=[f"{c.id}-{m}" for c, m in KERNEL_CASES])
def test_compiled_kernel_equals_the_engine(case: Case, mode: str) -> None:
    pytest.importorskip("numba")
    check_kernel_against_engine(case, mode)


@pytest.mark.parametrize("case", CASES, ids=_ids(CASES))
def test_formula_answers_are_marked_by_the_derivation(case: Case, tmp_path: Path) -> None:
    check_formula_answers(case, tmp_path)


@pytest.mark.parametrize("case", SMALL_CASES, ids=_ids(SMALL_CASES))
def test_numbers_of_an_independent_calculation_score_full_marks(
        case: Case, tmp_path: Path, monkeypatch: pytest.MonkeyPatch) -> None:
    """check: the blank template filled with helpers.ref_solve's numbers (a scalar
    calculation that does not use bpnn_steps) is all right."""
    import json

    from ruamel.yaml import YAML
    from typer.testing import CliRunner

    import test_answers
    from bpnn_steps.cli import app

    p = random_problem(case, samples=2, method="batch", epochs=1, seed=7, decimals=2)
    (tmp_path / "problem.yaml").write_text(problem_yaml(p), encoding="utf-8")
    monkeypatch.chdir(tmp_path)
    runner = CliRunner()
    template = runner.invoke(app, ["check", "--template", "problem.yaml"]).stdout
    ref = helpers.ref_solve(**helpers.problem_from_yaml(helpers.read_yaml("problem.yaml")))
    keys = YAML(typ="safe", pure=True).load(template)["answers"]
    values = {(1, key): test_answers._reference_value(ref["steps"][0], key, len(p.layers) - 1)
              for key in keys}
    (tmp_path / "answers.yaml").write_text(test_answers._fill(template, values),
                                           encoding="utf-8")
    marked = json.loads(runner.invoke(app, ["check", "answers.yaml", "--format", "json"]).stdout)
    assert marked["all_right"] and marked["score"]["total"] > 5, marked["score"]


@pytest.mark.parametrize("name", list(ACTIVATIONS))
def test_formula_without_the_derivative_is_diagnosed(name: str, tmp_path: Path) -> None:
    check_missing_derivative_diagnosis(name, tmp_path)


@pytest.mark.parametrize("name", list(ACTIVATIONS))
def test_activation_record_facts(name: str) -> None:
    check_record_facts(name)


@pytest.mark.parametrize("name", list(LOSSES))
def test_loss_record_facts(name: str) -> None:
    check_loss_facts(name)


def test_unknown_names_are_errors_not_fallbacks() -> None:
    with pytest.raises(KeyError, match="unknown activation 'softsign'; expected one of"):
        ACTIVATIONS["softsign"]
    with pytest.raises(KeyError, match="unknown loss 'hinge'"):
        LOSSES["hinge"]
    with pytest.raises(ValueError, match="unknown activation"):
        symbolic.derive((1, 1), ("softsign",))


def test_every_activation_is_documented() -> None:
    """The notation page and the `new` template list every activation."""
    from bpnn_steps.files.problem_template import TEMPLATE

    readme = (helpers.REPO / "docs" / "notation.md").read_text(encoding="utf-8")
    for name, act in ACTIVATIONS.items():
        assert name in TEMPLATE, name
        assert f"`{name}`" in readme, name
        if act.elementwise:
            assert act.unitwise.text.replace("{h}", "h") in readme, name


def test_conventions_line_names_the_activations_conventions() -> None:
    from bpnn_steps.present.report import conventions

    for name, act in ACTIVATIONS.items():
        if act.convention:
            case = next(c for c in activation_cases(2) if c.acts[-1] == name)
            p = random_problem(case, samples=1, method="batch", epochs=1)
            assert act.convention in conventions(engine.solve(p))


# --------------------------------------------------------------------------- taken apart


# A representative record of each kind, chosen from the registry by what it has.
UNIT = next(n for n, a in ACTIVATIONS.items()
            if a.elementwise and not a.identity and a.unitwise.kernel.finish("z", "e", "a")
            and a.formula_functions)
LAYER = next(n for n, a in ACTIVATIONS.items() if not a.elementwise)
THROUGH = next(n for n, l in LOSSES.items() if not l.cancels)
CANCEL = next(n for n, l in LOSSES.items() if l.cancels)


def _unit_case() -> Case:
    return next(c for c in CASES if c.id == f"activation-{UNIT}")


def _verify_small(name: str) -> None:
    """derive --verify of every small case that uses activation ``name``."""
    for case in SMALL_CASES:
        if case.id.startswith(f"activation-{name}-"):
            check_derive_verify(case)


def _check_exact_of(name: str) -> None:
    """The exact check of every small case that uses activation ``name``."""
    for case in SMALL_CASES:
        if case.id.startswith(f"activation-{name}-"):
            check_exact_against_engine(case)


def _layer_case() -> Case:
    return next(c for c in CASES if c.id == f"activation-{LAYER}")


def _loss_case(name: str) -> Case:
    return next(c for c in CASES if c.id == f"loss-{name}")


def _small_loss_case(name: str) -> Case:
    return next(c for c in SMALL_CASES if c.id == f"loss-{name}")


def _replace(record, path: str, value):
    head, _, rest = path.partition(".")
    if not rest:
        return record._replace(**{head: value})
    return record._replace(**{head: _replace(getattr(record, head), rest, value)})


def _get(record, path: str):
    for part in path.split("."):
        record = getattr(record, part)
    return record


def _tree_wrong(fn):
    return lambda *a: Prod((Const("2", Fraction(2)), fn(*a)))


# (kind, record, part, wrong implementation from the right one, the check that fails)
MUTATIONS = [
    ("activation", UNIT, "value", lambda f: lambda z: f(z) * 1.01,
     lambda tmp: check_engine_against_finite_differences(_unit_case())),
    ("activation", UNIT, "form.derivative", lambda f: lambda z, a: f(z, a) * 1.01,
     lambda tmp: check_engine_against_finite_differences(_unit_case())),
    ("activation", UNIT, "form.exact", lambda f: lambda z, zf, op: op(lambda v: 2 * v, f(z, zf, op)),
     lambda tmp: _check_exact_of(UNIT)),
    ("activation", UNIT, "form.exact_derivative",
     lambda f: lambda a, z, zf, op: op(lambda v: 2 * v, f(a, z, zf, op)),
     lambda tmp: _check_exact_of(UNIT)),
    ("activation", UNIT, "form.sympy", lambda f: lambda z: 2 * f(z),
     lambda tmp: _verify_small(UNIT)),
    ("activation", UNIT, "form.tree", _tree_wrong,
     lambda tmp: _verify_small(UNIT)),
    ("activation", UNIT, "form.of_value", lambda f: lambda a: f(a) * 1.01,
     lambda tmp: check_record_facts(UNIT)),
    ("activation", UNIT, "form.text", lambda f: f + " ",
     lambda tmp: check_record_facts(UNIT)),
    ("activation", UNIT, "form.latex", lambda f: "2" + f,
     lambda tmp: check_record_facts(UNIT)),
    ("activation", UNIT, "form.explanation", lambda f: "",
     lambda tmp: check_record_facts(UNIT)),
    ("activation", UNIT, "form.kernel.value", lambda f: lambda z, a: f(z, a) + f"\n{a} *= 1.01",
     lambda tmp: check_kernel_against_engine(_unit_case(), "sample")),
    ("activation", UNIT, "form.kernel.derivative", lambda f: lambda z, a: f"1.01 * {f(z, a)}",
     lambda tmp: check_kernel_against_engine(_unit_case(), "sample")),
    ("activation", UNIT, "form.kernel.stage", lambda f: lambda z, e, a: f(z, e, a) + " * 1.01",
     lambda tmp: check_kernel_against_engine(_unit_case(), "blocked")),
    ("activation", UNIT, "form.kernel.between", lambda f: lambda z, e, a: None,
     lambda tmp: check_kernel_against_engine(_unit_case(), "blocked")),
    ("activation", UNIT, "form.kernel.finish",
     lambda f: lambda z, e, a: f(z, e, a) + f"\n{a} = {a} * 1.01",
     lambda tmp: check_kernel_against_engine(_unit_case(), "blocked")),
    ("activation", UNIT, "formula_functions",
     lambda f: tuple(fn._replace(float_value=lambda v: 2.0 * v) for fn in f),
     lambda tmp: check_record_facts(UNIT)),
    ("activation", UNIT, "range", lambda r: r._replace(low=0.5),
     lambda tmp: check_record_facts(UNIT)),
    ("activation", UNIT, "identity", lambda f: not f, lambda tmp: check_record_facts(UNIT)),
    ("activation", UNIT, "snaps_zero", lambda f: not f, lambda tmp: check_record_facts(UNIT)),
    ("activation", UNIT, "symbol", lambda f: "", lambda tmp: check_record_facts(UNIT)),
    ("activation", LAYER, "value", lambda f: lambda z: f(z * 1.01),
     lambda tmp: check_engine_against_finite_differences(_layer_case())),
    ("activation", LAYER, "form.jacobian_product", lambda f: lambda a, e: f(a, e) * 1.01,
     lambda tmp: check_engine_against_finite_differences(_layer_case())),
    ("activation", LAYER, "form.exact", lambda f: lambda z, op: [op(lambda v: 2 * v, v)
                                                                 for v in f(z, op)],
     lambda tmp: _check_exact_of(LAYER)),
    ("activation", LAYER, "form.exact_product",
     lambda f: lambda a, e, op: [op(lambda v: 2 * v, v) for v in f(a, e, op)],
     lambda tmp: _check_exact_of(LAYER)),
    ("activation", LAYER, "form.sympy", lambda f: lambda z: [2 * v for v in f(z)],
     lambda tmp: _verify_small(LAYER)),
    ("activation", LAYER, "form.tree_product",
     lambda f: lambda a, e: [Prod((Const("2", Fraction(2)), v)) for v in f(a, e)],
     lambda tmp: _verify_small(LAYER)),
    ("activation", LAYER, "form.kernel.value",
     lambda f: lambda z, a, k: f(z, a, k) + f"\n{a('0')} = 0.5", 
     lambda tmp: check_kernel_against_engine(_layer_case(), "sample")),
    ("activation", LAYER, "form.kernel.jacobian_product",
     lambda f: lambda a, e, d, k: f(a, e, d, k) + f"\n{d('0')} = 0.0",
     lambda tmp: check_kernel_against_engine(_layer_case(), "sample")),
    ("activation", LAYER, "output_only", lambda f: False, lambda tmp: check_record_facts(LAYER)),
    ("loss", THROUGH, "value", lambda f: lambda z, p, y: f(z, p, y) * 1.01,
     lambda tmp: check_engine_against_finite_differences(_loss_case(THROUGH))),
    ("loss", THROUGH, "exact", lambda f: lambda p, y: 2 * f(p, y),
     lambda tmp: check_exact_against_engine(_small_loss_case(THROUGH))),
    ("loss", THROUGH, "output.error", lambda f: lambda p, y: f(p, y) * 1.01,
     lambda tmp: check_engine_against_finite_differences(_loss_case(THROUGH))),
    ("loss", THROUGH, "output.exact",
     lambda f: lambda p, y, op: [op(lambda v: 2 * v, v) for v in f(p, y, op)],
     lambda tmp: check_exact_against_engine(_small_loss_case(THROUGH))),
    ("loss", THROUGH, "output.tree",
     lambda f: lambda p, y: [Prod((Const("2", Fraction(2)), v)) for v in f(p, y)],
     lambda tmp: check_derive_verify(_loss_case(THROUGH))),
    ("loss", THROUGH, "output.kernel", lambda f: lambda a, y: f"1.01 * ({f(a, y)})",
     lambda tmp: check_kernel_against_engine(_loss_case(THROUGH), "sample")),
    ("loss", THROUGH, "kernel_value",
     lambda f: lambda z, a, y, k, t: f(z, a, y, k, t) + f"\n{t} = 1.01 * {t}",
     lambda tmp: check_kernel_against_engine(_loss_case(THROUGH), "sample")),
    ("loss", THROUGH, "half", lambda f: not f, lambda tmp: check_loss_facts(THROUGH)),
    ("loss", CANCEL, "value", lambda f: lambda z, p, y: f(z, p, y) * 1.01,
     lambda tmp: check_engine_against_finite_differences(_loss_case(CANCEL))),
    ("loss", CANCEL, "exact", lambda f: lambda p, y: 2 * f(p, y),
     lambda tmp: check_exact_against_engine(_small_loss_case(CANCEL))),
    ("loss", CANCEL, "output.delta", lambda f: lambda p, y: f(p, y) * 1.01,
     lambda tmp: check_engine_against_finite_differences(_loss_case(CANCEL))),
    ("loss", CANCEL, "output.exact",
     lambda f: lambda p, y, op: [op(lambda v: 2 * v, v) for v in f(p, y, op)],
     lambda tmp: check_exact_against_engine(_small_loss_case(CANCEL))),
    ("loss", CANCEL, "output.tree",
     lambda f: lambda p, y: [Prod((Const("2", Fraction(2)), v)) for v in f(p, y)],
     lambda tmp: check_derive_verify(_loss_case(CANCEL))),
    ("loss", CANCEL, "output.kernel",
     lambda f: lambda a, y, d, k: f(a, y, d, k) + f"\n{d('0')} = 0.0",
     lambda tmp: check_kernel_against_engine(_loss_case(CANCEL), "sample")),
    ("loss", CANCEL, "kernel_value",
     lambda f: lambda z, a, y, k, t: f(z, a, y, k, t) + f"\n{t} = 1.01 * {t}",
     lambda tmp: check_kernel_against_engine(_loss_case(CANCEL), "sample")),
    ("loss", CANCEL, "draw_targets", lambda f: lambda rng, k: 2 * f(rng, k),
     lambda tmp: check_loss_facts(CANCEL)),
    ("loss", CANCEL, "bad_targets", lambda f: lambda y: np.zeros(len(y), dtype=bool),
     lambda tmp: check_loss_facts(CANCEL)),
    ("loss", CANCEL, "accuracy", lambda f: lambda p, y: 0.5, lambda tmp: check_loss_facts(CANCEL)),
    ("loss", CANCEL, "z_from_output", lambda f: lambda p: None,
     lambda tmp: check_loss_facts(CANCEL)),
    ("loss", CANCEL, "half", lambda f: not f, lambda tmp: check_loss_facts(CANCEL)),
]


@pytest.mark.parametrize("kind,name,part,wrong,check", MUTATIONS,
                         ids=[f"{k}-{n}-{p}" for k, n, p, _, _ in MUTATIONS])
def test_a_record_with_a_wrong_part_fails_its_check(kind, name, part, wrong, check,
                                                    tmp_path: Path,
                                                    monkeypatch: pytest.MonkeyPatch) -> None:
    if ".kernel" in part or part == "kernel_value":
        pytest.importorskip("numba")
    registry = ACTIVATIONS if kind == "activation" else LOSSES
    record = registry[name]
    broken = _replace(record, part, wrong(_get(record, part)))
    # (the record as it is passes the same check: the tests above)
    monkeypatch.setitem(registry._records, name, broken)
    with pytest.raises(AssertionError):
        check(tmp_path)


def _parts(record, prefix: str = ""):
    """Every part of a record, nested records' parts included (dotted paths)."""
    for name in record._fields:
        value = getattr(record, name)
        yield prefix + name
        if isinstance(value, Record):
            yield from _parts(value, prefix + name + ".")


def test_a_record_refuses_a_part_left_out_or_unknown_and_cannot_be_changed() -> None:
    record = ACTIVATIONS[UNIT].range
    parts = {name: getattr(record, name) for name in record._fields}
    assert type(record)(**parts) == record
    with pytest.raises(TypeError, match="part 'text' is missing"):
        type(record)(**{k: v for k, v in parts.items() if k != "text"})
    with pytest.raises(TypeError, match="no part 'colour'"):
        type(record)(**parts, colour="red")
    with pytest.raises(AttributeError):
        record.low = 0.5
    assert record._replace(low=0.5).low == 0.5 and record.low != 0.5


@pytest.mark.parametrize("registry", [ACTIVATIONS, LOSSES], ids=["activations", "losses"])
def test_a_record_without_a_part_cannot_be_built(registry) -> None:
    for name, record in registry.items():
        for part in _parts(record):
            with pytest.raises(TypeError, match="is missing"):
                _replace(record, part, None)
