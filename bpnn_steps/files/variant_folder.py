"""A folder of variants: one complete problem file per variant, and an index.

``bpnn-steps variants`` writes it; ``bpnn-steps course`` and ``check --variants``
read it.  The index (``index.csv``) lists, in order, each variant's id, seed,
index, file and what varied, so that a spreadsheet opens it and a reader finds
every file without listing the folder.  Files are read only inside the folder.
"""

from __future__ import annotations

import csv
import io
import os
from collections.abc import Sequence
from pathlib import Path

from ..errors import ProblemError
from ..model.variant import Variant, VariantId
from .untrusted import CONFINED, excerpt, is_clean

INDEX = "index.csv"
INDEX_COLUMNS = ("id", "seed", "index", "file", "varied")
MAX_VARIANTS = 10_000


def index_text(variants: Sequence[Variant]) -> str:
    """The index of a folder of variants as CSV (``varied``: space-separated)."""
    out = io.StringIO()
    writer = csv.writer(out, lineterminator="\n")
    writer.writerow(INDEX_COLUMNS)
    for v in variants:
        parts = v.parts
        writer.writerow([v.id, "" if parts is None else parts.seed,
                         "" if parts is None else parts.index, variant_file(v.id),
                         " ".join(v.varied)])
    return out.getvalue()


def variant_file(variant: str) -> str:
    """The file name of a variant in its folder."""
    return f"{variant}.yaml"


def read_index(folder: str | os.PathLike[str]) -> list[tuple[str, str, tuple[str, ...]]]:
    """(id, file name, what varied) of each variant listed in ``folder``'s index."""
    from .textio import read_text

    path = Path(folder) / INDEX
    if not Path(folder).is_dir():
        raise ProblemError("is not a folder of variants (write one with 'bpnn-steps "
                           "variants FILE -o DIR')", file=str(folder))
    if not path.exists():
        raise ProblemError(f"has no {INDEX}; expected a folder written by 'bpnn-steps "
                           "variants'", file=str(folder))
    text = read_text(path, str(path), "variant index", 4_000_000)
    try:
        rows = list(csv.reader(io.StringIO(text, newline="")))     # CR, LF or CR LF
    except csv.Error as err:        # a field over csv's size limit
        raise ProblemError(f"is not CSV that can be read: {err}", file=str(path)) from None
    if not rows or tuple(rows[0][:len(INDEX_COLUMNS)]) != INDEX_COLUMNS:
        raise ProblemError(f"the first line must be {','.join(INDEX_COLUMNS)}",
                           file=str(path), line=1)
    out = []
    for number, row in enumerate(rows[1:], start=2):
        if not row:
            continue
        if len(row) < len(INDEX_COLUMNS):
            raise ProblemError(f"expected {len(INDEX_COLUMNS)} columns, got {len(row)}",
                               file=str(path), line=number)
        ident, name = row[0].strip(), row[3].strip()
        if VariantId.parse(ident) is None:
            raise ProblemError(f"is not a variant id: {excerpt(ident)}", file=str(path),
                               line=number, key="id")
        if Path(name).name != name or not name.endswith(".yaml") or not is_clean(name):
            raise ProblemError(f"must be a .yaml file in the folder, got {excerpt(name)}",
                               file=str(path), line=number, key="file")
        out.append((ident, name, tuple(row[4].split())))
        if len(out) > MAX_VARIANTS:
            raise ProblemError(f"lists more than {MAX_VARIANTS:,} variants", file=str(path))
    if not out:
        raise ProblemError("lists no variants", file=str(path))
    return out


def variant_path(folder: Path, name: str) -> Path:
    """The file ``name`` that the index of ``folder`` lists: inside the folder, as the
    index names it; a link out of it is not followed (one led course to read and
    publish a file from anywhere)."""
    path = folder / name
    if not CONFINED.allows(Path(os.path.realpath(path)), folder):
        raise ProblemError("is a link that leads outside the folder of variants",
                           file=str(path))
    return path


def read_variants(folder: str | os.PathLike[str]) -> list[Variant]:
    """Every variant of a folder written by ``bpnn-steps variants``, in index order.

    Each file is read inside ``folder`` only (its data too), and must carry the id
    the index gives it."""
    from .problem_file import load_problem

    root = Path(folder)
    variants = []
    for ident, name, varied in read_index(root):
        problem = load_problem(variant_path(root, name), access=CONFINED)
        if problem.variant != ident:
            raise ProblemError(f"is listed in {INDEX} as variant {ident} but says "
                               f"variant: {excerpt(problem.variant) or '(none)'}",
                               file=str(root / name), key="variant")
        variants.append(Variant(ident, problem, varied))
    return variants
