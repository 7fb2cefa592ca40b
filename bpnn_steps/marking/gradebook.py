"""Batch marking: a folder of answer files, a gradebook and a mistake summary.

Every ``*.yaml``/``*.yml`` file of the folder is marked on its own; a file that
cannot be read gets an error row and the batch goes on.  The gradebook has one
row per student and one column per entry group (answer-file key), holding the
points earned (one per credited number).  CSV cells that a spreadsheet would
read as a formula (``=``, ``+``, ``-``, ``@`` first) are quoted with a leading
apostrophe: student names and file names are untrusted.
"""

from __future__ import annotations

import csv
import io
import json
import os
from collections import Counter
from collections.abc import Callable, Sequence
from dataclasses import dataclass, replace
from pathlib import Path
from typing import Any, Protocol

from .marker import BLANK, CheckResult, Options, Regenerate, SolvedProblems, check_file
from ..files.bundled import shown_file
from ..files.untrusted import ALLOW_OPTION, CONFINED, ReadAccess, clean_text, csv_cell
from .diagnose import MISTAKES
from ..errors import ProblemError
from ..model.variant import VariantId

MAX_FILES = 5000


@dataclass(frozen=True)
class Row:
    """One answer file of the batch: its result, or why it could not be marked."""

    file: str                      # "" for a student of the roster with no answer file
    student: str
    result: CheckResult | None
    error: str | None = None
    variant: str = ""              # the variant marked against (check --variants)
    flag: str = ""                 # what the marker must look at (marked all the same)

    @property
    def status(self) -> str:
        if self.result is None:
            return "error"
        if self.flag:
            return "flagged"
        return "all right" if self.result.all_right else "marked"

    def flagged(self, note: str) -> "Row":
        """This row with ``note`` added to what the marker must look at."""
        return replace(self, flag="; ".join(f for f in (self.flag, note) if f))

    @property
    def done(self) -> bool:
        """Marked all right and nothing to look at."""
        return self.result is not None and self.result.all_right and not self.flag


@dataclass(frozen=True)
class Gradebook:
    folder: str
    rows: tuple[Row, ...]
    groups: tuple[tuple[str, int], ...]          # (column, points) in the lecture's order
    variants: str = ""             # the folder of variants marked against (a variant column)
    roster: str = ""               # the roster that gave each student a variant
    sheet: str = ""                # the sheet every file was scored against (--sheet)
    sheet_entries: int = 0

    @property
    def by_variant(self) -> bool:
        return bool(self.variants) or any(r.variant for r in self.rows)

    @property
    def marked(self) -> list[Row]:
        return [r for r in self.rows if r.result is not None]

    @property
    def results(self) -> list[CheckResult]:
        """The results of the marked files (those of :attr:`marked`)."""
        return [r.result for r in self.rows if r.result is not None]

    def mistakes(self) -> list[tuple[str, int, int, list[tuple[str, int]]]]:
        """(cause, students, entries, [(group label, students)...]) most common first."""
        students: Counter[str] = Counter()
        entries: Counter[str] = Counter()
        where: dict[str, Counter[str]] = {}
        # Keys that tie are listed in the order of a worked solution (a set's order
        # would change from run to run).
        order: dict[str, int] = {}
        for result in self.results:
            seen: set[str] = set()
            seen_groups: set[tuple[str, str]] = set()
            for group in result.groups:
                order[group.column] = min(order.get(group.column, group.order), group.order)
                for e in group.entries:
                    if not e.cause:
                        continue
                    entries[e.cause] += 1
                    seen.add(e.cause)
                    seen_groups.add((e.cause, group.column))
            students.update(seen)
            for cause, label in seen_groups:
                where.setdefault(cause, Counter())[label] += 1
        out = []
        for cause, n in sorted(students.items(), key=lambda kv: (-kv[1], -entries[kv[0]],
                                                                  kv[0])):
            places = sorted(where[cause].items(), key=lambda kv: (-kv[1], order[kv[0]], kv[0]))
            out.append((cause, n, entries[cause], places[:4]))
        return out

    # ------------------------------------------------------------------ outputs

    def to_dict(self) -> dict[str, Any]:
        where = {k: v for k, v in (("variants", self.variants), ("roster", self.roster),
                                   ("sheet", self.sheet)) if v}
        return {
            "format": "bpnn-steps gradebook", "version": 1, "folder": self.folder, **where,
            "groups": [{"key": k, "points": p} for k, p in self.groups],
            "students": [_row_dict(r, self.by_variant) for r in self.rows],
            "mistakes": [{"cause": c, "description": MISTAKES.get(c, c), "students": s,
                          "entries": e, "where": [{"key": k, "students": n} for k, n in w]}
                         for c, s, e, w in self.mistakes()],
        }

    def to_json(self) -> str:
        return json.dumps(self.to_dict(), indent=1, ensure_ascii=False, allow_nan=False) + "\n"

    def to_csv(self) -> str:
        buffer = io.StringIO()
        writer = csv.writer(buffer, lineterminator="\n")
        variant = self.by_variant
        writer.writerow(["file", "student"] + ["variant"] * variant +
                        ["status", "score", "total", "percent"] +
                        [f"{k} [{p}]" for k, p in self.groups])
        for r in self.rows:
            who = [csv_cell(r.file), csv_cell(r.student)] + [csv_cell(r.variant)] * variant
            if r.result is None:
                writer.writerow(who + [csv_cell(f"error: {r.error}"),
                                       "", "", ""] + [""] * len(self.groups))
                continue
            points = {g.column: g.credited for g in r.result.groups}
            status = csv_cell(f"flagged: {r.flag}") if r.flag else r.status
            writer.writerow(who + [status, r.result.credited,
                                   r.result.total, f"{r.result.percent:.1f}"] +
                            [points.get(k, "") for k, _ in self.groups])
        return buffer.getvalue()


