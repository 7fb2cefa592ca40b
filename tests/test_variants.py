"""bpnn-steps variants: determinism, the variants: block, and every accepted variant
re-checked here with plain numpy (not the quality code) for what the quality test
promises: hand-friendly numbers on the grid, no saturated unit, no gradient entry
that shows as 0, distinct samples, no symmetric square matrix, distinct variants.

That check names every injected mistake is tests/test_separation.py's job."""

from __future__ import annotations

import subprocess
from pathlib import Path

import numpy as np
import pytest

from helpers import BUNDLED, cli_env, console_script, ref_solve, run_cli, write_file

LECTURE = BUNDLED / "lecture_122.yaml"


def _variant_texts(folder: Path) -> dict[str, str]:
    return {p.name: p.read_text(encoding="utf-8") for p in sorted(folder.iterdir())}


# --------------------------------------------------------------------------- determinism


def test_same_file_seed_and_index_give_the_same_text_in_a_fresh_process(tmp_path: Path) -> None:
    """Two real processes with different hash seeds write byte-identical folders."""
    texts = []
    for hash_seed in ("0", "4242"):
        out = tmp_path / f"h{hash_seed}"
        env = {**cli_env(), "PYTHONHASHSEED": hash_seed}
        result = subprocess.run([console_script(), "variants", str(LECTURE), "-n", "3",
                                 "--seed", "11", "-o", str(out)], env=env,
                                capture_output=True, text=True, timeout=120)
        assert result.returncode == 0, result.stderr
        texts.append(_variant_texts(out))
    assert texts[0] == texts[1]
    assert sorted(texts[0]) == ["index.csv", "lecture_122-s11-001.yaml",
                                "lecture_122-s11-002.yaml", "lecture_122-s11-003.yaml"]


def test_index_i_does_not_depend_on_count(tmp_path: Path) -> None:
    small, large = tmp_path / "small", tmp_path / "large"
    for out, n in ((small, "2"), (large, "5")):
        assert run_cli("variants", str(LECTURE), "-n", n, "--seed", "3", "-o",
                       str(out)).returncode == 0
    few, many = _variant_texts(small), _variant_texts(large)
    for name in ("lecture_122-s3-001.yaml", "lecture_122-s3-002.yaml"):
        assert few[name] == many[name]
    assert many["index.csv"].startswith(few["index.csv"])


def test_make_variant_regenerates_one_variant() -> None:
    from bpnn_steps.course.variant_spec import default_spec
    from bpnn_steps.course.variants import make_variant, variants
    from bpnn_steps.files.problem_file import load_problem
    from bpnn_steps.files.problem_writer import problem_text

    base = load_problem(LECTURE)
    spec = default_spec(base)
    run = variants(base, spec, 4, 5)
    again = make_variant(base, spec, 5, 3)
    assert again.id == run.variants[2].id == "lecture_122-s5-003"
    assert problem_text(again.problem) == problem_text(run.variants[2].problem)


# --------------------------------------------------------------------------- quality, recomputed


@pytest.fixture(scope="module")
def lecture_run():
    from bpnn_steps.course.variant_spec import default_spec
    from bpnn_steps.course.variants import variants
    from bpnn_steps.files.problem_file import load_problem

    base = load_problem(LECTURE)
    return variants(base, default_spec(base), 60, 2026)


def _sigmoid(z: np.ndarray) -> np.ndarray:
    return 1.0 / (1.0 + np.exp(-z))


def _on_grid(values: np.ndarray, low: float, high: float, step: float) -> bool:
    k = values / step
    return bool(np.all(np.abs(k - np.round(k)) < 1e-9) and np.all(values >= low - 1e-12)
                and np.all(values <= high + 1e-12))


