"""Shared test helpers: running the real CLI, writing problem files, and two
calculations of the network that do not use bpnn_steps at all:

* ``np_forward`` / ``np_sample_loss``: a plain-numpy feed-forward and loss, used
  for finite differences;
* ``ref_solve``: a scalar, pure-Python feed-forward + chain-rule back-propagation
  + update loop that produces a dict shaped like the ``--format json`` output.

The reference calculations import nothing from ``bpnn_steps``; only ``run_cli``
runs it.
"""

from __future__ import annotations

import math
import os
import subprocess
import sys
from pathlib import Path

import numpy as np

REPO = Path(__file__).resolve().parents[1]
# leaky_relu's slope for z <= 0 (the README's convention; written here, not imported)
LEAKY_SLOPE = 0.01
BUNDLED = REPO / "bpnn_steps" / "problems"
# Results that depend only on their inputs' hash (compiled sheets), kept between runs.
TEST_CACHE = Path(os.environ.get("BPNN_STEPS_TEST_CACHE", REPO / ".test-cache"))

CLI_ENV = {
    "_TYPER_FORCE_DISABLE_TERMINAL": "1",
    "NO_COLOR": "1",
    "COLUMNS": "120",
}


def cli_env() -> dict[str, str]:
    env = dict(os.environ)
    env.update(CLI_ENV)
    env.pop("FORCE_COLOR", None)
    return env


def console_script() -> str:
    """The installed ``bpnn-steps`` console script (next to this interpreter)."""
    here = Path(sys.executable).parent / "bpnn-steps"
    if here.exists():
        return str(here)
    import shutil

    found = shutil.which("bpnn-steps")
    assert found, "the bpnn-steps console script is not installed"
    return found


def run_cli(*args: str, cwd: str | os.PathLike | None = None, module: bool = False,
            timeout: float = 60, process: bool = False) -> subprocess.CompletedProcess:
    """Run ``bpnn-steps ARGS`` and capture its text.

    In-process by default (typer's CliRunner, in the folder ``cwd``, with the same
    environment as a process): a fresh process costs a second of imports, and the
    suite runs hundreds of commands.  An exception that escapes the command line is
    turned into what a process would show: a traceback on stderr and exit code 1.
    ``process=True`` (or ``module=True``, for ``python -m bpnn_steps``) runs a real
    process, for what only a process shows: start-up, signals, the console script.
    """
    if process or module:
        cmd = [sys.executable, "-m", "bpnn_steps", *args] if module else [console_script(), *args]
        return subprocess.run(cmd, cwd=cwd, env=cli_env(), capture_output=True, text=True,
                              encoding="utf-8", timeout=timeout)
    return _run_in_process(list(args), cwd, timeout)


def invoke(*args: str, cwd: str | os.PathLike | None = None, charset: str = "utf-8"):
    """typer's CliRunner result of ``bpnn-steps ARGS`` run in the folder ``cwd``
    (exit_code, stdout, stderr, and the exception if one escaped); ``charset`` is
    the encoding of its standard streams (strict on stdout, as Python's own under
    PYTHONIOENCODING=ascii)."""
    from typer.testing import CliRunner

    from bpnn_steps.cli import app

    here = os.getcwd()
    try:
        if cwd is not None:
            os.chdir(cwd)
        return CliRunner(charset=charset).invoke(app, list(args))
    finally:
        os.chdir(here)


def _run_in_process(args: list[str], cwd: str | os.PathLike | None,
                    timeout: float) -> subprocess.CompletedProcess:
    import signal
    import traceback

    from typer.testing import CliRunner

    from bpnn_steps.cli import app

    def ring(signum: int, frame: object) -> None:
        raise subprocess.TimeoutExpired(["bpnn-steps", *args], timeout)

    here = os.getcwd()
    previous = signal.signal(signal.SIGALRM, ring)
    signal.setitimer(signal.ITIMER_REAL, timeout)
    try:
        if cwd is not None:
            os.chdir(cwd)
        env: dict[str, str | None] = {**CLI_ENV, "FORCE_COLOR": None}
        result = CliRunner().invoke(app, args, env=env, prog_name="bpnn-steps")
    finally:
        signal.setitimer(signal.ITIMER_REAL, 0)
        signal.signal(signal.SIGALRM, previous)
        os.chdir(here)
    code, stderr = result.exit_code, result.stderr
    error = result.exception
    if isinstance(error, subprocess.TimeoutExpired):
        raise error
    if error is not None and not isinstance(error, SystemExit):
        stderr += "".join(traceback.format_exception(error))
        code = 1
    return subprocess.CompletedProcess(["bpnn-steps", *args], code, result.stdout, stderr)