def _row_dict(r: Row, by_variant: bool = False) -> dict[str, Any]:
    who: dict[str, Any] = {"file": r.file, "student": r.student}
    if by_variant:
        who["variant"] = r.variant
    if r.result is None:
        return {**who, "status": "error", "error": r.error}
    res = r.result
    if r.flag:
        who["flag"] = r.flag
    return {**who, "status": r.status,
            "score": res.credited, "total": res.total, "percent": round(res.percent, 2),
            "groups": {g.column: {"credited": g.credited, "total": len(g.entries)}
                       for g in res.groups},
            "mistakes": res.mistakes()}


# --------------------------------------------------------------------------- marking


def answer_files(folder: str | Path) -> list[Path]:
    root = Path(folder)
    if not root.is_dir():
        raise ProblemError("is not a folder", file=str(folder))
    files = sorted(p for p in root.iterdir()
                   if p.suffix.lower() in (".yaml", ".yml") and p.is_file())
    if not files:
        raise ProblemError("holds no answer files (*.yaml, *.yml)", file=str(folder))
    if len(files) > MAX_FILES:
        raise ProblemError(f"holds {len(files)} answer files, more than {MAX_FILES}",
                           file=str(folder))
    return files


# Marks one answer file of a batch: (path, file name, stem, the problems solved so far).
MarkOne = Callable[[Path, str, str, SolvedProblems], Row]


def read_sheet(path: str | Path, access: ReadAccess = CONFINED) -> CheckResult:
    """The sheet a class was given (``check --batch --sheet FILE``, a blank sheet of
    ``check --template``), as the marks of a file that answers none of it: its
    questions, each entry blank."""
    result = check_file(path, access=access)
    return replace(result, groups=tuple(replace(g, note=None, entries=tuple(
        replace(e, mark=BLANK, given=None, given_text=None, accepted=None, cause=None,
                message="not in the answer file") for e in g.entries))
        for g in result.groups))


def problem_family(result: CheckResult) -> str:
    """The problem a file answers: "variants of" a variant's base (a class of
    variants), else the problem file itself.  The base problem is not one of its
    variants: its worked numbers are published (a file answering lecture_122 in a
    class of its variants scored 63/63 unflagged), and a file of the same name in
    another folder is another problem."""
    ident = VariantId.parse(result.variant) if result.variant else None
    return f"variants of {ident.base}" if ident is not None else str(shown_file(result.source))


