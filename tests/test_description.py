"""A problem's description is validated, kept in the trace and shown under the title."""

from __future__ import annotations

import json

import bpnn_steps

YAML = """
title: Tiny
description: |
  Fit y = 2 with one linear unit.
network: {layers: [1, 1], activations: [linear]}
data: {x: [1], y: [2]}
weights: {fill: 0.5}
training: {learning_rate: 0.1}
"""


def test_description_reaches_every_output() -> None:
    trace = bpnn_steps.solve(bpnn_steps.parse_problem(YAML))
    text = bpnn_steps.to_text(trace)
    assert text.splitlines()[2] == "Fit y = 2 with one linear unit."
    assert "Fit y = 2 with one linear unit." in bpnn_steps.to_markdown(trace)
    doc = json.loads(trace.to_json())
    assert doc["problem"]["description"] == "Fit y = 2 with one linear unit."
    assert bpnn_steps.Trace.from_json(trace.to_json()).settings.description == \
        "Fit y = 2 with one linear unit."