def write_file(folder: Path, name: str, text: str) -> Path:
    path = Path(folder) / name
    path.write_text(text, encoding="utf-8")
    return path


# --------------------------------------------------------------------------- budgets


def fuzz_factor() -> int:
    """BPNN_STEPS_FUZZ, for a long fuzzing run (docs/testing.md): every property test
    tries that many times its examples, new ones each run.  1 when it is not set."""
    text = os.environ.get("BPNN_STEPS_FUZZ", "").strip()
    return int(text) if text else 1


def examples(count: int) -> int:
    """A property test's number of examples: ``count`` times the fuzz factor."""
    return count * fuzz_factor()


# --------------------------------------------------------------------------- YAML (independent)


def read_yaml(path_or_text: str | os.PathLike, *, text: bool = False) -> dict:
    """Parse a problem file with ruamel's safe loader (not bpnn_steps.spec)."""
    from ruamel.yaml import YAML

    yaml = YAML(typ="safe", pure=True)
    source = path_or_text if text else Path(path_or_text).read_text(encoding="utf-8")
    return yaml.load(source)


def rows(values, width: int) -> list[list[float]]:
    """Data rows as lists of floats (a flat list means one value per row)."""
    out = []
    for r in values:
        out.append([float(v) for v in r] if isinstance(r, list) else [float(r)])
    assert all(len(r) == width for r in out)
    return out


def problem_from_yaml(doc: dict) -> dict:
    """The pieces ``ref_solve`` needs, read straight from the parsed YAML."""
    layers = list(doc["network"]["layers"])
    t = doc.get("training", {}) or {}
    return dict(
        layers=layers,
        acts=list(doc["network"]["activations"]),
        loss=doc.get("loss", "mse"),
        x=rows(doc["data"]["x"], layers[0]),
        y=rows(doc["data"]["y"], layers[-1]),
        weights=[[[float(v) for v in r] for r in doc["weights"][f"W{n}"]]
                 for n in range(1, len(layers))],
        lr=float(t["learning_rate"]),
        method=t.get("method", "batch"),
        batch_size=t.get("batch_size"),
        epochs=int(t.get("epochs", 1)),
        l2=float(t.get("l2", 0.0)),
        l2_bias=bool(t.get("l2_bias", True)),
    )


# --------------------------------------------------------------------------- numpy forward


def _np_act(name: str, z: np.ndarray) -> np.ndarray:
    if name == "sigmoid":
        return 0.5 * (1.0 + np.tanh(0.5 * z))          # = 1 / (1 + e^-z), no overflow
    if name == "tanh":
        return np.tanh(z)
    if name == "relu":
        return np.where(z > 0, z, 0.0)
    if name == "linear":
        return z.copy()
    if name == "softmax":
        e = np.exp(z - z.max())
        return e / e.sum()
    if name == "softplus":
        return np.logaddexp(0.0, z)                     # ln(e^0 + e^z) = ln(1 + e^z)
    if name == "leaky_relu":
        return np.where(z > 0, z, LEAKY_SLOPE * z)
    raise ValueError(name)


def np_forward(weights, x, acts):
    """One sample: lists of z[n] and a[n] for every weight layer."""
    a = np.asarray(x, dtype=float)
    zs, as_ = [], []
    for w, name in zip(weights, acts):
        w = np.asarray(w, dtype=float)
        z = np.concatenate(([1.0], a)) @ w
        a = _np_act(name, z)
        zs.append(z)
        as_.append(a)
    return zs, as_