def flag_other_problems(rows: Sequence[Row]) -> list[Row]:
    """Flag the files that answer another problem than most of the class's: without
    a sheet, a file answering an easier problem, or one whose worked numbers are
    published, scored in the same columns unremarked.  With no clear majority,
    every file is flagged."""
    families = Counter(problem_family(r.result) for r in rows if r.result is not None)
    if len(families) < 2:
        return list(rows)
    (family, most), (_, second) = families.most_common(2)
    # named as the class's files name it (lecture_122), not by the file's full path
    named = {problem_family(r.result): r.result.problem for r in rows if r.result is not None}
    common = family if family.startswith("variants of ") else named[family]
    out = []
    for r in rows:
        if r.result is not None and (most == second or problem_family(r.result) != family):
            note = (f"answers {r.result.variant or r.result.problem}; the files answer "
                    f"{len(families)} problems" + (f", most of them {common}"
                                                   if most != second else ""))
            r = r.flagged(clean_text(note))
        out.append(r)
    return out


def flag_shared_names(rows: Sequence[Row]) -> list[Row]:
    """Flag the files that name the same student: a second file under a classmate's
    name could replace their grade where the gradebook is imported by name."""
    files: dict[str, list[str]] = {}
    for r in rows:
        if r.result is not None and r.result.student:
            files.setdefault(r.result.student.casefold(), []).append(r.file)
    out = []
    for r in rows:
        named = files.get(r.result.student.casefold(), []) if r.result is not None and \
            r.result.student else []
        if len(named) > 1:
            also = ", ".join(f for f in named if f != r.file)
            note = clean_text(f"another file names the same student: {also}")
            r = r.flagged(note)
        out.append(r)
    return out


class _Marked(Protocol):
    """What names the problem a file answers (a CheckResult; a Problem too)."""

    @property
    def variant(self) -> str: ...
    @property
    def source(self) -> str: ...


def same_problem(result: _Marked, sheet: _Marked) -> bool:
    """Whether an answer file (or a problem) answers the sheet's problem: the same
    problem file, or a variant of it (a variant's id names its base problem; variants
    differ in numbers only).  Another problem's J or h(1) is no answer to the
    sheet's."""
    ids = [VariantId.parse(r.variant) if r.variant else None for r in (result, sheet)]
    if ids[0] is None:
        # by file, not by name: --problem lecture_122 and a sheet's problem:
        # lecture_122 are one file shown two ways (every row was an error).  The
        # base problem is no answer to a sheet of its variant: its numbers are
        # published.
        return ids[1] is None and shown_file(result.source) == shown_file(sheet.source)
    base = ids[1].base if ids[1] is not None else Path(sheet.source).stem
    return ids[0].base == base


def on_sheet(result: CheckResult, sheet: CheckResult) -> CheckResult:
    """``result`` scored against the class's sheet: a question of the sheet the file
    leaves out counts as blank, a key the sheet does not ask counts for nothing (a
    file of one right key was 2/2, 100%; a second spelling of y-hat, z[2], scored
    twice)."""
    asked = {g.column: len(g.entries) for g in sheet.groups}
    kept = [g for g in result.groups if asked.get(g.column) == len(g.entries)]
    answered = {g.column for g in kept}
    groups = kept + [g for g in sheet.groups if g.column not in answered]
    return replace(result, groups=tuple(sorted(groups, key=lambda g: g.order)))


def mark_folder(folder: str | Path, problem: str | None = None,
                options: Options | None = None, access: ReadAccess = CONFINED,
                mark_one: MarkOne | None = None,
                regenerate: Regenerate | None = None,
                sheet: CheckResult | None = None) -> Gradebook:
    """Mark every answer file of ``folder``; bad files become error rows.  File
    names and messages are cleaned here: a file name is a student's text too.
    ``mark_one`` marks a file another way (each against its variant, marking.roster);
    ``regenerate`` draws the variant a file names of its base problem (marker.load);
    ``sheet`` (:func:`read_sheet`) is what each file is scored against."""
    rows = []
    home = Path(folder)
    solved = SolvedProblems()

    def against_its_problem(path: Path, name: str, stem: str, solved: SolvedProblems) -> Row:
        result = check_file(path, problem, options, access, solved, regenerate, home)
        return Row(name, result.student or stem, result, variant=result.variant)

    mark = mark_one or against_its_problem
    for path in answer_files(folder):
        name, stem = clean_text(path.name), clean_text(path.stem)
        if not access.allows(Path(os.path.realpath(path)), home):
            rows.append(Row(name, stem, None, f"{name}: not read: a link that leads outside "
                            f"the folder (allow its target's folder with {ALLOW_OPTION} DIR)"))
            continue
        try:
            row = mark(path, name, stem, solved)
            if sheet is not None and row.result is not None:
                if not same_problem(row.result, sheet):
                    answered = row.result.variant or row.result.problem
                    rows.append(replace(row, result=None, error=clean_text(
                        f"{name}: answers {answered}, not the sheet's problem "
                        f"{sheet.variant or sheet.problem}: not scored against the sheet")))
                    continue
                row = replace(row, result=on_sheet(row.result, sheet))
            rows.append(row)
        except ProblemError as err:
            rows.append(Row(name, stem, None, clean_text(str(err))))
            continue
        except (RecursionError, MemoryError, ValueError, OverflowError) as err:
            rows.append(Row(name, stem, None, f"{clean_text(str(path))}: cannot be marked "
                            f"({type(err).__name__})"))
            continue
    rows = flag_other_problems(rows)
    if mark_one is None:        # (with a roster, its matching flags two files of one student)
        rows = flag_shared_names(rows)
    return Gradebook(str(folder), tuple(rows), _groups(rows),
                     sheet=sheet.answers if sheet is not None else "",
                     sheet_entries=sheet.total if sheet is not None else 0)


