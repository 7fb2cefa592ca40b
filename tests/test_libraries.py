"""bpnn-steps' presets against the libraries themselves: one update of PyTorch and of
scikit-learn, compared with `solve`'s engine under `preset: pytorch` / `preset:
sklearn`.  Skipped when torch or scikit-learn is not installed (they are in the
`bench` extra, not the `test` extra; `pip install torch==2.13.0` is a CPU build).

What is verified (the README's provenance table quotes this):

PyTorch (torch 2.13.0, CPU, float64 throughout, `torch.set_default_dtype` untouched:
every tensor is created as float64).  Random small networks from a seeded numpy
Generator (2-3-4, 3-4-3-5 and 2-3-3, tanh / sigmoid hidden layers), built as
`nn.Linear` layers from bpnn-steps' W[n] (bias = row 0, weight = rows 1.. transposed),
a batch of 5 samples, one `loss.backward()` and one `torch.optim.SGD(lr).step()`:

* `nn.MSELoss()` (reduction 'mean') on a linear output,
* `nn.BCELoss()` (reduction 'mean') on a sigmoid output,
* `nn.CrossEntropyLoss()` (reduction 'mean') on the logits z of a softmax output
  (CrossEntropyLoss applies log-softmax itself; the targets are class indices),

each with `weight_decay=0` and with `weight_decay=β` (PyTorch adds β p to the
gradient of every parameter, biases included).  The new weight and bias of every
layer equal bpnn-steps' `preset: pytorch` with `training.l2: β`, `l2_bias: true`,
`method: batch`, one epoch, to 1e-12 (absolute, weights of order 1).

scikit-learn (the installed version, 1.x): `MLPRegressor` (identity output,
squared error) and `MLPClassifier` (logistic output with log-loss for binary and
multilabel targets = bpnn-steps' bce; softmax output for multiclass = ce), all with
`solver='sgd'`, `momentum=0`, `nesterovs_momentum=False`,
`learning_rate='constant'`, `learning_rate_init=λ`, `alpha`, `batch_size=T` (the
whole batch), `shuffle=False`.  One `partial_fit` initialises the model; its
`coefs_` / `intercepts_` are then overwritten with bpnn-steps' W[n] (coefs_ =
rows 1.., intercepts_ = row 0), its optimizer is dropped (so a new one, with zero
velocities, is made), and one more `partial_fit` over the same T samples is one
update.  Its new coefs_ / intercepts_ equal bpnn-steps' `preset: sklearn` (½
squared error summed over the outputs, mean over the samples, `l2_bias: false`)
with β = alpha / T, to 1e-12.  Read from sklearn's `_multilayer_perceptron.py`
(`_backprop`, `_compute_loss_grad`) and confirmed here: the gradient is
(Σ_t a^T δ + alpha W) / T with δ = ŷ − y, not divided by K, the intercepts get no
penalty; only the reported `loss_` (squared error: mean over samples *and*
outputs, halved) is divided by K, which the last test checks against bpnn-steps'
cost.
"""

from __future__ import annotations

import warnings

import numpy as np
import pytest

from bpnn_steps.files.problem_file import parse_problem
from bpnn_steps.maths.engine import solve

ATOL = 1e-12

# (layers, hidden activations): the output layer follows from the loss
# (K = 2 outputs would hide MSELoss' missing ½ behind its 1/K: 2/K = 1)
NETWORKS = [((2, 3, 4), ("tanh",)), ((3, 4, 3, 5), ("sigmoid", "tanh")), ((2, 3, 3), ("tanh",))]


def problem_yaml(layers, acts, loss, x, y, weights, lr, beta, preset, l2_bias=None) -> str:
    bias = "" if l2_bias is None else f"  l2_bias: {str(l2_bias).lower()}\n"
    return (f"network:\n  layers: {list(layers)}\n  activations: [{', '.join(acts)}]\n"
            f"loss: {loss}\ndata:\n  x: {x.tolist()}\n  y: {y.tolist()}\nweights:\n"
            + "".join(f"  W{n + 1}: {w.tolist()}\n" for n, w in enumerate(weights))
            + f"training:\n  learning_rate: {lr!r}\n  method: batch\n  epochs: 1\n"
            f"  l2: {beta!r}\n{bias}conventions:\n  preset: {preset}\n")


def engine_step(layers, acts, loss, x, y, weights, lr, beta, preset, l2_bias=None):
    problem = parse_problem(problem_yaml(layers, acts, loss, x, y, weights, lr, beta, preset,
                                         l2_bias))
    return solve(problem)


def random_weights(rng: np.random.Generator, layers) -> list[np.ndarray]:
    return [rng.uniform(-0.8, 0.8, (a + 1, b)) for a, b in zip(layers, layers[1:])]