def np_loss_from(z_out, y_hat, y, loss: str) -> float:
    y = np.asarray(y, dtype=float)
    if loss == "mse":
        return float(0.5 * np.sum((y_hat - y) ** 2))
    if loss == "bce":
        # -[y ln s(z) + (1 - y) ln(1 - s(z))] = ln(1 + e^z) - y z
        return float(np.sum(np.logaddexp(0.0, z_out) - y * z_out))
    if loss == "ce":
        m = z_out.max()
        log_soft = z_out - m - np.log(np.sum(np.exp(z_out - m)))
        return float(-np.sum(y * log_soft))
    raise ValueError(loss)


def np_sample_loss(weights, x, y, acts, loss) -> float:
    zs, as_ = np_forward(weights, x, acts)
    return np_loss_from(zs[-1], as_[-1], y, loss)


def fd_gradients(weights, x, y, acts, loss, eps: float = 1e-6) -> list[np.ndarray]:
    """Central finite differences of the per-sample loss for every weight."""
    ws = [np.array(w, dtype=float) for w in weights]
    grads = []
    for n, w in enumerate(ws):
        g = np.zeros_like(w)
        for idx in np.ndindex(w.shape):
            old = w[idx]
            w[idx] = old + eps
            up = np_sample_loss(ws, x, y, acts, loss)
            w[idx] = old - eps
            down = np_sample_loss(ws, x, y, acts, loss)
            w[idx] = old
            g[idx] = (up - down) / (2 * eps)
        grads.append(g)
    return grads


# --------------------------------------------------------------------------- scalar reference


def _sigmoid(z: float) -> float:
    return 1.0 / (1.0 + math.exp(-z))


def _activate(name: str, zs: list[float]) -> list[float]:
    if name == "sigmoid":
        return [_sigmoid(z) for z in zs]
    if name == "tanh":
        return [math.tanh(z) for z in zs]
    if name == "relu":
        return [z if z > 0 else 0.0 for z in zs]
    if name == "linear":
        return list(zs)
    if name == "softmax":
        m = max(zs)
        e = [math.exp(z - m) for z in zs]
        s = sum(e)
        return [v / s for v in e]
    if name == "softplus":
        return [math.log1p(math.exp(z)) if z < 30 else z + math.log1p(math.exp(-z))
                for z in zs]
    if name == "leaky_relu":
        return [z if z > 0 else LEAKY_SLOPE * z for z in zs]
    raise ValueError(name)


def _jacobian(name: str, zs: list[float], a: list[float]) -> list[list[float]]:
    """J[k][j] = d a_k / d z_j."""
    k = len(zs)
    if name == "softmax":
        return [[a[i] * ((1.0 if i == j else 0.0) - a[j]) for j in range(k)] for i in range(k)]
    if name == "sigmoid":
        d = [v * (1.0 - v) for v in a]
    elif name == "tanh":
        d = [1.0 - v * v for v in a]
    elif name == "relu":
        d = [1.0 if z > 0 else 0.0 for z in zs]
    elif name == "linear":
        d = [1.0] * k
    elif name == "softplus":
        d = [_sigmoid(z) for z in zs]
    elif name == "leaky_relu":
        d = [1.0 if z > 0 else LEAKY_SLOPE for z in zs]
    else:
        raise ValueError(name)
    return [[d[i] if i == j else 0.0 for j in range(k)] for i in range(k)]


def _loss(loss: str, yhat: list[float], y: list[float]) -> float:
    if loss == "mse":
        return sum(0.5 * (p - q) ** 2 for p, q in zip(yhat, y))
    if loss == "bce":
        return -sum(q * math.log(p) + (1 - q) * math.log(1 - p) for p, q in zip(yhat, y))
    if loss == "ce":
        return -sum(q * math.log(p) for p, q in zip(yhat, y) if q != 0)
    raise ValueError(loss)


