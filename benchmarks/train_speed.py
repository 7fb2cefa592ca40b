"""Training speed of bpnn-steps against PyTorch, scikit-learn and numpy.

The same tasks, from the same initial weights, in every tool:

1. per-sample SGD on the lecture's 1-8-1 sine problem (bundled sine_181_sgd:
   40 samples, lambda 0.03, data order): sample-updates per second;
2. full-batch gradient descent on 100,000 samples with the same 1-8-1 network:
   time per epoch, against a hand-written numpy loop and PyTorch;
3. a whole `bpnn-steps train sine_181_sgd` run (2,000,000 sample-updates),
   start-up included: wall time of the process.

Every tool is checked to reach the same weights as bpnn-steps after the same
number of epochs (float64 throughout).  PyTorch runs on the CPU with one
thread, scikit-learn's MLPRegressor with plain SGD (momentum 0, no shuffling,
alpha 0, tol 0), BLAS limited to one thread for everyone.

Targets (issue 5): SGD at 1e7 sample-updates/s or more, at least 2000x PyTorch
and 500x scikit-learn; full-batch GD within 1.3x of the best of numpy and
PyTorch; the 2-million-update run under 2 s.

    pip install torch==2.13.0 scikit-learn      # benchmark-only, never runtime deps
    python benchmarks/train_speed.py [--repeats 5] [--quick]

When OPENBLAS_CORETYPE / OPENBLAS_L2_SIZE are set (some machines set them for
old OpenBLAS builds; they slow a current numpy), the script runs itself again
with both unset, for this command alone, and reports the BLAS kernel in use.
"""

from __future__ import annotations

import argparse
import os
import platform
import shutil
import statistics
import subprocess
import sys
import time
import warnings
from pathlib import Path

ROOT = Path(__file__).resolve().parent.parent
_OPENBLAS_VARS = ("OPENBLAS_CORETYPE", "OPENBLAS_L2_SIZE")

if any(v in os.environ for v in _OPENBLAS_VARS) and "--keep-openblas-env" not in sys.argv:
    env = {k: v for k, v in os.environ.items() if k not in _OPENBLAS_VARS}
    env["BPNN_BENCH_UNSET_OPENBLAS"] = ",".join(v for v in _OPENBLAS_VARS if v in os.environ)
    os.execve(sys.executable, [sys.executable, *sys.argv], env)

import numpy as np  # noqa: E402

sys.path.insert(0, str(ROOT))

from bpnn_steps.files.problem_file import load_problem, parse_problem  # noqa: E402
from bpnn_steps.maths.training import train  # noqa: E402


# --------------------------------------------------------------------------- machine


def machine() -> list[str]:
    cpu = platform.processor() or platform.machine()
    try:
        for line in Path("/proc/cpuinfo").read_text().splitlines():
            if line.startswith("model name"):
                cpu = line.split(":", 1)[1].strip()
                break
    except OSError:
        pass
    lines = [f"CPU: {cpu}, {os.cpu_count()} cores; {platform.system()} {platform.release()}; "
             f"Python {platform.python_version()}"]
    import numba
    versions = [f"numpy {np.__version__}", f"numba {numba.__version__}"]
    try:
        import torch
        versions.append(f"torch {torch.__version__}")
    except ImportError:
        versions.append("torch not installed")
    try:
        import sklearn
        versions.append(f"scikit-learn {sklearn.__version__}")
    except ImportError:
        versions.append("scikit-learn not installed")
    lines.append(", ".join(versions))
    try:
        from threadpoolctl import threadpool_info
        pools = []
        for pool in threadpool_info():
            if pool.get("internal_api") in ("openblas", "mkl", "blis"):
                owner = Path(pool.get("filepath", "")).parent.name or "?"
                pools.append(f"{pool['internal_api']} {pool.get('version')} "
                             f"({pool.get('architecture', '?')} kernel, from {owner}, "
                             f"{pool.get('num_threads')} thread)")
        if pools:
            lines.append("BLAS: " + "; ".join(pools))
    except ImportError:
        pass
    unset = os.environ.get("BPNN_BENCH_UNSET_OPENBLAS")
    if unset:
        lines.append(f"(ran with {unset} unset, so that numpy uses its best BLAS kernel)")
    return lines