def test_accepted_variants_pass_each_check_recomputed_with_numpy(lecture_run) -> None:
    run = lecture_run
    assert run.failed is None and len(run.variants) == 60
    seen = set()
    for v in run.variants:
        p = v.problem
        w1, w2 = (np.asarray(w) for w in p.initial_weights())
        x, y = (np.asarray(a) for a in p.data())
        lr = p.learning_rate()
        # hand-friendly numbers, as the defaults promise
        for w in (w1, w2):
            assert _on_grid(w, -0.5, 0.5, 0.1) and np.all(w != 0), v.id
        assert _on_grid(x, -3, 3, 1) and np.all(x != 0), v.id
        assert _on_grid(y, -2, 2, 0.5), v.id
        assert lr in (0.1, 0.2, 0.3, 0.4), v.id
        # well-posed: no saturated sigmoid unit, distinct samples
        z1 = np.hstack([np.ones((len(x), 1)), x]) @ w1
        assert np.all(np.abs(z1) <= 4), v.id
        assert len({tuple(r) for r in x}) == len(x), v.id
        # gradients from the reference calculation (pure Python): none shows as 0,
        # and no square matrix reads the same transposed
        step = ref_solve([1, 2, 2], ["sigmoid", "linear"], "mse", x.tolist(), y.tolist(),
                         [w1.tolist(), w2.tolist()], lr)["steps"][0]
        per_sample = [np.asarray(g[k]) for g in step["gradients"] for k in ("W1", "W2")]
        mean = [np.mean([np.asarray(g[k]) for g in step["gradients"]], axis=0)
                for k in ("W1", "W2")]
        new = [np.asarray(step["weights_after"][k]) for k in ("W1", "W2")]
        for g in per_sample + mean:
            assert np.all(np.abs(g) >= 0.0005), (v.id, g)
        for m in per_sample + mean + new:
            if m.shape[0] == m.shape[1]:
                assert np.max(np.abs(m - m.T)) > 0.0015, (v.id, m)
        # the lecture's coincidence is impossible: lambda T != 1
        assert abs(lr * len(x) - 1) > 1e-9
        # distinct variants
        key = (w1.tobytes(), w2.tobytes(), x.tobytes(), y.tobytes(), lr)
        assert key not in seen, v.id
        seen.add(key)
    assert all(v.varied == ("W1", "W2", "x", "y", "learning_rate") for v in run.variants)


def test_every_variant_file_solves_to_the_same_numbers(lecture_run, tmp_path: Path) -> None:
    """A written variant file reads back as exactly the variant (repr floats)."""
    from bpnn_steps.course.variants import variant_text
    from bpnn_steps.files.problem_file import load_problem

    for v in lecture_run.variants[:10]:
        path = write_file(tmp_path, f"{v.id}.yaml", variant_text(v, "lecture_122.yaml"))
        back = load_problem(path)
        assert back.variant == v.id
        for a, b in zip(back.initial_weights(), v.problem.initial_weights()):
            assert np.array_equal(a, b)
        assert np.array_equal(back.data()[0], v.problem.data()[0])
        assert np.array_equal(back.data()[1], v.problem.data()[1])
        assert back.learning_rate() == v.problem.learning_rate()


# --------------------------------------------------------------------------- the lecture's own numbers


def test_the_lecture_fails_separability_naming_the_coinciding_mistakes() -> None:
    from bpnn_steps.course.quality import Reason
    from bpnn_steps.course.variant_spec import default_spec
    from bpnn_steps.course.variants import assess_own
    from bpnn_steps.files.problem_file import load_problem

    base = load_problem(LECTURE)
    found = assess_own(base, default_spec(base))
    reasons = {r.reason for r in found}
    assert Reason.COINCIDING in reasons and Reason.SYMMETRIC in reasons
    coincide = [r.detail for r in found if r.reason is Reason.COINCIDING]
    # lambda = 1/2 with T = 2: W - grad = W - lambda (2 grad): three mistakes, one number
    assert any("missing-lambda" in d and "sum-not-mean" in d and "missing-1/2" in d
               and "W[2] new" in d for d in coincide), coincide
    # equal weights and x = 1: grad W[1](1) = [1, 1]^T delta is symmetric
    assert any("grad W[1](1)" in r.detail for r in found if r.reason is Reason.SYMMETRIC)


def test_the_lecture_with_another_lambda_no_longer_coincides_at_the_update() -> None:
    from bpnn_steps.course.quality import Reason
    from bpnn_steps.course.variant_spec import default_spec
    from bpnn_steps.course.variants import assess_own
    from bpnn_steps.files.problem_file import load_problem

    base = load_problem(LECTURE).with_training(learning_rate=0.3)
    found = assess_own(base, default_spec(base))
    assert not any("missing-lambda" in r.detail for r in found if r.reason is Reason.COINCIDING)


