"""``derive`` and ``solve --exact`` under the conventions (CONTRACT section 5).

The derived entries are checked against the numeric engine (solve's trace), which
shares no code with the symbolic chain rule and is itself checked against central
differences of the CONTRACT's cost (tests/test_conventions.py): each entry,
evaluated by sympy at a sample's values, is that sample's gradient entry; their
mean (or sum, with ``cost: sum``) is the update's gradient.  Under
``update_order: output_first`` a lower layer's entries are evaluated with the
weights above it already updated (the trace's new weights), as the convention
says.  ``derive --verify`` must pass under every preset and still find a wrong
entry; the printed formulas must show the conventions (2(ŷ − y), no 1/T, ...).
``solve --exact``: its exact values, as floats, equal the engine's numbers.
"""

from __future__ import annotations

import os

import numpy as np
import pytest

os.environ.setdefault("_TYPER_FORCE_DISABLE_TERMINAL", "1")

from typer.testing import CliRunner  # noqa: E402

from bpnn_steps.cli import app  # noqa: E402
from bpnn_steps.files.problem_file import parse_problem  # noqa: E402
from bpnn_steps.maths.engine import solve  # noqa: E402
from bpnn_steps.model.conventions import PRESETS  # noqa: E402

sympy = pytest.importorskip("sympy")

runner = CliRunner()

NETWORKS = {  # name: layers, activations, loss
    "mse_sigmoid_223": ([2, 2, 3], ["sigmoid", "sigmoid"], "mse"),
    "bce_232": ([2, 3, 2], ["tanh", "sigmoid"], "bce"),
    "ce_223": ([2, 2, 3], ["relu", "softmax"], "ce"),
    "mse_softmax_223": ([2, 2, 3], ["sigmoid", "softmax"], "mse"),
    "deep_2222": ([2, 2, 2, 2], ["tanh", "sigmoid", "linear"], "mse"),
}

# Every preset, and keys on top of one (written keys win over the preset).
CONVENTIONS = {
    **{preset: {"preset": preset} for preset in PRESETS},
    "cost_sum": {"cost": "sum"},
    "no_half": {"mse_half": False},
    "outputs_mean": {"output_reduction": "mean"},
    "output_first": {"update_order": "output_first"},
    "pytorch_sum_output_first": {"preset": "pytorch", "cost": "sum",
                                 "update_order": "output_first"},
    "mazur_output_first": {"preset": "mazur", "update_order": "output_first"},
}


def _targets(loss: str, rng: np.random.Generator, k: int) -> list[list[float]]:
    if loss == "mse":
        return np.round(rng.uniform(-1, 1, (3, k)), 2).tolist()
    if loss == "bce":
        return rng.integers(0, 2, (3, k)).astype(float).tolist()
    return np.eye(k)[rng.integers(0, k, 3)].tolist()


def problem_text(network: str, conventions: dict, seed: int = 3) -> str:
    layers, acts, loss = NETWORKS[network]
    rng = np.random.default_rng(seed)
    weights = [np.round(rng.uniform(-1, 1, (a + 1, b)), 2).tolist()
               for a, b in zip(layers, layers[1:])]
    xs = np.round(rng.uniform(-1, 1, (3, layers[0])), 2).tolist()
    return _problem_yaml(layers, acts, loss, xs, _targets(loss, rng, layers[-1]), weights,
                         "  learning_rate: 0.5\n  epochs: 1\n", conventions)


def _problem_yaml(layers, acts, loss: str, xs, ys, weights, training: str,
                  conventions: dict) -> str:
    """A problem file of these numbers, with a conventions: block when any are given."""
    block = "".join(f"  {k}: {str(v).lower() if isinstance(v, bool) else v}\n"
                    for k, v in conventions.items())
    return (f"network:\n  layers: {layers}\n  activations: [{', '.join(acts)}]\n"
            f"loss: {loss}\ndata:\n  x: {xs}\n  y: {ys}\n"
            "weights:\n" + "".join(f"  W{n + 1}: {w}\n" for n, w in enumerate(weights))
            + "training:\n" + training + (f"conventions:\n{block}" if block else ""))


def _symbol_values(layers, x, y, a, weights) -> dict[str, float]:
    """The values of answer_symbols' names for one sample (``a``: every layer's
    output, ``weights``: the weights each w symbol stands for)."""
    depth = len(layers) - 1
    values = {f"x{i + 1}": float(v) for i, v in enumerate(x)}
    values |= {f"y{k + 1}": float(v) for k, v in enumerate(y)}
    values |= {f"yhat{k + 1}": float(v) for k, v in enumerate(a[-1])}
    for n in range(1, depth):
        for j, v in enumerate(a[n - 1], start=1):
            values[f"h{j}" if depth == 2 else f"h{n}_{j}"] = float(v)
    for n, w in enumerate(weights, start=1):
        for i, row in enumerate(w):
            for j, v in enumerate(row, start=1):
                values[f"w{n}_{i}_{j}"] = float(v)
    return values


