"""The lecture's worked example (section 1.1): a 1-2-2 network, sigmoid hidden
layer, linear output, mse, two samples, one batch gradient-descent step with
lambda = 0.5.  Every expected number below is worked out by hand in the
comments and recomputed here with ``math`` only.

Hand calculation
----------------
W[1] = [[0.1, 0.1], [0.1, 0.1]] (row 0 = biases), W[2] = 0.1 everywhere (3 x 2).
x_(1) = 1, y_(1) = (3, 4);  x_(2) = 2, y_(2) = (6, 5).

Feed-forward
  z_j,(1)[1] = 0.1 + 0.1 * 1 = 0.2   ->  h_j,(1) = s(0.2) = 1/(1 + e^-0.2) = 0.549834
  z_j,(2)[1] = 0.1 + 0.1 * 2 = 0.3   ->  h_j,(2) = s(0.3)                  = 0.574443
  yhat_k,(1) = 0.1 + 0.1 * 0.549834 * 2 = 0.209967   (both k)
  yhat_k,(2) = 0.1 + 0.1 * 0.574443 * 2 = 0.214889   (both k)
  J_(1) = 1/2 (0.209967 - 3)^2 + 1/2 (0.209967 - 4)^2 = 3.892143 + 7.182176 = 11.074318
  J_(2) = 1/2 (0.214889 - 6)^2 + 1/2 (0.214889 - 5)^2 = 16.733758 + 11.448646 = 28.182404
  cost  = (11.074318 + 28.182404) / 2 = 19.628361

Output layer, grad_(t) W[2] = [1, h_(t)]^T (yhat_(t) - y_(t))
  sample 1: e = (-2.790033, -3.790033)
     [[-2.790, -3.790], [-2.790*0.549834, -3.790*0.549834] x 2 rows]
     = [[-2.790, -3.790], [-1.534, -2.084], [-1.534, -2.084]]
  sample 2: e = (-5.785111, -4.785111)
     = [[-5.785, -4.785], [-3.323, -2.749], [-3.323, -2.749]]
     (the notes reprint sample 1's numbers here, shuffled; this is the correct matrix)

Hidden layer, delta_(t) = (W-bar[2] e_(t)) (.) h(1 - h), grad_(t) W[1] = [1, x_(t)]^T delta_(t)
  sample 1: W-bar e = 0.1 * (-2.790033 - 3.790033) = -0.658007 (both nodes)
            h(1 - h) = 0.549834 * 0.450166 = 0.247517
            delta = -0.162868;  grad = [[-0.163, -0.163], [-0.163, -0.163]]  (x = 1)
  sample 2: W-bar e = 0.1 * (-5.785111 - 4.785111) = -1.057022
            h(1 - h) = 0.574443 * 0.425557 = 0.244458
            delta = -0.258398;  grad = [[-0.258, -0.258], [-0.517, -0.517]]  (x = 2)
     (the notes reprint -0.163 for sample 2 as well; the mathematics gives these)

Update, W <- W - 0.5 * mean_t grad_(t)
  W[2][0][k]: 0.1 - 0.5 * (-2.790033 - 5.785111)/2 = 0.1 + 2.143786 = 2.243786  (k = 1)
              0.1 - 0.5 * (-3.790033 - 4.785111)/2 = 2.243786                    (k = 2)
  W[2][i][1]: 0.1 - 0.5 * (-1.534055 - 3.323214)/2 = 1.314317
  W[2][i][2]: 0.1 - 0.5 * (-2.083889 - 2.748771)/2 = 1.308165
  W[1][0][j]: 0.1 - 0.5 * (-0.162868 - 0.258398)/2 = 0.205316
  W[1][1][j]: 0.1 - 0.5 * (-0.162868 - 0.516796)/2 = 0.269916
"""

from __future__ import annotations

import math
import re

import numpy as np
import pytest

import bpnn_steps
from helpers import run_cli


def sig(z: float) -> float:
    return 1.0 / (1.0 + math.exp(-z))


# ----------------------------------------------------------------- the hand calculation

