"""The immutable trace of a calculation: what every output format reads.

One :class:`Step` per weight update.  Every number shown by any renderer is a
field here; renderers select and format, they never compute.

Indices in the data model are 0-based Python indices into tuples (layer n of the
lecture is ``[n - 1]``); sample numbers (``SampleForward.sample``) are the
lecture's 1-based t.
"""

from __future__ import annotations

from dataclasses import dataclass
from typing import Any

import numpy as np

from .conventions import LECTURE, Conventions, conventions_from_dict

Array = np.ndarray


def read_only(a: Array) -> Array:
    """``a`` itself, from now on read-only: for an array that nothing else writes to
    (the engine's batch arrays once an update is done), so that the trace can keep
    views of it (a sample's row) instead of copies."""
    a.flags.writeable = False
    return a


def _ro(a: Any) -> Array:
    if isinstance(a, np.ndarray) and a.dtype == np.float64 and not a.flags.writeable:
        base = a.base
        if base is None or (isinstance(base, np.ndarray) and base.base is None
                            and not base.flags.writeable):
            # Already a read-only float array of its own (the weights after one
            # update are the weights before the next), or a read-only view of one
            # (a sample's row of a batch array made read_only): shared, not copied.
            return a
    out: Array = np.array(a, dtype=float, copy=True)
    out.flags.writeable = False
    return out


def _ro_tuple(items: Any) -> tuple[Array, ...]:
    return tuple(_ro(a) for a in items)


@dataclass(frozen=True, eq=False)
class SampleForward:
    """Feed-forward of one sample t: z[n] and a[n] for every weight layer n."""

    sample: int                      # t, 1-based
    x: Array                         # x_(t), N values
    y: Array                         # y_(t), K values
    z: tuple[Array, ...]             # z[0] is layer 1
    a: tuple[Array, ...]             # a[-1] is y-hat
    loss: float                      # J_(t)

    def __post_init__(self) -> None:
        for name in ("x", "y"):
            object.__setattr__(self, name, _ro(getattr(self, name)))
        object.__setattr__(self, "z", _ro_tuple(self.z))
        object.__setattr__(self, "a", _ro_tuple(self.a))

    @property
    def y_hat(self) -> Array:
        return self.a[-1]


@dataclass(frozen=True, eq=False)
class SampleBackward:
    """Backward propagation of one sample: the factors and the gradient of each layer.

    For layer n (tuple index n - 1):
      ``error[n-1]``      dJ/da[n]: Y-hat - Y for the output layer under mse, the
                          back-propagated error W-bar[n+1] delta[n+1] for hidden layers
                          (None at the output when the loss/activation pair simplifies);
      ``derivative[n-1]`` f_n'(z[n]), the lecture's H_d (None for softmax);
      ``delta[n-1]``      dJ/dz[n] = error (.) derivative;
      ``grad[n-1]``       the gradient matrix [1, a[n-1]]^T delta[n], shape of W[n].
    """

    sample: int
    error: tuple[Array | None, ...]
    derivative: tuple[Array | None, ...]
    delta: tuple[Array, ...]
    grad: tuple[Array, ...]

    def __post_init__(self) -> None:
        for name in ("error", "derivative"):
            object.__setattr__(self, name, tuple(None if a is None else _ro(a)
                                                 for a in getattr(self, name)))
        object.__setattr__(self, "delta", _ro_tuple(self.delta))
        object.__setattr__(self, "grad", _ro_tuple(self.grad))


@dataclass(frozen=True, eq=False)
class GradientCheck:
    """``solve --verify``: the central differences of one update's cost, one matrix
    per layer, and which layers they check (under the output-first order a lower
    layer's gradient is taken through the new weights above it, so it is no
    derivative of the cost and is not checked)."""

    gradient: tuple[Array, ...]      # what the update descends: mean_grad + l2_grad
    differences: tuple[Array, ...]   # central differences of the update's cost
    relative: tuple[Array, ...]      # their relative differences, entry by entry
    checked: tuple[bool, ...]
    # The decimals the update itself was rounded to as it went (solve
    # --round-as-you-go); ``gradient`` is then back-propagated without rounding.
    rounded: int | None = None

    def __post_init__(self) -> None:
        for name in ("gradient", "differences", "relative"):
            object.__setattr__(self, name, _ro_tuple(getattr(self, name)))

    def worst(self) -> tuple[float, int, tuple[int, int]]:
        """(largest relative difference, 0-based layer, entry) over the layers checked."""
        found = (0.0, len(self.relative) - 1, (0, 0))
        for n, (rel, checked) in enumerate(zip(self.relative, self.checked)):
            if checked and rel.size and float(rel.max()) >= found[0]:
                i, j = np.unravel_index(int(rel.argmax()), rel.shape)
                found = (float(rel.max()), n, (int(i), int(j)))
        return found