def one_thread() -> None:
    try:
        from threadpoolctl import threadpool_limits
        threadpool_limits(1)
    except ImportError:
        pass
    try:
        import torch
        torch.set_num_threads(1)
    except ImportError:
        pass


# --------------------------------------------------------------------------- tools


def split_weights(weights):
    """W[n] (row 0 = biases) -> (weight matrices (in x out), bias vectors)."""
    return [w[1:] for w in weights], [w[0] for w in weights]


def joined(mats, biases):
    return [np.vstack([b[None, :], m]) for m, b in zip(mats, biases)]


def max_difference(a, b) -> float:
    return max(float(np.max(np.abs(x - y))) / max(1.0, float(np.max(np.abs(y))))
               for x, y in zip(a, b))


def torch_sgd(weights, x, y, lr, epochs, batch=1):
    """PyTorch float64 training, one sample (or ``batch``) per update; (weights, seconds)."""
    import torch

    mats, biases = split_weights(weights)
    layers = []
    for i, (m, b) in enumerate(zip(mats, biases)):
        lin = torch.nn.Linear(m.shape[0], m.shape[1], dtype=torch.float64)
        with torch.no_grad():
            lin.weight.copy_(torch.from_numpy(np.array(m.T, order="C")))
            lin.bias.copy_(torch.from_numpy(np.array(b)))
        layers.append(lin)
        if i < len(mats) - 1:
            layers.append(torch.nn.Sigmoid())
    model = torch.nn.Sequential(*layers)
    opt = torch.optim.SGD(model.parameters(), lr=lr, momentum=0.0)
    X = torch.from_numpy(np.array(x, order="C"))
    Y = torch.from_numpy(np.array(y, order="C"))
    n = X.shape[0]
    batches = [(X[s:s + batch], Y[s:s + batch]) for s in range(0, n, batch)]
    start = time.perf_counter()
    for _ in range(epochs):
        for xb, yb in batches:
            opt.zero_grad(set_to_none=True)
            loss = 0.5 * ((model(xb) - yb) ** 2).sum(dim=1).mean()
            loss.backward()
            opt.step()
    seconds = time.perf_counter() - start
    lins = [m for m in model if isinstance(m, torch.nn.Linear)]
    out = joined([l.weight.detach().numpy().T.copy() for l in lins],
                 [l.bias.detach().numpy().copy() for l in lins])
    return out, seconds


def sklearn_sgd(weights, x, y, lr, epochs, batch=1):
    """scikit-learn MLPRegressor, plain SGD from the given weights; (weights, seconds)."""
    from sklearn.exceptions import ConvergenceWarning
    from sklearn.neural_network import MLPRegressor

    mats, biases = split_weights(weights)
    hidden = tuple(m.shape[1] for m in mats[:-1])
    mlp = MLPRegressor(hidden_layer_sizes=hidden, activation="logistic", solver="sgd",
                       learning_rate="constant", learning_rate_init=lr, momentum=0.0,
                       nesterovs_momentum=False, batch_size=batch, shuffle=False, alpha=0.0,
                       tol=0.0, n_iter_no_change=epochs + 1, max_iter=epochs,
                       early_stopping=False, warm_start=True)
    target = y[:, 0] if y.shape[1] == 1 else y
    # Initialise the model's structures (private API, as a warm start would), then
    # put our initial weights in; fit() then continues from them.
    mlp._random_state = np.random.RandomState(0)
    mlp._initialize(y, [x.shape[1], *hidden, y.shape[1]], np.float64)
    mlp.n_features_in_ = x.shape[1]
    mlp.coefs_ = [m.copy() for m in mats]
    mlp.intercepts_ = [b.copy() for b in biases]
    with warnings.catch_warnings():
        warnings.simplefilter("ignore", ConvergenceWarning)
        start = time.perf_counter()
        mlp.fit(x, target)
        seconds = time.perf_counter() - start
    assert mlp.n_iter_ == epochs, mlp.n_iter_
    return joined(mlp.coefs_, mlp.intercepts_), seconds