H1, H2 = sig(0.1 + 0.1 * 1), sig(0.1 + 0.1 * 2)
YHAT1, YHAT2 = 0.1 + 0.1 * H1 + 0.1 * H1, 0.1 + 0.1 * H2 + 0.1 * H2
E1 = [YHAT1 - 3, YHAT1 - 4]
E2 = [YHAT2 - 6, YHAT2 - 5]
J1 = 0.5 * E1[0] ** 2 + 0.5 * E1[1] ** 2
J2 = 0.5 * E2[0] ** 2 + 0.5 * E2[1] ** 2
COST = (J1 + J2) / 2
G2_1 = [[E1[0], E1[1]], [E1[0] * H1, E1[1] * H1], [E1[0] * H1, E1[1] * H1]]
G2_2 = [[E2[0], E2[1]], [E2[0] * H2, E2[1] * H2], [E2[0] * H2, E2[1] * H2]]
D1 = 0.1 * (E1[0] + E1[1]) * H1 * (1 - H1)
D2 = 0.1 * (E2[0] + E2[1]) * H2 * (1 - H2)
G1_1 = [[D1, D1], [D1 * 1, D1 * 1]]
G1_2 = [[D2, D2], [D2 * 2, D2 * 2]]
W2_NEW = [[0.1 - 0.5 * (a + b) / 2 for a, b in zip(r1, r2)] for r1, r2 in zip(G2_1, G2_2)]
W1_NEW = [[0.1 - 0.5 * (a + b) / 2 for a, b in zip(r1, r2)] for r1, r2 in zip(G1_1, G1_2)]


@pytest.fixture(scope="module")
def trace():
    problem = bpnn_steps.load_problem("lecture_122")
    return bpnn_steps.solve(problem)


@pytest.fixture(scope="module")
def step(trace):
    assert len(trace.steps) == 1
    return trace.steps[0]


def r3(a) -> np.ndarray:
    return np.round(np.asarray(a, dtype=float), 3)


def test_problem_is_the_lecture_setup():
    p = bpnn_steps.load_problem("lecture_122")
    assert p.layers == (1, 2, 2)
    assert p.activations == ("sigmoid", "linear")
    assert p.loss == "mse"
    np.testing.assert_array_equal(p.x, [[1], [2]])
    np.testing.assert_array_equal(p.y, [[3, 4], [6, 5]])
    np.testing.assert_array_equal(p.weights[0], np.full((2, 2), 0.1))
    np.testing.assert_array_equal(p.weights[1], np.full((3, 2), 0.1))
    assert p.training.learning_rate == 0.5 and p.training.method == "batch"


def test_hidden_values(step):
    # The notes print h = 0.55 for sample 1 and 0.574 for sample 2.
    assert r3(step.forward[0].a[0]).tolist() == [0.550, 0.550]
    assert r3(step.forward[1].a[0]).tolist() == [0.574, 0.574]
    np.testing.assert_allclose(step.forward[0].z[0], [0.2, 0.2], rtol=1e-15)
    np.testing.assert_allclose(step.forward[1].z[0], [0.3, 0.3], rtol=1e-15)
    np.testing.assert_allclose(step.forward[0].a[0], [H1, H1], rtol=1e-14)
    np.testing.assert_allclose(step.forward[1].a[0], [H2, H2], rtol=1e-14)


def test_outputs(step):
    # The notes: yhat = 0.21 (sample 1) and 0.215 (sample 2).
    assert round(float(step.forward[0].y_hat[0]), 2) == 0.21
    assert r3(step.forward[0].y_hat).tolist() == [0.210, 0.210]
    assert r3(step.forward[1].y_hat).tolist() == [0.215, 0.215]
    np.testing.assert_allclose(step.forward[0].y_hat, [YHAT1, YHAT1], rtol=1e-14)
    np.testing.assert_allclose(step.forward[1].y_hat, [YHAT2, YHAT2], rtol=1e-14)


def test_losses_and_cost(step, trace):
    assert step.forward[0].loss == pytest.approx(J1, rel=1e-13)
    assert step.forward[1].loss == pytest.approx(J2, rel=1e-13)
    assert round(step.cost, 3) == 19.628
    assert step.cost == pytest.approx(19.628361, abs=1e-6)
    assert step.cost == pytest.approx(COST, rel=1e-13)
    assert step.l2_cost == 0.0


