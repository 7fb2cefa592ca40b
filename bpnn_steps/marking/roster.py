"""Marking a class that answered variants: the roster, the folder of variants, and
each answer file against its own variant.

``bpnn-steps variants`` gives every student their own numbers; ``check --variants
DIR`` marks an answer file against the variant file of DIR that it (or the roster)
names, and ``check --batch ANSWERS --variants DIR --roster roster.csv`` marks a
class.  The gradebook's columns are the canonical quantities, the same for every
variant (same network, same updates), so one column is one question for the whole
class whatever numbers each student had.

The roster is a CSV file with a header; its ``student`` and ``variant`` columns
are read (others, such as an e-mail address, are ignored).  A student is found by
the answer file's name (``ada.yaml`` is the roster's ``ada``) or else by its
``student:``, without regard to case or repeated spaces.  Roster and answer files
are other people's text: cells are cleaned, messages quote short excerpts, sizes
are capped.
"""

from __future__ import annotations

import csv
import io
import math
import os
from collections.abc import Mapping, Sequence
from dataclasses import dataclass, replace
from pathlib import Path

import numpy as np

from ..errors import ProblemError
from ..files.answer_file import Header, read_answers, read_header, read_root
from ..files.untrusted import CONFINED, ReadAccess, clean_text, excerpt
from ..files.variant_folder import INDEX, read_index, variant_path
from ..model.answer_sheet import AnswerSheet
from ..model.quantities import Quantity
from ..model.problem import Problem
from ..model.trace import Trace
from .gradebook import Gradebook, Row, mark_folder
from .marker import CORRECT, CheckResult, Options, SolvedProblems, check
from .recompute import Env, trace_env

MAX_ROSTER_BYTES = 2_000_000
MAX_STUDENTS = 20_000
MAX_NAME = 200                  # characters of a student's name (as answer files)
ROSTER_COLUMNS = ("student", "variant")
# Look for another variant's numbers only in a file with less than this share right.
SUSPECT_BELOW = 0.5


# --------------------------------------------------------------------------- the folder


@dataclass(frozen=True, eq=False)
class VariantFolder:
    """A folder of variants (``bpnn-steps variants -o DIR``), read through its index:
    each variant file is read and solved once, when a student needs it."""

    folder: Path
    files: Mapping[str, str]          # variant id -> file name, in index order

    @classmethod
    def read(cls, folder: str | os.PathLike[str]) -> VariantFolder:
        return cls(Path(folder), {ident: name for ident, name, _ in read_index(folder)})

    @property
    def ids(self) -> tuple[str, ...]:
        return tuple(self.files)

    def where(self) -> str:
        return str(self.folder / INDEX)

    def solved(self, ident: str, solved: SolvedProblems) -> tuple[Problem, Trace]:
        """The (checkable) problem of variant ``ident`` and its exact trace; a variant
        that the index does not list, or whose file is not that variant, is bad input."""
        name = self.files.get(ident)
        if name is None:
            raise ProblemError(f"lists no variant {excerpt(ident)}", file=self.where())
        path = variant_path(self.folder, name)
        problem, trace = solved.get(path, CONFINED)
        if problem.variant != ident:
            raise ProblemError(f"is listed in {INDEX} as variant {ident} but says variant: "
                               f"{excerpt(problem.variant) if problem.variant else '(none)'}",
                               file=str(path), key="variant")
        return problem, trace


# --------------------------------------------------------------------------- the roster


@dataclass(frozen=True)
class Assignment:
    """One line of the roster: a student and the variant they were given."""

    student: str
    variant: str
    line: int


def _name_key(name: str) -> str:
    """How names are compared: case and repeated spaces do not matter."""
    return " ".join(clean_text(name).split()).casefold()


@dataclass(frozen=True, eq=False)
class Roster:
    source: str
    assignments: tuple[Assignment, ...]

    def find(self, name: str) -> Assignment | None:
        key = _name_key(name)
        if not key:
            return None
        return next((a for a in self.assignments if _name_key(a.student) == key), None)