def numpy_gd(weights, x, y, lr, epochs):
    """Full-batch GD for a 1-hidden-layer sigmoid/linear net, hand-written in numpy."""
    w1, w2 = (w.copy() for w in weights)
    t = x.shape[0]
    start = time.perf_counter()
    for _ in range(epochs):
        h = 1.0 / (1.0 + np.exp(-(x @ w1[1:] + w1[0])))
        yhat = h @ w2[1:] + w2[0]
        d2 = yhat - y
        d1 = (d2 @ w2[1:].T) * h * (1.0 - h)
        g2 = np.vstack([d2.sum(axis=0), h.T @ d2]) / t
        g1 = np.vstack([d1.sum(axis=0), x.T @ d1]) / t
        w2 -= lr * g2
        w1 -= lr * g1
    return [w1, w2], time.perf_counter() - start


def ours(problem, epochs):
    result = train(problem.with_training(epochs=epochs), kernel="compiled")
    assert result.kernel == "compiled"
    return list(result.weights), result.seconds


def best_of(repeats: int, fn, *args):
    """(result of the fastest run, its seconds, all seconds)."""
    runs = [fn(*args) for _ in range(repeats)]
    times = [s for _, s in runs]
    best = min(range(repeats), key=lambda i: times[i])
    return runs[best][0], times[best], times


# --------------------------------------------------------------------------- tasks


def verdict(ok: bool) -> str:
    return "MET" if ok else "NOT MET"