def _loss_grad(loss: str, yhat: list[float], y: list[float]) -> list[float]:
    """dJ/d yhat_k, straight from the loss (no cancellation tricks)."""
    if loss == "mse":
        return [p - q for p, q in zip(yhat, y)]
    if loss == "bce":
        return [-q / p + (1 - q) / (1 - p) for p, q in zip(yhat, y)]
    if loss == "ce":
        return [-q / p for p, q in zip(yhat, y)]
    raise ValueError(loss)


def ref_forward(weights, x, acts):
    a = list(x)
    zs, as_ = [], []
    for w, name in zip(weights, acts):
        size_out = len(w[0])
        z = []
        for j in range(size_out):
            total = w[0][j]
            for i, v in enumerate(a):
                total += w[i + 1][j] * v
            z.append(total)
        a = _activate(name, z)
        zs.append(z)
        as_.append(a)
    return zs, as_


def ref_gradients(weights, x, y, acts, loss, factor: float = 1.0, through=None):
    """Per-sample gradient matrices by the chain rule, one scalar at a time.

    ``factor`` multiplies J (conventions: 2 without mse's ½, 1/K for the mean over
    the outputs); ``through(n, grads)`` gives the weights of layer n (0-based) that
    the error goes back through (default: ``weights[n]``; the output-first order
    passes the layer's new weights)."""
    zs, as_ = ref_forward(weights, x, acts)
    depth = len(weights)
    upstream = [factor * g for g in _loss_grad(loss, as_[-1], y)]     # dJ/da[L]
    grads = [None] * depth
    for n in range(depth - 1, -1, -1):
        jac = _jacobian(acts[n], zs[n], as_[n])
        size = len(zs[n])
        delta = [sum(upstream[k] * jac[k][j] for k in range(size)) for j in range(size)]
        inputs = [1.0] + (list(x) if n == 0 else as_[n - 1])
        grads[n] = [[inputs[i] * delta[j] for j in range(size)] for i in range(len(inputs))]
        if n > 0:
            w = weights[n] if through is None else through(n, grads[n])
            upstream = [sum(w[i + 1][j] * delta[j] for j in range(size))
                        for i in range(len(as_[n - 1]))]
    return zs, as_, grads


def _reg(w, l2_bias: bool):
    return [[0.0 if (i == 0 and not l2_bias) else v for v in row] for i, row in enumerate(w)]


def ref_cost(weights, xs, ys, acts, loss, l2=0.0, l2_bias=True, factor: float = 1.0,
             cost_sum: bool = False) -> float:
    losses = [factor * _loss(loss, ref_forward(weights, x, acts)[1][-1], y)
              for x, y in zip(xs, ys)]
    penalty = 0.5 * l2 * sum(v * v for w in weights for row in _reg(w, l2_bias) for v in row)
    return sum(losses) / (1 if cost_sum else len(losses)) + penalty


def schedule(T: int, method: str, batch_size: int | None, epochs: int, orders=None):
    """[(epoch, [0-based samples]), ...] per CONTRACT section 1."""
    size = {"batch": T, "sgd": 1}.get(method, batch_size)
    out = []
    for e in range(1, epochs + 1):
        order = list(range(T)) if orders is None else list(orders[e - 1])
        for start in range(0, T, size):
            out.append((e, order[start:start + size]))
    return out


def _wdict(ws):
    return {f"W{n + 1}": [list(r) for r in w] for n, w in enumerate(ws)}


def conventions_factor(loss: str, outputs: int, mse_half: bool = True,
                       output_mean: bool = False) -> float:
    """J under CONTRACT section 5's keys over the lecture's J: no ½ doubles mse, the
    mean over the K outputs divides mse and bce by K (ce keeps its sum)."""
    factor = 2.0 if loss == "mse" and not mse_half else 1.0
    return factor / outputs if output_mean and loss in ("mse", "bce") else factor


