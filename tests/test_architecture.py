"""The layout stays as docs/architecture.md draws it: layers import downwards only,
no module imports itself in a circle, content never spells maths, and every
output format writes every kind of block."""

from __future__ import annotations

import ast
import functools
import re
from pathlib import Path

import numpy as np
import pytest

from helpers import REPO

PKG = REPO / "bpnn_steps"
# Lowest first: a module may import from its own layer and the ones before it.
LAYERS = ["errors", "numfmt", "_version", "model", "maths", "files", "marking", "present",
          "render", "course", "cli"]


def _name(path: Path) -> str:
    parts = list(path.relative_to(REPO).with_suffix("").parts)
    return ".".join(parts[:-1] if parts[-1] == "__init__" else parts)


@functools.cache
def _imports() -> dict[str, frozenset[str]]:
    """Every module's imports of bpnn_steps modules, lazy ones (inside functions) too
    (parsed once: the source does not change while the tests run)."""
    modules = {_name(p): p for p in PKG.rglob("*.py")}
    graph: dict[str, set[str]] = {m: set() for m in modules}
    for name, path in modules.items():
        package = name.split(".") if path.name == "__init__.py" else name.split(".")[:-1]
        for node in ast.walk(ast.parse(path.read_text(encoding="utf-8"))):
            if isinstance(node, ast.ImportFrom):
                if node.level:
                    base = package[:len(package) - node.level + 1]
                    target = ".".join(base + ([node.module] if node.module else []))
                else:
                    target = node.module or ""
                candidates = [target] + [f"{target}.{a.name}" for a in node.names]
            elif isinstance(node, ast.Import):
                candidates = [a.name for a in node.names]
            else:
                continue
            graph[name].update(c for c in candidates if c in modules and c != name)
    return {m: frozenset(deps) for m, deps in graph.items()}


def _layer(module: str) -> str | None:
    parts = module.split(".")
    return parts[1] if len(parts) > 1 and parts[1] in LAYERS else None


def test_layers_import_downwards_only():
    upward = []
    for module, deps in sorted(_imports().items()):
        mine = _layer(module)
        for dep in sorted(deps):
            theirs = _layer(dep)
            if mine and theirs and LAYERS.index(theirs) > LAYERS.index(mine):
                upward.append(f"{module} -> {dep}")
    assert not upward, "imports from a higher layer:\n" + "\n".join(upward)


def test_no_import_cycles():
    graph = _imports()
    state: dict[str, int] = {}          # 1: on the path, 2: done
    cycles: list[list[str]] = []

    def visit(node: str, path: list[str]) -> None:
        state[node] = 1
        for dep in sorted(graph[node]):
            if state.get(dep) == 1:
                cycles.append(path[path.index(dep):] + [dep] if dep in path else [node, dep])
            elif dep not in state:
                visit(dep, path + [dep])
        state[node] = 2

    for module in sorted(graph):
        if module not in state:
            visit(module, [module])
    assert not cycles, cycles


def test_no_two_modules_share_a_name():
    names = [p.stem for p in PKG.rglob("*.py") if p.stem != "__init__"]
    assert len(names) == len(set(names)), sorted({n for n in names if names.count(n) > 1})


def test_content_never_spells_maths():
    """present/ builds blocks of notation tokens; only render/ spells them (LaTeX
    commands and Unicode super/subscript spellings of composite notation)."""
    for path in (PKG / "present").glob("*.py"):
        text = path.read_text(encoding="utf-8")
        commands = re.findall(r"\\(?:frac|nabla|partial|mathbf|text|left|right|sum|boxed|"
                               r"begin|end|hat|bar|odot|times|quad)\b", text)
        assert not commands, f"{path.name} spells LaTeX: {sorted(set(commands))}"