def read_roster(path: str | os.PathLike[str], variants: VariantFolder) -> Roster:
    """The roster at ``path``: a header naming (at least) the columns ``student`` and
    ``variant``, then one student a line.  A bad line, a student listed twice or a
    variant that ``variants`` does not hold is one ProblemError naming the line."""
    from ..files.textio import read_text

    name = str(path)
    text = read_text(Path(path), name, "roster", MAX_ROSTER_BYTES)
    # newline="": a line may end in CR alone (Excel for Mac's CSV), LF or CR LF, as
    # the csv module reads them
    reader = csv.reader(io.StringIO(text, newline=""))

    def bad(message: str, line: int | None, key: str | None = None) -> ProblemError:
        return ProblemError(message, file=name, line=line, key=key)

    expected = ",".join(ROSTER_COLUMNS)
    try:
        header = next(reader, None)
        if header is None:
            raise bad(f"is empty; expected a header line {expected}, then one student a "
                      "line", None)
        columns = [clean_text(h).strip().casefold() for h in header]
        if any(c not in columns for c in ROSTER_COLUMNS):
            raise bad(f"the first line must name the columns {expected} (other columns "
                      f"are ignored), got {excerpt(','.join(header))}", 1)
        at = {c: columns.index(c) for c in ROSTER_COLUMNS}
        out: list[Assignment] = []
        seen: dict[str, int] = {}
        for row in reader:
            line = reader.line_num
            if not any(cell.strip() for cell in row):
                continue
            if len(out) >= MAX_STUDENTS:
                raise bad(f"lists more than {MAX_STUDENTS:,} students", line)
            if len(row) <= max(at.values()):
                raise bad(f"expected the {len(header)} columns of the header ({expected} "
                          f"among them), got {len(row)}", line)
            student = " ".join(clean_text(row[at["student"]]).split())
            variant = clean_text(row[at["variant"]]).strip()
            if not student:
                raise bad("is empty; expected the student's name (as in the answer file's "
                          "name or its student:)", line, "student")
            if len(student) > MAX_NAME:
                raise bad(f"is longer than {MAX_NAME} characters: {excerpt(student)}", line,
                          "student")
            if not variant:
                raise bad(f"is empty; expected the id of {student}'s variant", line,
                          "variant")
            if variant not in variants.files:
                raise bad(f"{excerpt(variant)} is not a variant of {variants.folder} (see "
                          f"{variants.where()})", line, "variant")
            key = _name_key(student)
            if key in seen:
                raise bad(f"{excerpt(student)} is listed twice (also on line {seen[key]})",
                          line, "student")
            seen[key] = line
            out.append(Assignment(student, variant, line))
    except csv.Error as err:
        raise bad(f"is not CSV that can be read: {err}", reader.line_num) from None
    if not out:
        raise bad("lists no students", None)
    return Roster(name, tuple(out))


# --------------------------------------------------------------------------- marking


def _variant_of(header: Header, assigned: Assignment | None, roster: Roster | None
                ) -> tuple[str, str]:
    """(the variant to mark against, a flag) for an answer file."""
    if assigned is None:
        if not header.variant:
            raise ProblemError("is missing; with --variants an answer file names its "
                               "variant (variant: ID), or a --roster gives it",
                               file=header.name, key="variant")
        return header.variant, ""
    if header.variant and header.variant != assigned.variant:
        assert roster is not None
        return assigned.variant, (f"the answer file says variant {header.variant}, the "
                                  f"roster ({roster.source}, line {assigned.line}) gives "
                                  f"{assigned.variant}: marked against {assigned.variant}")
    return assigned.variant, ""