def test_explain_shows_reasons_and_the_file_s_own_numbers(tmp_path: Path) -> None:
    result = run_cli("variants", "lecture_122", "-n", "4", "--seed", "7", "-o",
                     str(tmp_path / "v"), "--explain")
    assert result.returncode == 0, result.stderr
    out = result.stdout
    assert out.startswith("candidates: ")
    assert "rejected (most first):" in out
    assert "e.g. variant 1, attempt" in out
    assert "the file's own numbers: fail" in out
    assert "missing-lambda, sum-not-mean and missing-1/2 all give w₀,₁⁽²⁾ new (W[2] new) = " \
        "4.388 (right: 2.244)" in out
    assert "wrote 4 variants of lecture_122" in result.stderr


# --------------------------------------------------------------------------- the variants: block


# The lecture's problem up to its learning rate, as test_errors writes it (a
# variants: block, or another key, goes at its end).
from test_errors import BASE  # noqa: E402

PROBLEM = BASE[:BASE.index("  method: batch")]


def _spec_of(text: str):
    from bpnn_steps.course.variant_spec import read_spec
    from bpnn_steps.files.problem_file import problem_from_tree
    from bpnn_steps.files.yamldoc import parse_yaml

    tree = parse_yaml(text, "p.yaml")
    return read_spec(tree, problem_from_tree(tree, "p.yaml"))


def test_a_block_sets_ranges_steps_and_what_is_kept(tmp_path: Path) -> None:
    spec = _spec_of(PROBLEM + """\
variants:
  weights: {W1: {range: [-1, 1], step: 0.5}, W2: false}
  inputs: {range: [1, 3], step: 1}
  targets: false
  learning_rate: [0.1, 0.3]
  saturation: 3
  decimals: 2
""")
    assert spec.weights[0] is not None and spec.weights[0].values == (-1.0, -0.5, 0.5, 1.0)
    assert spec.weights[1] is None
    assert spec.inputs is not None and spec.inputs.values == (1.0, 2.0, 3.0)
    assert spec.targets is None and not spec.one_hot
    assert spec.learning_rates == (0.1, 0.3)
    assert (spec.saturation, spec.decimals) == (3.0, 2)
    assert spec.varied() == ("W1", "x", "learning_rate")
    path = write_file(tmp_path, "p.yaml", PROBLEM + """\
variants:
  weights: {W1: {range: [-1, 1], step: 0.5}, W2: false}
  inputs: {range: [1, 3], step: 1}
  targets: false
  learning_rate: [0.1, 0.3]
""")
    result = run_cli("variants", str(path), "-n", "3", "-o", str(tmp_path / "out"))
    assert result.returncode == 0, result.stderr
    from bpnn_steps.files.variant_folder import read_variants

    for v in read_variants(tmp_path / "out"):
        w1, w2 = v.problem.initial_weights()
        assert set(np.asarray(w1).ravel()) <= {-1.0, -0.5, 0.5, 1.0}
        assert np.all(np.asarray(w2) == 0.1)                          # kept
        assert np.array_equal(v.problem.data()[1], [[3, 4], [6, 5]])  # kept
        assert set(np.asarray(v.problem.data()[0]).ravel()) <= {1.0, 2.0, 3.0}
        assert v.problem.learning_rate() in (0.1, 0.3)
        assert v.varied == ("W1", "x", "learning_rate")


@pytest.mark.parametrize("activation,loss,expected", [
    ("sigmoid", "mse", tuple(round(0.1 * k, 1) for k in range(1, 10))),
    ("tanh", "mse", tuple(round(0.1 * k, 1) for k in range(-9, 10))),
    ("linear", "mse", (-2.0, -1.5, -1.0, -0.5, 0.0, 0.5, 1.0, 1.5, 2.0)),
    ("sigmoid", "bce", (0.0, 1.0)),
])
def test_default_targets_follow_the_output_and_the_loss(activation, loss, expected) -> None:
    text = PROBLEM.replace("[sigmoid, linear]", f"[sigmoid, {activation}]") + \
        f"loss: {loss}\n"
    text = text.replace("y: [[3, 4], [6, 5]]", "y: [[0, 1], [1, 0]]")
    spec = _spec_of(text)
    assert spec.targets is not None and spec.targets.values == expected