@pytest.mark.parametrize("network", NETWORKS)
@pytest.mark.parametrize("conv", CONVENTIONS)
def test_derived_entries_are_the_engines_gradients(network: str, conv: str) -> None:
    from bpnn_steps.maths.symbolic import answer_symbols, gradient_entries

    problem = parse_problem(problem_text(network, CONVENTIONS[conv]))
    layers, acts, loss = NETWORKS[network]
    step = solve(problem).steps[0]
    entries = gradient_entries(layers, acts, loss, problem.conventions)
    symbols = answer_symbols(layers)
    depth = len(layers) - 1
    output_first = CONVENTIONS[conv].get("update_order") == "output_first"
    # output_first: every w in a lower layer's entry is a weight above it, already updated
    weights = step.weights_after if output_first else step.weights_before
    per_sample = []
    for f, b in zip(step.forward, step.backward):
        values = _symbol_values(layers, f.x, f.y, f.a, weights)
        point = {symbols[name]: sympy.Float(v, 30) for name, v in values.items()}
        got = {key: float(e.xreplace(point)) for key, e in entries.items()}
        for (n, i, j), value in got.items():
            assert value == pytest.approx(b.grad[n - 1][i, j - 1], rel=1e-9, abs=1e-12), \
                (conv, f.sample, n, i, j)
        per_sample.append(got)
    combined_by_sum = problem.conventions.cost.value == "sum"
    for (n, i, j) in entries:
        total = sum(g[(n, i, j)] for g in per_sample)
        expected = total if combined_by_sum else total / len(per_sample)
        assert expected == pytest.approx(step.mean_grad[n - 1][i, j - 1], rel=1e-9, abs=1e-12)
    assert depth == len(step.mean_grad)


def _written(tmp_path, network: str, conventions: dict, name: str = "p.yaml") -> str:
    path = tmp_path / name
    path.write_text(problem_text(network, conventions), encoding="utf-8")
    return str(path)


@pytest.mark.parametrize("conv", CONVENTIONS)
@pytest.mark.parametrize("network", ["mse_sigmoid_223", "bce_232", "ce_223", "deep_2222"])
def test_derive_verify_passes_under_every_convention(tmp_path, network: str, conv: str) -> None:
    result = runner.invoke(app, ["derive", _written(tmp_path, network, CONVENTIONS[conv]),
                                 "--verify", "--format", "json"])
    assert result.exit_code == 0, result.output
    assert "verified: all" in result.stderr
    said = "not derivatives of the cost and are not checked" in result.stderr
    assert said == (CONVENTIONS[conv].get("update_order") == "output_first")


@pytest.mark.parametrize("conv", ["pytorch", "no_half", "outputs_mean", "cost_sum"])
def test_verify_finds_the_lectures_entry_under_other_conventions(monkeypatch, conv) -> None:
    """The lecture's entry (with mse's ½, summed over the outputs) is wrong for a cost
    without the ½ or averaged over the outputs: --verify must say so; cost sum leaves
    the per-sample J_(t), and so every entry, as it is."""
    import numpy as np
    from bpnn_steps.maths import symbolic
    from bpnn_steps.model.conventions import LECTURE

    problem = parse_problem(problem_text("mse_sigmoid_223", CONVENTIONS[conv]))
    layers, acts, loss = NETWORKS["mse_sigmoid_223"]
    right = symbolic.gradient_entries

    def lecture_entry(layers, activations, loss, conventions=LECTURE):
        out = dict(right(layers, activations, loss, conventions))
        out[(2, 1, 1)] = right(layers, activations, loss)[(2, 1, 1)]
        return out

    monkeypatch.setattr(symbolic, "gradient_entries", lecture_entry)
    checked, bad = symbolic.check_with_sympy(layers, acts, loss, rng=np.random.default_rng(5),
                                             conventions=problem.conventions)
    assert checked == 15
    assert bad == ([] if conv == "cost_sum" else [(2, 1, 1)])


def test_derive_verify_fails_on_an_injected_wrong_entry_under_pytorch(tmp_path, monkeypatch):
    from bpnn_steps.maths import symbolic

    right = symbolic.gradient_entries

    def wrong(layers, activations, loss, *conventions):
        out = dict(right(layers, activations, loss, *conventions))
        out[(1, 1, 1)] = 2 * out[(1, 1, 1)]
        return out

    monkeypatch.setattr(symbolic, "gradient_entries", wrong)
    result = runner.invoke(app, ["derive", _written(tmp_path, "mse_sigmoid_223",
                                                    {"preset": "pytorch"}), "--verify"])
    assert result.exit_code == 1, result.output
    assert "1 of 15 derived entries disagree" in result.stderr and "w1,1[1]" in result.stderr