def test_every_format_writes_every_block():
    from bpnn_steps.model.notation import EQUALS, Mat, Sym
    from bpnn_steps.present.blocks import (BLOCK_TYPES, Diagram, Display, Document,
                                           Equations, Heading, PageBreak, Table, Text)
    from bpnn_steps.render.registry import FORMATS, renderer

    samples = {
        Heading: Heading("A heading", 2), Text: Text("Some text with W⁽¹⁾."),
        Equations: Equations((((Sym("z", (1,), 1, 1),), (Sym("w", (0, 1), None, 1),)),)),
        Display: Display((Sym("W", (), None, 1), EQUALS, Mat(np.eye(2)))),
        Table: Table(("t", "x"), (("1", "0.5"),)),
        Diagram: Diagram((1, 2, 1), ("sigmoid", "linear"), (np.ones((2, 2)), np.ones((3, 1)))),
        PageBreak: PageBreak(),
    }
    assert set(samples) == set(BLOCK_TYPES)
    for name in FORMATS:
        out = renderer(name)
        assert out.name == name
        if name == "json":
            continue     # JSON writes the document's data, not its blocks
        for block in samples.values():
            text = out.render(Document("t", (block,)), 3)
            assert text.strip(), (name, block)


@pytest.mark.parametrize("module", ["present.report", "present.sheet", "present.derivation",
                                    "present.exact_values"])
def test_content_modules_import_no_renderer(module):
    assert not any(dep.startswith("bpnn_steps.render") for dep in
                   _imports()[f"bpnn_steps.{module}"])


def test_every_token_has_both_spellings():
    """Each notation token is spelled in Unicode and in LaTeX (a token added to
    model/notation.py without its spellings fails here)."""
    from typing import get_args

    from bpnn_steps.maths.tree import Var
    from bpnn_steps.model import notation as n
    from bpnn_steps.model.quantities import Kind, Quantity
    from bpnn_steps.render.spelling import latex, unicode

    w = Var("w", (1, 1), 1)
    samples = {
        n.Sym: n.Sym("z", (1,), 1, 1), n.Num: n.Num(-0.5), n.Mat: n.Mat(np.eye(2)),
        n.Op: n.PLUS, n.Grad: n.Grad(2, 1), n.MeanOver: n.MeanOver(2), n.OneOver: n.OneOver(2),
        n.L2Term: n.L2Term(0.01), n.Apply: n.Apply("sigmoid", (n.Sym("z", (1,), 1, 1),)),
        n.SoftmaxRatio: n.SoftmaxRatio(n.Sym("z", (1,), 1, 2)),
        n.SoftmaxJacobianT: n.SoftmaxJacobianT(),
        n.DerivativeInValue: n.DerivativeInValue("tanh", n.Sym("h")),
        n.Note: n.Note("a note"), n.Words: n.Words("some words"), n.Given: n.Given(np.eye(2)),
        n.Box: n.Box(Quantity(1, Kind.COST)), n.BoxMatrix: n.BoxMatrix(Quantity(1, Kind.NEW, 1),
                                                                        2, 2),
        n.Exact: n.Exact(__import__("sympy").Rational(1, 3)),
        n.ExactMatrix: n.ExactMatrix(((__import__("sympy").Integer(1),),)),
        n.Entry: n.Entry(n.EntryForm.GRADIENT, 2, 0, 1, 1), n.Formula: n.Formula(w),
        n.FormulaMatrix: n.FormulaMatrix(((w,),)), n.WeightMatrix: n.WeightMatrix(1, 2, 2),
        n.Partial: n.Partial(1, 0, 1), n.PartialOutputs: n.PartialOutputs(),
        n.PartialZ: n.PartialZ(2), n.SumOver: n.SumOver("i", 2, (n.Sym("x", ("i",)),)),
        n.Component: n.Component((n.Sym("Wbar", (), None, 2),), 1, w),
        n.Transpose: n.Transpose(n.Sym("A", (), "t", "n-1")), n.DownTo: n.DownTo("n", "L-1", 1),
        n.BatchMean: n.BatchMean("T"), n.L2Gradient: n.L2Gradient(1),
        n.LossFormula: n.LossFormula("mse", 2), n.CostFormula: n.CostFormula("T"),
    }
    assert set(samples) == set(get_args(n.Token))
    for cls, tok in samples.items():
        assert latex(tok, 3), cls
        if cls is not n.Mat:            # the terminal draws matrices itself
            assert unicode(tok, 3), cls
