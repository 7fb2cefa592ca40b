"""The conventions a calculation follows (CONTRACT section 5): the choices on which
textbooks, blog posts and libraries differ, so that "the same" back-propagation
gives different numbers.  The defaults are the lecture's.

A preset names a source's choices; keys a problem file writes itself win over its
preset.  Only the loss records know which loss a key touches (``mse_half`` the
loss whose J carries a ½, ``output_reduction`` the losses summed over their
outputs): see ``maths.losses.loss_scale``.
"""

from __future__ import annotations

from collections.abc import Mapping
from dataclasses import dataclass, fields, replace
from enum import Enum
from typing import Any


class Combine(Enum):
    """How values over samples (or over outputs) are combined."""

    MEAN = "mean"
    SUM = "sum"


class UpdateOrder(Enum):
    """When a layer's new weights take effect within one update."""

    SIMULTANEOUS = "simultaneous"      # every layer's gradient from the old weights
    OUTPUT_FIRST = "output_first"      # lower layers back-propagate through new weights


@dataclass(frozen=True)
class Conventions:
    """The conventions in force; each field is a key of the ``conventions:`` block."""

    preset: str = "lecture"
    cost: Combine = Combine.MEAN
    mse_half: bool = True
    output_reduction: Combine = Combine.SUM
    update_biases: bool = True
    update_order: UpdateOrder = UpdateOrder.SIMULTANEOUS

    def to_dict(self) -> dict[str, Any]:
        """Every key's value in force, as the JSON trace writes it."""
        return {f.name: _plain(getattr(self, f.name)) for f in fields(self)}

    def differences(self) -> list[tuple[str, Any]]:
        """(key, value) of every key (not the preset) that differs from the lecture's."""
        lecture = LECTURE.to_dict()
        return [(key, value) for key, value in self.to_dict().items()
                if key != "preset" and value != lecture[key]]

    @property
    def is_lecture(self) -> bool:
        return not self.differences()

    @property
    def stated(self) -> bool:
        """Whether outputs name these conventions: not for the lecture preset with
        nothing changed (its outputs read as they always have)."""
        return self.preset != "lecture" or not self.is_lecture

    def summary(self) -> str:
        """"pytorch preset: mse_half false, output_reduction mean": the preset and the
        keys that differ from the lecture's, as every output names them."""
        keys = ", ".join(f"{key} {value_text(value)}" for key, value in self.differences())
        return f"{self.preset} preset" + (f": {keys}" if keys else "")


def _plain(value: Any) -> Any:
    return value.value if isinstance(value, Enum) else value


def value_text(value: Any) -> str:
    """A key's value as a problem file writes it: ``false``, ``mean``, ``output_first``."""
    plain = _plain(value)
    return str(plain).lower() if isinstance(plain, bool) else str(plain)


LECTURE = Conventions()

# What each preset sets (the rest stays the lecture's).  Provenance: README,
# section "Conventions".
PRESETS: Mapping[str, Mapping[str, Any]] = {
    "lecture": {},
    # Mazur, "A Step by Step Backpropagation Example" (2015): biases never updated.
    "mazur": {"update_biases": False},
    # torch.nn.MSELoss / BCELoss, reduction='mean': the mean over every element, so no
    # ½ and a division by the K outputs as well as by the batch.
    "pytorch": {"mse_half": False, "output_reduction": Combine.MEAN},
    # scikit-learn's MLP: ½ squared error, mean over the batch; its alpha penalty
    # leaves the biases (intercepts) out: training.l2_bias false (PRESET_L2_BIAS).
    "sklearn": {},
}

# training.l2_bias a preset sets where the file leaves it out.
PRESET_L2_BIAS: Mapping[str, bool] = {"sklearn": False}


def preset_conventions(preset: str, **written: Any) -> Conventions:
    """The conventions of ``preset`` with the keys a file wrote (``written``) on top."""
    return replace(LECTURE, preset=preset, **{**PRESETS[preset], **written})


def conventions_from_dict(d: Mapping[str, Any] | None) -> Conventions:
    """The conventions a JSON trace wrote (:meth:`Conventions.to_dict`); none: the
    lecture's (a trace written before conventions existed)."""
    if not d:
        return LECTURE
    return Conventions(preset=d["preset"], cost=Combine(d["cost"]), mse_half=d["mse_half"],
                       output_reduction=Combine(d["output_reduction"]),
                       update_biases=d["update_biases"],
                       update_order=UpdateOrder(d["update_order"]))


# The keys of the block, in CONTRACT order, with the values each takes.
KEY_CHOICES: Mapping[str, tuple[Any, ...]] = {
    "preset": tuple(PRESETS),
    "cost": tuple(c.value for c in Combine),
    "mse_half": (True, False),
    "output_reduction": tuple(c.value for c in Combine),
    "update_biases": (True, False),
    "update_order": tuple(o.value for o in UpdateOrder),
}