def _derive_text(tmp_path, network: str, conventions: dict, *args: str) -> str:
    result = runner.invoke(app, ["derive", _written(tmp_path, network, conventions), *args])
    assert result.exit_code == 0, result.output
    return result.stdout


def test_without_the_half_the_output_error_is_twice_the_difference(tmp_path) -> None:
    text = _derive_text(tmp_path, "mse_sigmoid_223", {"mse_half": False})
    assert "J₍ₜ₎ = Σₖ (ŷₖ − yₖ)²" in text and "½" not in text
    assert "∂J/∂ŷ = 2(Ŷ − Y) = [2(ŷ₁ − y₁); 2(ŷ₂ − y₂); 2(ŷ₃ − y₃)]" in text
    assert "∂J/∂w₀,₁⁽²⁾ = 2(ŷ₁ − y₁) ŷ₁(1 − ŷ₁)\n" in text
    latex = _derive_text(tmp_path, "mse_sigmoid_223", {"mse_half": False}, "--format", "latex")
    body = latex.split(r"\begin{document}")[1]          # the preamble spells ½ itself
    assert r"\tfrac{1}{2}" not in body and r"2(\hat{y}_{1,(t)} - y_{1,(t)})" in body
    lecture = _derive_text(tmp_path, "mse_sigmoid_223", {})
    assert "J₍ₜ₎ = Σₖ ½(ŷₖ − yₖ)²" in lecture and "2(ŷ₁ − y₁)" not in lecture


def test_pytorch_averages_over_the_outputs(tmp_path) -> None:
    text = _derive_text(tmp_path, "mse_sigmoid_223", {"preset": "pytorch"})
    assert "J₍ₜ₎ = (1/K) Σₖ (ŷₖ − yₖ)²" in text
    assert "∂J/∂w₀,₁⁽²⁾ = (2/3)(ŷ₁ − y₁) ŷ₁(1 − ŷ₁)\n" in text
    latex = _derive_text(tmp_path, "mse_sigmoid_223", {"preset": "pytorch"}, "--format",
                         "latex")
    assert r"\frac{1}{3} \sum_{k=1}^{3}" in latex and r"\tfrac{2}{3}(\hat{y}_{1,(t)}" in latex
    bce = _derive_text(tmp_path, "bce_232", {"preset": "pytorch"})
    assert "∂J/∂w₀,₁⁽²⁾ = (1/2)(ŷ₁ − y₁)\n" in bce
    ce = _derive_text(tmp_path, "ce_223", {"preset": "pytorch"})     # ce: unaffected
    assert "∂J/∂w₀,₁⁽²⁾ = ŷ₁ − y₁\n" in ce and "1/K" not in ce


def test_cost_sum_has_no_one_over_t(tmp_path) -> None:
    text = _derive_text(tmp_path, "mse_sigmoid_223", {"cost": "sum"})
    assert "J    = Σₜ J₍ₜ₎" in text
    assert "W⁽²⁾ new = W⁽²⁾ old − λ Σₜ ∇J₍ₜ₎(W⁽²⁾) = W⁽²⁾ old − 0.5 × Σₜ ∇J₍ₜ₎(W⁽²⁾)" in text
    assert "1/T Σₜ" not in text and "1/3 Σₜ" not in text
    latex = _derive_text(tmp_path, "mse_sigmoid_223", {"cost": "sum"}, "--format", "latex")
    assert r"\frac{1}{3} \sum" not in latex and r"\frac{1}{T}" not in latex
    mean = _derive_text(tmp_path, "mse_sigmoid_223", {})
    assert "J̄    = 1/3 Σₜ J₍ₜ₎" in mean and "1/T Σₜ ∇J₍ₜ₎(W⁽²⁾)" in mean


def test_biases_kept_and_output_first_are_said(tmp_path) -> None:
    text = _derive_text(tmp_path, "deep_2222", {"preset": "mazur",
                                                "update_order": "output_first"})
    assert "w₀,ⱼ⁽ⁿ⁾ stays" in text
    assert text.count("Update order output_first: ") == 2       # both hidden layers
    assert "W̄⁽³⁾ new" in text and "W̄⁽²⁾ new" in text
    assert "not derivatives of the cost" in text
    lecture = _derive_text(tmp_path, "deep_2222", {})
    assert "stays" not in lecture and "output_first" not in lecture
    assert "Conventions" not in lecture


