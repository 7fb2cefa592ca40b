"""What each recomputation rule reads of a mistake (marking/recompute.py READS and
CONVENTION_KEYS): marking skips recomputing a quantity that a mistake cannot act on,
so a rule must give the same number whatever the fields and convention keys it is
said not to read.  Each rule of every quantity of several networks is called
directly, once per unread field or key changed, and compared with its exact value."""

from __future__ import annotations

from dataclasses import fields, replace
from enum import Enum

import numpy as np
import pytest

from bpnn_steps.files.problem_file import load_problem
from bpnn_steps.marking.recompute import (CONVENTION_KEYS, EXACT, READS, Chain, Scenario,
                                          trace_env)
from bpnn_steps.maths.engine import solve

NETWORKS = ["lecture_122", "softmax_233", "deep_1221", "classification_121"]


def _other(value: object) -> object:
    """A value of the same kind that differs (a field set as a mistake sets it)."""
    if isinstance(value, bool):
        return not value
    if isinstance(value, Enum):
        return next(v for v in type(value) if v is not value)
    return 1                       # linear_at: the first layer's derivative left out


@pytest.mark.parametrize("name", NETWORKS)
def test_a_rule_ignores_what_it_is_said_not_to_read(name: str) -> None:
    problem = load_problem(name)
    trace = solve(problem)
    chain = Chain(problem, trace)
    env = trace_env(trace)
    conventions = problem.conventions
    scenario_fields = [f.name for f in fields(Scenario) if f.name not in ("code", "conventions")]
    convention_keys = [f.name for f in fields(conventions) if f.name != "preset"]
    checked = 0
    for q in chain.nodes(1):
        rule = chain._rules[q.kind]
        exact = rule(q, env, EXACT)
        for field in scenario_fields:
            if field in READS[q.kind]:
                continue
            changed = Scenario(None, **{field: _other(getattr(EXACT, field))})
            assert np.array_equal(rule(q, env, changed), exact), (q, field)
            checked += 1
        for key in convention_keys:
            if key in CONVENTION_KEYS.get(q.kind, ()):
                continue
            other = replace(conventions, **{key: _other(getattr(conventions, key))})
            assert np.array_equal(rule(q, env, Scenario(None, conventions=other)), exact), \
                (q, key)
            checked += 1
    assert checked > 50


def test_every_rule_that_reads_conventions_names_its_keys() -> None:
    assert {k for k, reads in READS.items() if "conventions" in reads} == set(CONVENTION_KEYS)