def _groups(rows: Sequence[Row]) -> tuple[tuple[str, int], ...]:
    """Every column (a quantity's canonical key), in the order of a worked solution,
    with its points."""
    points: dict[str, int] = {}
    order: dict[str, int] = {}
    for r in rows:
        if r.result is None:
            continue
        for g in r.result.groups:
            points[g.column] = max(points.get(g.column, 0), len(g.entries))
            order[g.column] = min(order.get(g.column, g.order), g.order)
    return tuple((k, points[k]) for k in sorted(points, key=lambda k: (order[k], k)))


def summary_lines(book: Gradebook, top: int = 8) -> list[str]:
    """The class summary: counts, then the most common mistakes."""
    marked = book.marked
    files = [r for r in book.rows if r.file]
    errors = [r for r in files if r.result is None]
    absent = [r for r in book.rows if not r.file]
    lines = [f"Marked {len(marked)} of {len(files)} answer file"
             f"{'s' if len(files) != 1 else ''} in {clean_text(book.folder)}"
             + (f"; {len(errors)} could not be read" if errors else "") + "."]
    if book.sheet:
        lines.append(f"Scored against the sheet {clean_text(book.sheet)} ({book.sheet_entries} "
                     "entries): a question left out counts as blank.")
    elif len({r.total for r in book.results}) > 1:
        totals = [r.total for r in book.results]
        lines.append(f"Files hold {min(totals)} to {max(totals)} entries, each scored over its "
                     "own: --sheet FILE scores all against the class's sheet.")
    if book.by_variant:
        used = len({r.variant for r in marked if r.variant})
        lines.append(f"Against {used} variant{'s' if used != 1 else ''}"
                     + (f" of {book.variants}" if book.variants else "")
                     + (f", as {book.roster} assigns them" if book.roster else "")
                     + (f"; {len(absent)} student{'s' if len(absent) != 1 else ''} of the "
                        "roster handed in no answer file" if absent else "") + ".")
    if marked:
        percents = sorted(r.percent for r in book.results)
        mean = sum(percents) / len(percents)
        median = percents[len(percents) // 2] if len(percents) % 2 else \
            (percents[len(percents) // 2 - 1] + percents[len(percents) // 2]) / 2
        full = sum(r.all_right for r in book.results)
        lines.append(f"Mean score {mean:.1f}%, median {median:.1f}%; {full} with everything "
                     "right.")
    mistakes = book.mistakes()
    if mistakes:
        lines.append("Most common mistakes (students affected):")
        for cause, students, entries, where in mistakes[:top]:
            keys = ", ".join(f"{k} ({n})" for k, n in where)
            lines.append(f"  {students:>3}  {MISTAKES.get(cause, cause)} "
                         f"[{entries} entr{'y' if entries == 1 else 'ies'}] in {keys}")
    for r in errors:
        lines.append(f"  could not mark {r.file}: {r.error}")
    for r in book.rows:
        if r.flag:
            lines.append(f"  flagged {r.file}: {r.flag}")
    for r in absent:
        lines.append(f"  {r.student}: {r.error}")
    return lines