def ref_solve(layers, acts, loss, x, y, weights, lr, method="batch", batch_size=None,
              epochs=1, l2=0.0, l2_bias=True, orders=None, *, mse_half=True,
              output_mean=False, cost_sum=False, update_biases=True,
              output_first=False) -> dict:
    """The whole trace as a dict shaped like the JSON output (CONTRACT section 3),
    under the conventions' keys (CONTRACT section 5; default: the lecture's)."""
    ws = [[list(map(float, r)) for r in w] for w in weights]
    factor = conventions_factor(loss, layers[-1], mse_half, output_mean)
    steps = []
    for epoch, batch in schedule(len(x), method, batch_size, epochs, orders):
        forward, gradients, losses, sums = [], [], [], None
        b = len(batch)
        regs = [_reg(w, l2_bias) for w in ws]
        divisor = 1 if cost_sum else b

        def new_layer(n, grad_sum):
            return [[w_ij - (0.0 if i == 0 and not update_biases
                             else lr * (s_ij / divisor + l2 * r_ij))
                     for w_ij, s_ij, r_ij in zip(wr, sr, rr)]
                    for i, (wr, sr, rr) in enumerate(zip(ws[n], grad_sum, regs[n]))]

        through = None
        if output_first:
            # Only one sample per update makes "the new weights above" the same for
            # every sample; a batch would need the batch's sum first.
            assert b == 1, "the scalar output-first reference handles one sample per update"
            through = new_layer
        for t in batch:
            zs, as_, grads = ref_gradients(ws, x[t], y[t], acts, loss, factor, through)
            j = factor * _loss(loss, as_[-1], y[t])
            losses.append(j)
            forward.append({"sample": t + 1, "z": zs, "a": as_, "y_hat": as_[-1], "loss": j})
            gradients.append({"sample": t + 1, **_wdict(grads)})
            if sums is None:
                sums = [[list(r) for r in g] for g in grads]
            else:
                sums = [[[s + v for s, v in zip(sr, gr)] for sr, gr in zip(sg, g)]
                        for sg, g in zip(sums, grads)]
        penalty = 0.5 * l2 * sum(v * v for r in regs for row in r for v in row)
        after = [new_layer(n, s) for n, s in enumerate(sums)]
        steps.append({
            "epoch": epoch, "samples": [t + 1 for t in batch],
            "weights_before": _wdict(ws), "forward": forward,
            "cost": sum(losses) / divisor + penalty, "gradients": gradients,
            "weights_after": _wdict(after),
        })
        ws = after
    return {"steps": steps,
            "final": {"weights": _wdict(ws),
                      "cost": ref_cost(ws, x, y, acts, loss, l2, l2_bias, factor, cost_sum)}}


# --------------------------------------------------------------------------- comparing


def assert_close_tree(expected, actual, path: str = "$", rel: float = 1e-12,
                      abs_tol: float = 1e-13) -> None:
    """Every key of ``expected`` must be in ``actual`` with equal structure; numbers
    compared with relative tolerance ``rel`` (ints and strings exactly)."""
    if isinstance(expected, dict):
        assert isinstance(actual, dict), f"{path}: expected an object, got {type(actual)}"
        for key, value in expected.items():
            assert key in actual, f"{path}: key {key!r} missing"
            assert_close_tree(value, actual[key], f"{path}.{key}", rel, abs_tol)
    elif isinstance(expected, (list, tuple)):
        assert isinstance(actual, list), f"{path}: expected a list, got {type(actual)}"
        assert len(actual) == len(expected), \
            f"{path}: length {len(actual)}, expected {len(expected)}"
        for i, (e, a) in enumerate(zip(expected, actual)):
            assert_close_tree(e, a, f"{path}[{i}]", rel, abs_tol)
    elif isinstance(expected, bool) or isinstance(expected, str) or expected is None:
        assert actual == expected, f"{path}: {actual!r} != {expected!r}"
    elif isinstance(expected, int) and not isinstance(expected, bool):
        assert actual == expected and not isinstance(actual, bool), \
            f"{path}: {actual!r} != {expected!r}"
    else:
        assert isinstance(actual, (int, float)) and not isinstance(actual, bool), \
            f"{path}: {actual!r} is not a number"
        assert math.isclose(actual, expected, rel_tol=rel, abs_tol=abs_tol), \
            f"{path}: {actual!r} != {expected!r} (rel {rel})"