def task_sgd(repeats: int, quick: bool, have_torch: bool, have_sklearn: bool) -> dict:
    problem = load_problem("sine_181_sgd")
    lr = problem.training.learning_rate
    x, y, w0 = problem.x, problem.y, list(problem.weights)
    t = problem.samples
    ours(problem, 2)                              # load the compiled kernel
    epochs_ours = 10_000 if quick else 50_000
    _, sec_ours, _ = best_of(repeats, ours, problem, epochs_ours)
    rate_ours = epochs_ours * t / sec_ours
    print("1. Per-sample SGD, 1-8-1 network, sine_181_sgd (40 samples, lambda 0.03, data "
          "order), float64")
    print(f"   {'tool':38s} {'sample-updates/s':>17s} {'bpnn-steps is':>14s} "
          f"{'same weights (max rel. diff)':>29s}")
    print(f"   {'bpnn-steps train (compiled kernel)':38s} {rate_ours:17.3g} {'':>14s} "
          f"{'(reference)':>29s}")
    out = {"ours": rate_ours}
    rows = []
    if have_torch:
        epochs = 5 if quick else 25
        w_t, sec, _ = best_of(max(1, repeats // 2), torch_sgd, w0, x, y, lr, epochs)
        ref = ours(problem, epochs)[0]
        rows.append(("PyTorch (CPU, float64, 1 thread)", epochs * t / sec,
                     max_difference(w_t, ref)))
    if have_sklearn:
        epochs = 20 if quick else 100
        w_s, sec, _ = best_of(max(1, repeats // 2), sklearn_sgd, w0, x, y, lr, epochs)
        ref = ours(problem, epochs)[0]
        rows.append(("scikit-learn MLPRegressor (sgd)", epochs * t / sec,
                     max_difference(w_s, ref)))
    for name, rate, diff in rows:
        print(f"   {name:38s} {rate:17.3g} {rate_ours / rate:12.0f}x {diff:29.1e}")
        out[name.split()[0]] = (rate, diff)
    ok = rate_ours >= 1e7
    parts = [f"{rate_ours:.3g} >= 1e7: {verdict(ok)}"]
    if "PyTorch" in out:
        r = rate_ours / out["PyTorch"][0]
        parts.append(f"{r:.0f}x PyTorch >= 2000x: {verdict(r >= 2000)}")
    if "scikit-learn" in out:
        r = rate_ours / out["scikit-learn"][0]
        parts.append(f"{r:.0f}x scikit-learn >= 500x: {verdict(r >= 500)}")
    same = all(d < 1e-9 for _, _, d in rows)
    print(f"   targets: {'; '.join(parts)}; weights agree to 1e-9: {verdict(same)}")
    print()
    return out


def task_full_batch(repeats: int, quick: bool, have_torch: bool, have_sklearn: bool) -> dict:
    samples = 100_000
    text = f"""
title: full-batch benchmark
network: {{layers: [1, 8, 1], activations: [sigmoid, linear]}}
data: {{generate: {{kind: sine, points: {samples}, range: [0, 6.283185307179586]}}}}
weights: {{random: {{scale: 1.0, seed: 1}}}}
training: {{learning_rate: 0.5, method: batch, epochs: 1}}
"""
    problem = parse_problem(text, "full-batch benchmark")
    x, y, w0 = problem.x, problem.y, list(problem.weights)
    lr = problem.training.learning_rate
    epochs = 5 if quick else 20
    ours(problem, 2)
    w_o, sec_o, _ = best_of(repeats, ours, problem, epochs)
    w_n, sec_n, _ = best_of(repeats, numpy_gd, w0, x, y, lr, epochs)
    rows = [("bpnn-steps train (compiled kernel)", sec_o, None),
            ("numpy (hand-written, vectorised)", sec_n, max_difference(w_n, w_o))]
    if have_torch:
        w_t, sec_t, _ = best_of(repeats, torch_sgd, w0, x, y, lr, epochs, samples)
        rows.append(("PyTorch (CPU, float64, 1 thread)", sec_t, max_difference(w_t, w_o)))
    if have_sklearn:
        w_s, sec_s, _ = best_of(max(1, repeats // 2), sklearn_sgd, w0, x, y, lr, epochs,
                                samples)
        rows.append(("scikit-learn MLPRegressor (sgd)", sec_s, max_difference(w_s, w_o)))
    best_other = min(sec for name, sec, _ in rows[1:] if not name.startswith("scikit"))
    print(f"2. Full-batch gradient descent, 1-8-1 network, {samples:,} samples, {epochs} epochs,"
          " float64")
    print(f"   {'tool':38s} {'ms per epoch':>13s} {'time / best of numpy, PyTorch':>30s} "
          f"{'same weights':>13s}")
    for name, sec, diff in rows:
        print(f"   {name:38s} {1e3 * sec / epochs:13.2f} {sec / best_other:29.2f}x "
              f"{'(reference)' if diff is None else f'{diff:.1e}':>13s}")
    ratio = sec_o / best_other
    same = all(d < 1e-9 for _, _, d in rows[1:] if d is not None)
    print(f"   target: bpnn-steps within 1.3x of the best of numpy and PyTorch: {ratio:.2f}x: "
          f"{verdict(ratio <= 1.3)}; weights agree to 1e-9: {verdict(same)}")
    print()
    return {"ratio": ratio}


def task_cli(repeats: int) -> dict:
    script = shutil.which("bpnn-steps")
    tool = [script] if script else [sys.executable, "-m", "bpnn_steps"]
    cmd = tool + ["train", "sine_181_sgd"]
    subprocess.run(cmd, stdout=subprocess.DEVNULL, stderr=subprocess.DEVNULL, check=True)
    times = []
    for _ in range(max(3, repeats)):
        start = time.perf_counter()
        subprocess.run(cmd, stdout=subprocess.DEVNULL, stderr=subprocess.DEVNULL, check=True)
        times.append(time.perf_counter() - start)
    median = statistics.median(times)
    print("3. `bpnn-steps train sine_181_sgd`: 50,000 epochs x 40 samples = 2,000,000 "
          "sample-updates, whole process")
    print(f"   wall time: median {median:.2f} s, best {min(times):.2f} s over {len(times)} runs "
          f"(kernel cached); target < 2 s: {verdict(median < 2.0)}")
    print()
    return {"median": median}


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--repeats", type=int, default=5, help="runs per measurement (best "
                                                               "is kept)")
    parser.add_argument("--quick", action="store_true", help="fewer epochs (a smoke test)")
    parser.add_argument("--keep-openblas-env", action="store_true",
                        help="do not unset OPENBLAS_CORETYPE / OPENBLAS_L2_SIZE")
    args = parser.parse_args()
    have_torch = have_sklearn = True
    try:
        import torch  # noqa: F401
    except ImportError:
        have_torch = False
    try:
        import sklearn.neural_network  # noqa: F401
    except ImportError:
        have_sklearn = False
    one_thread()            # after the imports, so that every BLAS loaded is limited
    for line in machine():
        print(line)
    if not (have_torch and have_sklearn):
        print("(install the comparison tools with: pip install torch==2.13.0 scikit-learn)")
    print()
    task_sgd(args.repeats, args.quick, have_torch, have_sklearn)
    task_full_batch(args.repeats, args.quick, have_torch, have_sklearn)
    task_cli(args.repeats)


if __name__ == "__main__":
    main()