def test_ce_targets_are_one_hot_rows(tmp_path: Path) -> None:
    path = write_file(tmp_path, "c.yaml", """\
network: {layers: [2, 2, 3], activations: [sigmoid, softmax]}
loss: ce
data:
  x: [[1, 2], [2, 1], [1, 1]]
  y: [[1, 0, 0], [0, 1, 0], [0, 0, 1]]
weights: {fill: 0.1}
training: {learning_rate: 0.5}
""")
    assert run_cli("variants", str(path), "-n", "3", "-o", str(tmp_path / "o")).returncode == 0
    from bpnn_steps.files.variant_folder import read_variants

    for v in read_variants(tmp_path / "o"):
        y = np.asarray(v.problem.data()[1])
        assert np.all(np.sort(y, axis=1) == [0, 0, 1])


def test_a_zero_the_file_fixes_is_structural_a_drawn_zero_is_not(tmp_path: Path) -> None:
    """x = 0 kept from the file makes a row of grad W[1](1) zero whatever is drawn:
    accepted.  Inputs drawn from [0, 2] with zero allowed: a 0 input is rejected."""
    fixed = PROBLEM.replace("x: [[1], [2]]", "x: [[0], [2]]") + "variants: {inputs: false}\n"
    path = write_file(tmp_path, "fixed.yaml", fixed)
    result = run_cli("variants", str(path), "-n", "5", "-o", str(tmp_path / "f"))
    assert result.returncode == 0, result.stderr
    drawn = PROBLEM + "variants: {inputs: {range: [0, 2], step: 1, nonzero: false}}\n"
    path = write_file(tmp_path, "drawn.yaml", drawn)
    result = run_cli("variants", str(path), "-n", "5", "-o", str(tmp_path / "d"), "--explain")
    assert result.returncode == 0, result.stderr
    assert "zero-gradient" in result.stdout
    from bpnn_steps.files.variant_folder import read_variants

    for v in read_variants(tmp_path / "d"):
        assert np.all(np.asarray(v.problem.data()[0]) != 0)


# --------------------------------------------------------------------------- errors


@pytest.mark.parametrize("block,line,where,words", [
    ("variants:\n  weight: false\n", 13, "variants.weight", "did you mean 'weights'"),
    ("variants:\n  inputs: {range: [3, 1]}\n", 13, "variants.inputs.range", "low <= high"),
    ("variants:\n  inputs: {range: 3}\n", 13, "variants.inputs.range", "[low, high]"),
    ("variants:\n  weights: {step: 0}\n", 13, "variants.weights.step", "> 0"),
    ("variants:\n  weights: {range: [0.01, 0.09], step: 0.1}\n", 13, "variants.weights",
     "has no values"),
    ("variants:\n  weights: {W3: false}\n", 13, "variants.weights.W3", "W1, W2"),
    ("variants:\n  learning_rate: [0.1, -0.2]\n", 13, "variants.learning_rate[1]", "> 0"),
    ("variants:\n  learning_rate: fast\n", 13, "variants.learning_rate", "list of learning"),
    ("variants:\n  saturation: 0\n", 13, "variants.saturation", "> 0"),
    ("variants:\n  decimals: 12\n", 13, "variants.decimals", "at most 8"),
    ("variants:\n  inputs: maybe\n", 13, "variants.inputs", "false (keep"),
    ("variants: [1, 2]\n", 12, "variants", "must be a mapping"),
])
def test_a_bad_block_is_one_clear_message(tmp_path: Path, block, line, where, words) -> None:
    path = write_file(tmp_path, "p.yaml", PROBLEM + block)
    result = run_cli("variants", str(path), "-n", "2", "-o", str(tmp_path / "o"))
    assert result.returncode == 2
    message = result.stderr.strip()
    assert message.count("\n") == 0 and "Traceback" not in message
    assert f"p.yaml:{line}: {where} " in message, message
    assert words in message, message