def check_variant_file(answers_path: str | os.PathLike[str], variants: VariantFolder,
                       options: Options | None = None, solved: SolvedProblems | None = None
                       ) -> CheckResult:
    """Mark one answer file against the variant of ``variants`` that its ``variant:``
    names (the command ``check ANSWERS --variants DIR``; its ``problem:`` is not read).
    When most of its numbers are another variant's, a ProblemNote says which."""
    marker = ClassMarker(variants, None, options)
    if solved is not None:
        marker.solved = solved
    root, text = read_root(answers_path)
    header = read_header(root, text, str(answers_path))
    ident, _ = _variant_of(header, None, None)
    problem, trace = variants.solved(ident, marker.solved)
    sheet = read_answers(header, problem, [s.samples for s in trace.steps])
    result = check(sheet, problem, trace, marker.options, ident,
                   marker.solved.reference(problem, trace))
    note = marker.suspect(result, sheet, ident)
    if note:
        import warnings

        from ..errors import ProblemNote
        warnings.warn(ProblemNote(f"{clean_text(str(answers_path))}: {note}"), stacklevel=2)
    return result


@dataclass(frozen=True, eq=False)
class _Numbers:
    """A sheet's answered numbers: per quantity the flat places answered, then the
    numbers and their as-written slack (-1: none) in that order."""

    places: tuple[tuple[Quantity, np.ndarray], ...]
    values: np.ndarray
    slack: np.ndarray