def targets(rng: np.random.Generator, loss: str, samples: int, k: int) -> np.ndarray:
    if loss == "mse":
        return rng.normal(size=(samples, k))
    if loss == "bce":
        return rng.integers(0, 2, (samples, k)).astype(float)
    return np.eye(k)[rng.integers(0, k, samples)]


# --------------------------------------------------------------------------- PyTorch

OUTPUT = {"mse": "linear", "bce": "sigmoid", "ce": "softmax"}
TORCH_CASES = [(net, loss) for net in range(len(NETWORKS)) for loss in ("mse", "bce", "ce")]


@pytest.mark.parametrize("beta", [0.0, 0.07])
@pytest.mark.parametrize("net,loss", TORCH_CASES)
def test_one_pytorch_sgd_step_is_the_pytorch_preset(net, loss, beta) -> None:
    torch = pytest.importorskip("torch", reason="torch is not installed (bench extra; "
                                                "pip install torch==2.13.0)")
    layers, hidden = NETWORKS[net]
    acts = (*hidden, OUTPUT[loss])
    rng = np.random.default_rng([net, ["mse", "bce", "ce"].index(loss), int(beta > 0)])
    weights = random_weights(rng, layers)
    x = rng.normal(size=(5, layers[0]))
    y = targets(rng, loss, 5, layers[-1])
    lr = 0.37

    linears = []
    for w in weights:
        linear = torch.nn.Linear(w.shape[0] - 1, w.shape[1], dtype=torch.float64)
        with torch.no_grad():
            linear.weight.copy_(torch.tensor(w[1:].T, dtype=torch.float64))
            linear.bias.copy_(torch.tensor(w[0], dtype=torch.float64))
        linears.append(linear)
    hidden_fn = {"tanh": torch.tanh, "sigmoid": torch.sigmoid}
    params = [p for linear in linears for p in (linear.weight, linear.bias)]
    optimizer = torch.optim.SGD(params, lr=lr, weight_decay=beta)
    optimizer.zero_grad()
    a = torch.tensor(x, dtype=torch.float64)
    for linear, act in zip(linears[:-1], hidden):
        a = hidden_fn[act](linear(a))
    z = linears[-1](a)
    target = torch.tensor(y, dtype=torch.float64)
    if loss == "mse":
        value = torch.nn.MSELoss()(z, target)
    elif loss == "bce":
        value = torch.nn.BCELoss()(torch.sigmoid(z), target)
    else:   # CrossEntropyLoss takes the logits z (it applies log-softmax itself)
        value = torch.nn.CrossEntropyLoss()(z, target.argmax(dim=1))
    value.backward()
    optimizer.step()

    trace = engine_step(layers, acts, loss, x, y, weights, lr, beta, "pytorch", l2_bias=True)
    # the cost before the update is PyTorch's loss (plus ½ β Σ w², biases included)
    l2 = 0.5 * beta * sum(float(np.sum(w * w)) for w in weights)
    assert trace.steps[0].cost == pytest.approx(value.item() + l2, rel=1e-12)
    for linear, w in zip(linears, trace.final_weights, strict=True):
        np.testing.assert_allclose(linear.bias.detach().numpy(), w[0], rtol=0, atol=ATOL)
        np.testing.assert_allclose(linear.weight.detach().numpy(), w[1:].T, rtol=0, atol=ATOL)


# --------------------------------------------------------------------------- scikit-learn

def sklearn_step(model, x, y_fit, weights, classes=None):
    """One partial_fit update of ``model`` from ``weights`` over all of x."""
    extra = {} if classes is None else {"classes": classes}
    with warnings.catch_warnings():
        warnings.simplefilter("ignore")
        model.partial_fit(x, y_fit, **extra)       # initialises coefs_, intercepts_
        model.coefs_ = [np.array(w[1:]) for w in weights]
        model.intercepts_ = [np.array(w[0]) for w in weights]
        del model._optimizer                      # a fresh SGD optimizer (no velocity)
        model.partial_fit(x, y_fit)
    return model


SKLEARN_ACTIVATION = {"tanh": "tanh", "sigmoid": "logistic"}


def sklearn_options(hidden, lr: float, alpha: float, batch: int) -> dict:
    return dict(hidden_layer_sizes=hidden, solver="sgd", momentum=0.0,
                nesterovs_momentum=False, learning_rate="constant", learning_rate_init=lr,
                alpha=alpha, batch_size=batch, shuffle=False, random_state=0)