def test_bce_targets_outside_0_1_are_refused(tmp_path: Path) -> None:
    text = PROBLEM.replace("y: [[3, 4], [6, 5]]", "y: [[0, 1], [1, 0]]").replace(
        "[sigmoid, linear]", "[sigmoid, sigmoid]") + \
        "loss: bce\nvariants:\n  targets: {range: [0, 2], step: 0.5}\n"
    path = write_file(tmp_path, "p.yaml", text)
    result = run_cli("variants", str(path), "-o", str(tmp_path / "o"))
    assert result.returncode == 2
    assert "p.yaml:14: variants.targets.range gives targets bce cannot take" in result.stderr


@pytest.mark.parametrize("args,words", [
    (["-n", "0"], "--count"),
    (["--seed", "-1"], "--seed"),
    (["-n", "10001"], "--count"),
])
def test_bad_options_exit_2(tmp_path: Path, args, words) -> None:
    result = run_cli("variants", "lecture_122", "-o", str(tmp_path / "o"), *args)
    assert result.returncode == 2 and words in result.stderr
    assert not (tmp_path / "o").exists()


def test_the_output_folder_is_required_and_must_be_a_folder(tmp_path: Path) -> None:
    result = run_cli("variants", "lecture_122")
    assert result.returncode == 2 and "--output" in result.stderr
    afile = write_file(tmp_path, "taken", "x")
    result = run_cli("variants", "lecture_122", "-o", str(afile))
    assert result.returncode == 2 and "is not a folder" in result.stderr
    result = run_cli("variants", "lecture_122", "-o", str(tmp_path / "no" / "such"))
    assert result.returncode == 2 and "does not exist" in result.stderr


def test_no_candidate_passing_is_a_clear_error(tmp_path: Path) -> None:
    """A saturation limit of 0.001: every sigmoid unit counts as saturated."""
    path = write_file(tmp_path, "p.yaml", PROBLEM + "variants:\n  saturation: 0.001\n"
                      "  attempts: 5\n")
    result = run_cli("variants", str(path), "-n", "2", "-o", str(tmp_path / "o"), "--explain")
    assert result.returncode == 2
    assert "no candidate for variant 1 passed the quality test in 5 attempts" in result.stderr
    assert "saturated" in result.stderr and "--explain" in result.stderr
    assert "5  saturated" in result.stdout or "same-samples" in result.stdout
    assert not list((tmp_path / "o").glob("*.yaml"))


def test_too_few_input_values_for_the_samples_are_refused_at_once(tmp_path: Path) -> None:
    path = write_file(tmp_path, "p.yaml", PROBLEM + "variants:\n  inputs: {range: [1, 1]}\n")
    result = run_cli("variants", str(path), "-n", "2", "-o", str(tmp_path / "o"))
    assert result.returncode == 2
    assert "variants.inputs gives 1 different input row (" in result.stderr
    assert "too few for 2 samples" in result.stderr


def test_the_folder_reads_back(tmp_path: Path) -> None:
    from bpnn_steps.files.variant_folder import read_variants

    assert run_cli("variants", "lecture_122", "-n", "3", "--seed", "9", "-o",
                   str(tmp_path / "v")).returncode == 0
    back = read_variants(tmp_path / "v")
    assert [v.id for v in back] == [f"lecture_122-s9-00{i}" for i in (1, 2, 3)]
    head = (tmp_path / "v" / "lecture_122-s9-001.yaml").read_text(encoding="utf-8")
    assert head.startswith("# Variant lecture_122-s9-001 of lecture_122:\n")
    assert "bpnn-steps solve lecture_122-s9-001.yaml" in head
    solved = run_cli("solve", "lecture_122-s9-001.yaml", cwd=tmp_path / "v")
    assert solved.returncode == 0


def test_a_module_run_matches(tmp_path: Path) -> None:
    """python -m bpnn_steps variants works the same as the console script."""
    result = run_cli("variants", "lecture_122", "-n", "1", "-o", str(tmp_path / "m"),
                     module=True)
    assert result.returncode == 0, result.stderr


def test_variant_of_draws_the_variant_an_id_names(tmp_path: Path) -> None:
    from bpnn_steps.course.variants import variant_of, variant_text
    from bpnn_steps.errors import ProblemError

    assert run_cli("variants", "lecture_122", "-n", "3", "--seed", "4", "-o",
                   str(tmp_path / "v")).returncode == 0
    again = variant_of("lecture_122", "lecture_122-s4-002")
    written = (tmp_path / "v" / "lecture_122-s4-002.yaml").read_text(encoding="utf-8")
    assert variant_text(again, "lecture_122") == written
    with pytest.raises(ProblemError, match="not a variant id of this file"):
        variant_of("lecture_122", "quiz_11-s4-002")