@dataclass(frozen=True, eq=False)
class Step:
    """One weight update: W <- W - lambda (mean_t grad_(t) + beta R).

    A compact step (an update that a solution does not show, see
    ``maths.engine.gradient_step``) has empty ``forward``, ``backward``, ``mean_grad``
    and ``l2_grad``; JSON is always written from full steps."""

    index: int                       # 1-based update number
    epoch: int                       # 1-based
    samples: tuple[int, ...]         # 1-based sample numbers, in the order used
    weights_before: tuple[Array, ...]
    forward: tuple[SampleForward, ...]
    data_cost: float                 # mean of J_(t) over the samples (sum: conventions)
    l2_cost: float                   # 1/2 beta sum w^2 (0 without L2)
    cost: float                      # data_cost + l2_cost
    backward: tuple[SampleBackward, ...]
    mean_grad: tuple[Array, ...]     # (1/|B|) sum_t grad_(t) W[n]
    l2_grad: tuple[Array, ...]       # beta R[n] (zeros without L2)
    weights_after: tuple[Array, ...]
    gradient_check: GradientCheck | None = None     # solve --verify
    # Σ J_(t) over the samples: the cost J(W) as the lecture's classification
    # section defines it (a sum), beside the mean the update descends.
    loss_sum: float = 0.0

    def __post_init__(self) -> None:
        for name in ("weights_before", "mean_grad", "l2_grad", "weights_after"):
            object.__setattr__(self, name, _ro_tuple(getattr(self, name)))
        object.__setattr__(self, "samples", tuple(int(s) for s in self.samples))


@dataclass(frozen=True)
class Settings:
    """What the trace was computed under, for headers and for JSON readers."""

    layers: tuple[int, ...]
    activations: tuple[str, ...]
    loss: str
    learning_rate: float
    method: str
    batch_size: int | None
    epochs: int
    l2: float
    l2_bias: bool
    shuffle: bool
    seed: int
    samples: int                     # T
    title: str = ""
    source: str = ""
    description: str = ""
    weights_origin: str = "explicit"
    conventions: Conventions = LECTURE

    def to_dict(self) -> dict[str, Any]:
        """The ``problem`` block of the JSON outputs."""
        return {
            "title": self.title, "source": self.source, "layers": list(self.layers),
            "activations": list(self.activations), "loss": self.loss,
            "learning_rate": self.learning_rate, "method": self.method,
            "batch_size": self.batch_size, "epochs": self.epochs, "l2": self.l2,
            "l2_bias": self.l2_bias, "shuffle": self.shuffle, "seed": self.seed,
            "samples": self.samples, "weights_origin": self.weights_origin,
            "description": self.description,
        }


@dataclass(frozen=True, eq=False)
class Trace:
    """Every update of a run, plus the final weights and final whole-data cost."""

    settings: Settings
    steps: tuple[Step, ...]
    final_weights: tuple[Array, ...]
    final_cost: float
    epoch_costs: tuple[float, ...]   # whole-data cost after each epoch

    def __post_init__(self) -> None:
        object.__setattr__(self, "final_weights", _ro_tuple(self.final_weights))
        object.__setattr__(self, "steps", tuple(self.steps))
        object.__setattr__(self, "epoch_costs", tuple(float(c) for c in self.epoch_costs))

    # ----------------------------------------------------------------- JSON

    def to_dict(self) -> dict[str, Any]:
        """The JSON document of CONTRACT section 3 (plus extra keys)."""
        return {
            "format": "bpnn-steps trace",
            "version": 1,
            "problem": self.settings.to_dict(),
            "conventions": self.settings.conventions.to_dict(),
            "steps": [_step_dict(st) for st in self.steps],
            "epoch_costs": list(self.epoch_costs),
            "final": {"weights": _weights_dict(self.final_weights), "cost": self.final_cost},
        }

    def to_json(self, indent: int | None = None) -> str:
        import json     # on use: a solve printed as text never needs it (start-up)

        # allow_nan=False: a trace never holds inf/nan, and JSON has no literal for them.
        return json.dumps(self.to_dict(), indent=indent, allow_nan=False)

    @classmethod
    def from_dict(cls, d: dict[str, Any]) -> "Trace":
        p = d["problem"]
        settings = Settings(
            layers=tuple(p["layers"]), activations=tuple(p["activations"]), loss=p["loss"],
            learning_rate=p["learning_rate"], method=p["method"], batch_size=p["batch_size"],
            epochs=p["epochs"], l2=p["l2"], l2_bias=p["l2_bias"], shuffle=p["shuffle"],
            seed=p["seed"], samples=p["samples"], title=p.get("title", ""),
            source=p.get("source", ""), weights_origin=p.get("weights_origin", "explicit"),
            description=p.get("description", ""),
            conventions=conventions_from_dict(d.get("conventions")))
        steps = tuple(_step_from_dict(s, len(settings.layers) - 1) for s in d["steps"])
        return cls(settings=settings, steps=steps,
                   final_weights=_weights_from_dict(d["final"]["weights"]),
                   final_cost=d["final"]["cost"], epoch_costs=tuple(d.get("epoch_costs", ())))

    @classmethod
    def from_json(cls, text: str) -> "Trace":
        import json

        return cls.from_dict(json.loads(text))

    # ----------------------------------------------------------------- notebooks

    def __repr__(self) -> str:
        s = self.settings
        return (f"<Trace {s.layers} {s.method}, {len(self.steps)} update(s), "
                f"final cost {self.final_cost:.6g}>")