def assert_sklearn_weights(model, trace) -> None:
    for coef, intercept, w in zip(model.coefs_, model.intercepts_, trace.final_weights,
                                  strict=True):
        np.testing.assert_allclose(intercept, w[0], rtol=0, atol=ATOL)
        np.testing.assert_allclose(coef, w[1:], rtol=0, atol=ATOL)


@pytest.mark.parametrize("alpha", [0.0, 0.3])
@pytest.mark.parametrize("net", range(len(NETWORKS)))
def test_mlp_regressor_step_is_the_sklearn_preset(net, alpha) -> None:
    nn = pytest.importorskip("sklearn.neural_network",
                             reason="scikit-learn is not installed (bench extra)")
    layers, hidden = NETWORKS[net]
    hidden = (hidden[0],) * len(hidden)     # sklearn: one activation for every hidden layer
    rng = np.random.default_rng([10, net, int(alpha > 0)])
    weights = random_weights(rng, layers)
    samples = 6
    x = rng.normal(size=(samples, layers[0]))
    y = targets(rng, "mse", samples, layers[-1])
    lr = 0.23
    model = nn.MLPRegressor(activation=SKLEARN_ACTIVATION[hidden[0]],
                            **sklearn_options(layers[1:-1], lr, alpha, samples))
    sklearn_step(model, x, y, weights)
    acts = (*hidden, "linear")
    trace = engine_step(layers, acts, "mse", x, y, weights, lr, alpha / samples, "sklearn")
    assert not trace.settings.l2_bias                     # the preset's l2_bias false
    assert_sklearn_weights(model, trace)


@pytest.mark.parametrize("kind", ["binary", "multilabel", "multiclass"])
@pytest.mark.parametrize("alpha", [0.0, 0.3])
def test_mlp_classifier_step_is_the_sklearn_preset(kind, alpha) -> None:
    nn = pytest.importorskip("sklearn.neural_network",
                             reason="scikit-learn is not installed (bench extra)")
    rng = np.random.default_rng([20, ["binary", "multilabel", "multiclass"].index(kind),
                                 int(alpha > 0)])
    k = {"binary": 1, "multilabel": 2, "multiclass": 3}[kind]
    layers = (3, 4, k)
    weights = random_weights(rng, layers)
    samples = 8
    x = rng.normal(size=(samples, 3))
    loss = "ce" if kind == "multiclass" else "bce"
    y = targets(rng, loss, samples, k)
    while kind != "multilabel" and len(np.unique(y.argmax(1) if k > 1 else y)) < max(k, 2):
        y = targets(rng, loss, samples, k)      # every class present, so no class is unseen
    # binary: labels 0/1 (one logistic output); multilabel: the indicator matrix;
    # multiclass: labels 0..2 (softmax over 3 outputs)
    y_fit = {"binary": y[:, 0], "multilabel": y, "multiclass": y.argmax(1)}[kind]
    classes = None if kind == "multilabel" else np.arange(max(k, 2))
    lr = 0.31
    model = nn.MLPClassifier(activation="tanh", **sklearn_options((4,), lr, alpha, samples))
    if kind == "multilabel":
        with warnings.catch_warnings():
            warnings.simplefilter("ignore")
            model.fit(x, y_fit)       # partial_fit learns multilabel targets from fit
    sklearn_step(model, x, y_fit, weights, classes)
    assert model.out_activation_ == ("softmax" if kind == "multiclass" else "logistic")
    acts = ("tanh", "softmax" if kind == "multiclass" else "sigmoid")
    trace = engine_step(layers, acts, loss, x, y, weights, lr, alpha / samples, "sklearn")
    assert_sklearn_weights(model, trace)


def test_sklearn_reports_the_squared_error_over_the_outputs_too() -> None:
    # Its loss_ is the cost's mean over the K outputs as well (its gradient is not):
    # bpnn-steps' sklearn cost / K, plus its alpha penalty ½ alpha Σ W² / T.
    nn = pytest.importorskip("sklearn.neural_network",
                             reason="scikit-learn is not installed (bench extra)")
    rng = np.random.default_rng(30)
    layers = (2, 3, 3)
    weights = random_weights(rng, layers)
    x = rng.normal(size=(6, 2))
    y = targets(rng, "mse", 6, 3)
    alpha = 0.2
    model = nn.MLPRegressor(activation="tanh", **sklearn_options((3,), 0.1, alpha, 6))
    sklearn_step(model, x, y, weights)
    trace = engine_step(layers, ("tanh", "linear"), "mse", x, y, weights, 0.1, 0.0, "sklearn")
    penalty = 0.5 * alpha * sum(float(np.sum(w[1:] ** 2)) for w in weights) / 6
    assert model.loss_ == pytest.approx(trace.steps[0].data_cost / 3 + penalty, rel=1e-12)