def test_the_numbers_of_one_id_are_pinned() -> None:
    """numpy's SeedSequence and PCG64 are the same on every machine: variant 1 of
    seed 7 is these numbers everywhere (a change here changes every course's files)."""
    from bpnn_steps.course.variants import variant_of

    p = variant_of("lecture_122", "lecture_122-s7-001").problem
    assert p.data()[0].tolist() == [[-2.0], [-3.0]]
    assert p.data()[1].tolist() == [[1.0, 1.0], [0.0, 2.0]]
    assert [w.tolist() for w in p.initial_weights()] == [
        [[0.4, 0.3], [-0.4, 0.4]], [[0.3, -0.4], [0.5, -0.5], [0.4, -0.3]]]
    assert p.learning_rate() == 0.4


def test_a_folder_of_variants_is_replaced_only_with_force(tmp_path: Path) -> None:
    """The quiz and the sheets were made from a folder's variants: writing others
    over them needs --force, which also removes the replaced run's files."""
    first = run_cli("variants", "lecture_122", "--count", "3", "--seed", "7", "-o", "v",
                    cwd=tmp_path)
    assert first.returncode == 0, first.stderr
    before = sorted(p.name for p in (tmp_path / "v").iterdir())
    again = run_cli("variants", "lecture_122", "--count", "2", "--seed", "8", "-o", "v",
                    cwd=tmp_path)
    assert again.returncode == 2
    assert "v: already holds variants (index.csv); give --force" in again.stderr
    assert sorted(p.name for p in (tmp_path / "v").iterdir()) == before
    forced = run_cli("variants", "lecture_122", "--count", "2", "--seed", "8", "-o", "v",
                     "--force", cwd=tmp_path)
    assert forced.returncode == 0, forced.stderr
    assert sorted(p.name for p in (tmp_path / "v").iterdir()) == \
        ["index.csv", "lecture_122-s8-001.yaml", "lecture_122-s8-002.yaml"]


def test_force_never_deletes_a_file_that_is_not_a_variant(tmp_path):
    """--force removes the replaced run's variant files listed in index.csv; an index
    that lists the problem being varied (or any other file) made it delete that."""
    folder = tmp_path / "fx"
    folder.mkdir()
    mine = folder / "mine.yaml"
    mine.write_text((BUNDLED / "lecture_122.yaml").read_text(encoding="utf-8"),
                    encoding="utf-8")
    (folder / "notes.yaml").write_text("a: 1\n", encoding="utf-8")
    (folder / "index.csv").write_text("id,seed,index,file,varied\n"
                                      "mine-s1-001,1,1,mine.yaml,W1\n"
                                      "mine-s1-002,1,2,notes.yaml,W1\n", encoding="utf-8")
    result = run_cli("variants", "fx/mine.yaml", "-o", "fx", "--force", "-n", "1",
                             cwd=tmp_path)
    assert result.returncode == 0, result.stderr
    assert mine.exists() and (folder / "notes.yaml").exists()
    assert (folder / "mine-s1-001.yaml").exists()


def test_progress_is_told_of_each_variant_drawn():
    """The command's progress bar (shown on a terminal from 100 variants: 10,000 take
    minutes) follows the draw; the variants are the same with or without it."""
    from bpnn_steps.course.variant_spec import default_spec
    from bpnn_steps.course.variants import variants
    from bpnn_steps.files.problem_file import load_problem

    base = load_problem(BUNDLED / "lecture_122.yaml")
    told: list[int] = []
    run = variants(base, default_spec(base), 5, 7, progress=told.append)
    assert told == [1, 2, 3, 4, 5]
    plain = variants(base, default_spec(base), 5, 7)
    assert [v.id for v in run.variants] == [v.id for v in plain.variants]
    assert [v.problem.initial_weights()[0].tolist() for v in run.variants] == \
        [v.problem.initial_weights()[0].tolist() for v in plain.variants]