def test_output_layer_gradients(step):
    g1 = step.backward[0].grad[1]
    g2 = step.backward[1].grad[1]
    assert r3(g1).tolist() == [[-2.790, -3.790], [-1.534, -2.084], [-1.534, -2.084]]
    np.testing.assert_allclose(g1, G2_1, rtol=1e-13)
    # Sample 2: the notes misprint this matrix (they reprint sample 1's values,
    # [[-2.79, -1.534], [-1.534, -3.79], [-2.08, -2.08]]); the mathematics gives:
    assert r3(g2).tolist() == [[-5.785, -4.785], [-3.323, -2.749], [-3.323, -2.749]]
    np.testing.assert_allclose(g2, G2_2, rtol=1e-13)
    assert not np.allclose(g2, [[-2.79, -1.534], [-1.534, -3.79], [-2.08, -2.08]], atol=0.01)


def test_hidden_layer_gradients(step):
    g1 = step.backward[0].grad[0]
    g2 = step.backward[1].grad[0]
    assert r3(g1).tolist() == [[-0.163, -0.163], [-0.163, -0.163]]
    np.testing.assert_allclose(g1, G1_1, rtol=1e-13)
    # The notes reprint -0.163 for sample 2 too; x_(2) = 2 makes the rows differ.
    assert r3(g2).tolist() == [[-0.258, -0.258], [-0.517, -0.517]]
    np.testing.assert_allclose(g2, G1_2, rtol=1e-13)


def test_new_weights(step, trace):
    w1, w2 = step.weights_after
    assert r3(w2).tolist() == [[2.244, 2.244], [1.314, 1.308], [1.314, 1.308]]
    assert r3(w1).tolist() == [[0.205, 0.205], [0.270, 0.270]]
    assert w1[1][0] == pytest.approx(0.269916, abs=1e-6)
    assert w2[1][1] == pytest.approx(1.308165, abs=1e-6)
    assert w2[0][0] == pytest.approx(2.243786, abs=1e-6)
    np.testing.assert_allclose(w1, W1_NEW, rtol=1e-13)
    np.testing.assert_allclose(w2, W2_NEW, rtol=1e-13)
    for a, b in zip(trace.final_weights, step.weights_after):
        np.testing.assert_array_equal(a, b)


def test_final_cost_under_new_weights(trace):
    # Feed both samples through the new weights by hand.
    w1, w2 = W1_NEW, W2_NEW
    total = 0.0
    for x, y in ((1.0, (3.0, 4.0)), (2.0, (6.0, 5.0))):
        h = [sig(w1[0][j] + w1[1][j] * x) for j in range(2)]
        yhat = [w2[0][k] + w2[1][k] * h[0] + w2[2][k] * h[1] for k in range(2)]
        total += sum(0.5 * (p - q) ** 2 for p, q in zip(yhat, y))
    assert trace.final_cost == pytest.approx(total / 2, rel=1e-12)


# ----------------------------------------------------------------- the text report


@pytest.fixture(scope="module")
def report_text():
    from helpers import REPO
    out = run_cli("solve", "problems/lecture_122.yaml", cwd=REPO)
    assert out.returncode == 0, out.stderr
    assert out.stderr == ""
    return out.stdout


def test_text_report_shows_the_lectures_numbers(report_text):
    for number in ("19.628", "0.550", "0.574", "2.244", "1.314", "1.308", "0.205", "0.270"):
        assert re.search(rf"(?<![\d.]){re.escape(number)}(?!\d)", report_text), number
    # The feed-forward substitution, written as the notes write it.
    assert "0.1 + 0.1 × 1" in report_text
    assert "0.1 + 0.1 × 2" in report_text


def test_text_report_in_lecture_order(report_text):
    text = report_text
    lower = text.lower()
    feed = lower.index("feed-forward")
    back = lower.index("backward", feed)
    update = lower.index("update", back)
    assert feed < back < update
    # The numbers sit in their sections: substitution and cost in the
    # feed-forward part, the output error in the backward part, the new weights
    # in the update part.
    assert feed < text.index("0.1 + 0.1 × 1") < back
    assert feed < text.index("19.628") < back
    assert back < text.index("2.790") < update
    assert back < text.index("0.163") < update
    assert update < text.index("2.244")
    assert update < text.index("0.270")