class ClassMarker:
    """Marks the answer files of a class, each against its variant: the roster's
    when there is one, else the file's own ``variant:``."""

    def __init__(self, variants: VariantFolder, roster: Roster | None,
                 options: Options | None) -> None:
        self.variants, self.roster = variants, roster
        self.options = options or Options()
        self.solved = SolvedProblems()              # one solve per variant for the class
        self.envs: dict[str, Env] = {}
        self.matched: dict[int, list[str]] = {}     # roster line -> answer files found

    def __call__(self, path: Path, name: str, stem: str, _: SolvedProblems) -> Row:
        solved = self.solved
        root, text = read_root(path, name)
        header = read_header(root, text, name)
        student = header.student or stem
        assigned = None
        if self.roster is not None:
            assigned = self.roster.find(stem) or self.roster.find(header.student)
            if assigned is None:
                return Row(name, student, None, f"{name}: not in the roster {self.roster.source} "
                           f"(neither the file name {excerpt(stem)} nor student: "
                           f"{excerpt(header.student) if header.student else '(none)'} is a "
                           "student there)", variant=header.variant)
            self.matched.setdefault(assigned.line, []).append(name)
        ident = assigned.variant if assigned is not None else header.variant
        named = self.roster.find(header.student) if self.roster is not None else None
        # the file name decides (a platform's export names it); a student: that is
        # another student of the roster is for the marker to look at
        other = (f"student: {excerpt(header.student)} is the roster's line {named.line}, "
                 f"the file name its line {assigned.line}"
                 if named is not None and assigned is not None and named is not assigned
                 else "")
        try:
            ident, flag = _variant_of(header, assigned, self.roster)
            flag = "; ".join(f for f in (flag, other) if f)
            problem, trace = self.variants.solved(ident, solved)
            sheet = read_answers(header, problem, [s.samples for s in trace.steps])
        except ProblemError as err:
            return Row(name, student, None, clean_text(str(err)), variant=ident)
        result = check(sheet, problem, trace, self.options, ident,
                       solved.reference(problem, trace))
        flag = "; ".join(f for f in (flag, self.suspect(result, sheet, ident)) if f)
        return Row(name, result.student or stem, result, variant=ident, flag=flag)

    def suspect(self, result: CheckResult, sheet: AnswerSheet, ident: str) -> str:
        """The flag of a sheet marked against ``ident`` whose numbers are mostly another
        variant's, else ""."""
        # (follow-through credits much of another variant's work: count only the right)
        if result.count(CORRECT) >= SUSPECT_BELOW * result.total:
            return ""
        return self.other_variant(sheet, ident, self.solved)

    def env(self, ident: str, solved: SolvedProblems) -> Env:
        if ident not in self.envs:
            self.envs[ident] = trace_env(self.variants.solved(ident, solved)[1])
        return self.envs[ident]

    def numbers(self, sheet: AnswerSheet) -> _Numbers:
        """The answered numbers of ``sheet``, flat, with the slack each is written with."""
        tol = self.options.tolerance
        places: list[tuple[Quantity, np.ndarray]] = []
        values: list[float] = []
        slack: list[float] = []
        for g in sheet.entries:
            kept = [k for k, c in enumerate(g.cells)
                    if not c.blank and not c.error and math.isfinite(c.value)]
            places.append((g.quantity, np.array(kept, dtype=int)))
            for k in kept:
                c = g.cells[k]
                values.append(c.value)
                # as written: half a unit of the last written place (Tolerance.close)
                slack.append(0.5 * c.precision.ulp * (1 + 1e-9)
                             if tol.as_written and c.precision is not None
                             and tol.precise_enough(c.precision) else -1.0)
        return _Numbers(tuple(places), np.array(values, dtype=float),
                        np.array(slack, dtype=float))

    def matches(self, numbers: _Numbers, env: Env) -> int:
        """How many of ``numbers`` equal ``env``'s values within the tolerance (the
        test of Tolerance.close, for a whole sheet at once)."""
        if not numbers.values.size:
            return 0
        refs = np.concatenate([
            np.asarray(env[q], dtype=float).ravel()[kept] if q in env else
            np.full(kept.size, np.nan) for q, kept in numbers.places])
        tol = self.options.tolerance
        d = np.abs(numbers.values - refs)
        with np.errstate(invalid="ignore"):
            ok = (d <= tol.abs_tol) | (d <= tol.rel_tol * np.abs(refs)) | \
                ((numbers.slack >= 0) &
                 (d <= numbers.slack + 1e-12 * np.maximum(1.0, np.abs(refs))))
        return int(np.count_nonzero(ok & np.isfinite(refs)))

    def other_variant(self, sheet: AnswerSheet, ident: str, solved: SolvedProblems) -> str:
        """A flag when most of a poorly marked file's numbers are another variant's:
        the student worked on someone else's numbers (or handed in the wrong file)."""
        numbers = self.numbers(sheet)
        count = int(numbers.values.size)
        own = self.matches(numbers, self.env(ident, solved))
        best, best_hits = "", own
        for other in self.variants.ids:
            if other == ident:
                continue
            try:
                hits = self.matches(numbers, self.env(other, solved))
            except ProblemError:
                continue            # a broken variant file is reported where it is used
            if hits > best_hits:
                best, best_hits = other, hits
        if not best or 2 * best_hits < count:
            return ""
        return (f"these are the numbers of variant {best} ({best_hits} of {count} match it, "
                f"{own} match {ident})")

    def absent(self) -> list[Row]:
        """A row for each student of the roster who handed in no answer file."""
        if self.roster is None:
            return []
        return [Row("", a.student, None, f"no answer file (roster line {a.line})",
                    variant=a.variant)
                for a in self.roster.assignments if a.line not in self.matched]

    def flag_shared(self, rows: Sequence[Row]) -> list[Row]:
        """Flag the answer files that the roster matches to the same student."""
        shared = {f: files for files in self.matched.values() if len(files) > 1 for f in files}
        out = []
        for r in rows:
            files = shared.get(r.file)
            if files is not None and r.result is not None:
                also = ", ".join(f for f in files if f != r.file)
                note = f"the roster's student is also matched by {also}"
                r = r.flagged(note)
            out.append(r)
        return out


def mark_class(folder: str | Path, variants: VariantFolder,
               roster: Roster | None = None, options: Options | None = None,
               access: ReadAccess = CONFINED, sheet: CheckResult | None = None
               ) -> Gradebook:
    """Mark every answer file of ``folder`` against its variant (``check --batch DIR
    --variants VDIR [--roster FILE]``); the roster's students with no file get a row."""
    marker = ClassMarker(variants, roster, options)
    if roster is not None:
        # A variant the roster gives that cannot be read is bad input, found before
        # any student is marked (not one error row per student who has it).
        for ident in dict.fromkeys(a.variant for a in roster.assignments):
            variants.solved(ident, marker.solved)
    book = mark_folder(folder, None, options, access, mark_one=marker, sheet=sheet)
    rows = marker.flag_shared(book.rows) + marker.absent()
    return replace(book, rows=tuple(rows), variants=str(variants.folder),
                   roster=roster.source if roster is not None else "")