def _weights_dict(ws: tuple[Array, ...]) -> dict[str, list[Any]]:
    return {f"W{n + 1}": w.tolist() for n, w in enumerate(ws)}


def _weights_from_dict(d: dict[str, list[Any]]) -> tuple[Array, ...]:
    return tuple(np.array(d[f"W{n + 1}"], dtype=float) for n in range(len(d)))


def _opt(a: Array | None) -> list[Any] | None:
    return None if a is None else a.tolist()


def _step_dict(st: Step) -> dict[str, Any]:
    return {
        "index": st.index,
        "epoch": st.epoch,
        "samples": list(st.samples),
        "weights_before": _weights_dict(st.weights_before),
        "forward": [
            {"sample": f.sample, "x": f.x.tolist(), "y": f.y.tolist(),
             "z": [z.tolist() for z in f.z], "a": [a.tolist() for a in f.a],
             "y_hat": f.y_hat.tolist(), "loss": f.loss}
            for f in st.forward
        ],
        "data_cost": st.data_cost,
        "loss_sum": st.loss_sum,
        "l2_cost": st.l2_cost,
        "cost": st.cost,
        "gradients": [
            {"sample": b.sample, **_weights_dict(b.grad),
             "error": [_opt(e) for e in b.error],
             "derivative": [_opt(e) for e in b.derivative],
             "delta": [e.tolist() for e in b.delta]}
            for b in st.backward
        ],
        "mean_gradient": _weights_dict(st.mean_grad),
        "l2_gradient": _weights_dict(st.l2_grad),
        "weights_after": _weights_dict(st.weights_after),
        **({} if st.gradient_check is None else {"central_differences": {
            f"W{n + 1}": d.tolist() for n, d in enumerate(st.gradient_check.differences)
            if st.gradient_check.checked[n]}}),
        # what the differences were compared with, when it is not mean + l2 gradient
        **({} if st.gradient_check is None or st.gradient_check.rounded is None else
           {"unrounded_gradient": _weights_dict(st.gradient_check.gradient)}),
    }


def _step_from_dict(d: dict[str, Any], depth: int) -> Step:
    forward = tuple(SampleForward(sample=f["sample"], x=f["x"], y=f["y"], z=f["z"], a=f["a"],
                                  loss=f["loss"]) for f in d["forward"])
    backward = tuple(
        SampleBackward(
            sample=g["sample"],
            error=tuple(None if e is None else np.array(e) for e in g["error"]),
            derivative=tuple(None if e is None else np.array(e) for e in g["derivative"]),
            delta=g["delta"], grad=tuple(g[f"W{n + 1}"] for n in range(depth)))
        for g in d["gradients"])
    return Step(index=d["index"], epoch=d["epoch"], samples=tuple(d["samples"]),
                weights_before=_weights_from_dict(d["weights_before"]), forward=forward,
                data_cost=d["data_cost"], l2_cost=d["l2_cost"], cost=d["cost"],
                loss_sum=d.get("loss_sum", 0.0),
                backward=backward, mean_grad=_weights_from_dict(d["mean_gradient"]),
                l2_grad=_weights_from_dict(d["l2_gradient"]),
                weights_after=_weights_from_dict(d["weights_after"]))
