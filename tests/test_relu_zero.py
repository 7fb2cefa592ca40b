"""relu at z = 0: the derivative is 0 there (CONTRACT section 1), also when z is zero
in exact arithmetic but not in binary floating point.

Hand calculation: W[1] = [[-0.3], [0.1]], x = 3, so z = -0.3 + 0.1 * 3 = 0 exactly
(in doubles 0.1 * 3 = 0.30000000000000004 and z would come out as 5.6e-17).
h = relu(0) = 0, relu'(0) = 0, so delta[1] = 0 and grad W[1] = [[0], [0]]: W[1] does
not move.  With W[2] = [[0], [1]] and y = 1: y-hat = 0 + 1 * 0 = 0, J = 1/2 (0 - 1)^2
= 0.5, grad W[2] = [1, h]^T (y-hat - y) = [[-1], [0]].
"""

from __future__ import annotations

import numpy as np
import pytest

import bpnn_steps
from bpnn_steps.maths.training import train

YAML = """
network: {layers: [1, 1, 1], activations: [relu, linear]}
data: {x: [3], y: [1]}
weights: {W1: [[-0.3], [0.1]], W2: [[0.0], [1.0]]}
training: {learning_rate: 0.1, epochs: 3}
"""


def test_exact_zero_z_has_zero_relu_derivative() -> None:
    trace = bpnn_steps.solve(bpnn_steps.parse_problem(YAML))
    step = trace.steps[0]
    assert step.forward[0].z[0][0] == 0.0
    assert step.backward[0].derivative[0][0] == 0.0
    np.testing.assert_array_equal(step.backward[0].grad[0], [[0.0], [0.0]])
    np.testing.assert_allclose(step.backward[0].grad[1], [[-1.0], [0.0]])
    assert step.cost == pytest.approx(0.5)
    np.testing.assert_array_equal(trace.final_weights[0], [[-0.3], [0.1]])


@pytest.mark.parametrize("kernel", ["auto", "compiled"])
def test_training_kernels_agree_at_the_kink(kernel: str) -> None:
    result = train(bpnn_steps.parse_problem(YAML), kernel=kernel)
    np.testing.assert_array_equal(result.weights[0], [[-0.3], [0.1]])


def test_a_genuinely_small_positive_z_is_kept() -> None:
    # z = -0.3 + 0.1000001 * 3 = 3e-7: far above rounding noise, so relu'(z) = 1.
    trace = bpnn_steps.solve(bpnn_steps.parse_problem(YAML.replace("[0.1]]", "[0.1000001]]")))
    assert trace.steps[0].forward[0].z[0][0] == pytest.approx(3e-7, rel=1e-6)
    assert trace.steps[0].backward[0].derivative[0][0] == 1.0