def test_derive_json_names_the_conventions_and_what_is_no_derivative(tmp_path) -> None:
    import json

    result = runner.invoke(app, ["derive", _written(tmp_path, "deep_2222", {
        "preset": "pytorch", "update_order": "output_first"}), "--format", "json"])
    doc = json.loads(result.stdout)
    assert doc["conventions"]["mse_half"] is False
    assert doc["conventions"]["update_order"] == "output_first"
    assert {e["layer"] for e in doc["entries"] if e["derivative"]} == {3}
    lecture = json.loads(runner.invoke(app, ["derive", _written(tmp_path, "deep_2222", {}),
                                             "--format", "json"]).stdout)
    assert "conventions" not in lecture and "derivative" not in lecture["entries"][0]


def test_export_derivation_sheet_follows_the_conventions(tmp_path) -> None:
    from bpnn_steps.present.tutorial_sheet import derivation_sheet
    from bpnn_steps.render.registry import render

    problem = parse_problem(problem_text("mse_sigmoid_223", {"mse_half": False,
                                                             "cost": "sum"}))
    latex = render(derivation_sheet(problem), "latex")
    assert r"2(\hat{y}_{1,(t)} - y_{1,(t)})" in latex and r"\frac{1}{3} \sum" not in latex


# --------------------------------------------------------------------------- solve --exact


# Rational all the way (relu, linear; the inputs and weights short decimals), so that
# every exact value is shown and compared.
EXACT_NETWORKS = {
    "relu_linear_223": ([2, 2, 3], ["relu", "linear"], "mse"),
    "deep_relu_2222": ([2, 2, 2, 2], ["relu", "linear", "relu"], "mse"),
}


def _exact_text(network: str, conventions: dict) -> str:
    layers, acts, loss = EXACT_NETWORKS[network]
    weights = [[[round(0.1 * ((3 * n + 2 * i + j) % 7) - 0.2, 2) for j in range(b)]
                for i in range(a + 1)]
               for n, (a, b) in enumerate(zip(layers, layers[1:]))]
    xs = [[0.5, 0.3], [0.2, 0.9], [0.7, 0.4]]
    ys = [[round(0.1 * (k + t), 2) for k in range(layers[-1])] for t in range(3)]
    return _problem_yaml(layers, acts, loss, xs, ys, weights,
                         "  learning_rate: 0.5\n  epochs: 2\n  l2: 0.1\n", conventions)


@pytest.mark.parametrize("network", EXACT_NETWORKS)
@pytest.mark.parametrize("conv", CONVENTIONS)
def test_exact_values_equal_the_engines(network: str, conv: str) -> None:
    from bpnn_steps.maths.exact import exact_steps

    problem = parse_problem(_exact_text(network, CONVENTIONS[conv]))
    trace = solve(problem)
    exact = exact_steps(problem, trace, len(trace.steps))
    assert len(exact) == len(trace.steps) == 2
    compared = 0
    for ex, step in zip(exact, trace.steps):
        pairs = [(ex.cost, step.cost)]
        for n in range(len(step.weights_after)):
            for i, j in np.ndindex(step.weights_after[n].shape):
                pairs.append((ex.weights_after[n][i][j], step.weights_after[n][i, j]))
                pairs.append((ex.mean_grad[n][i][j], step.mean_grad[n][i, j]))
                for s, b in zip(ex.samples, step.backward):
                    pairs.append((s.grad[n][i][j], b.grad[n][i, j]))
        for s, f in zip(ex.samples, step.forward):
            pairs.append((s.loss, f.loss))
        for e, value in pairs:
            assert e is not None, conv            # rational: every value exact
            assert float(e) == pytest.approx(float(value), rel=1e-12, abs=1e-12)
            compared += 1
    assert compared > 50


def test_solve_exact_is_no_longer_refused(tmp_path) -> None:
    path = tmp_path / "p.yaml"
    path.write_text(_exact_text("relu_linear_223", {"preset": "pytorch", "cost": "sum"}),
                    encoding="utf-8")
    result = runner.invoke(app, ["solve", str(path), "--exact"])
    assert result.exit_code == 0, result.output
    exact = result.stdout.split("Exact values, update 1")[1]
    # the cost is the sum J, the update's gradient the sum Σₜ (as the worked solution has it)
    assert "\nJ         = " in exact and "J̄" not in exact
    assert "Σₜ ∇J(W⁽²⁾) = [" in exact and "\n∇J(W⁽²⁾) = [" not in exact


@pytest.mark.skipif(__import__("shutil").which("pdflatex") is None, reason="needs pdflatex")
def test_the_derivation_with_every_convention_compiles(tmp_path) -> None:
    """The conventions' words (W̄ new, w₀,ⱼ stays, 2/3) reach pdflatex as LaTeX."""
    conventions = {"preset": "pytorch", "cost": "sum", "update_biases": False,
                   "update_order": "output_first"}
    target = tmp_path / "d.pdf"
    result = runner.invoke(app, ["derive", _written(tmp_path, "deep_2222", conventions),
                                 "--pdf", "-o", str(target)])
    assert result.exit_code == 0, result.output
    assert target.read_bytes().startswith(b"%PDF")
