"""Speed of the course outputs for 200 variants of lecture_122 (issue 10).

Targets: the Moodle XML of 200 variants in under 5 s; both PDFs (all question
sheets, all worked solutions) in under 90 s on two cores.

Run:  python benchmarks/course_speed.py [--count 200] [--no-pdf]

The variants come from ``bpnn-steps variants lecture_122 --count N --seed 7``
when that command exists; otherwise they are drawn here the same way the tests
draw them (weights one decimal in [-0.5, 0.5], no zero).  Each command is timed
as a user runs it (a fresh process, reading the folder); the Moodle XML is also
split into its steps, in process.  The load average is printed: on a shared
machine the wall times are what the other processes leave.
"""

from __future__ import annotations

import argparse
import os
import resource
import shutil
import subprocess
import sys
import tempfile
import time
from dataclasses import replace
from pathlib import Path

MOODLE_TARGET = 5.0
PDF_TARGET = 90.0


def make_folder(folder: Path, count: int) -> str:
    """A folder of ``count`` variants; says how it was made."""
    cli = shutil.which("bpnn-steps") or "bpnn-steps"
    probe = subprocess.run([cli, "variants", "--help"], capture_output=True, text=True)
    if probe.returncode == 0:
        subprocess.run([cli, "variants", "lecture_122", "--count", str(count), "--seed", "7",
                        "-o", str(folder)], check=True, capture_output=True)
        return "bpnn-steps variants"
    import numpy as np

    from bpnn_steps.files.problem_file import load_problem
    from bpnn_steps.files.problem_writer import problem_text
    from bpnn_steps.files.variant_folder import INDEX, index_text, variant_file
    from bpnn_steps.model.variant import Variant, variant_id

    folder.mkdir(parents=True, exist_ok=True)
    base = load_problem("lecture_122")
    rng = np.random.default_rng(7)
    variants = []
    for i in range(1, count + 1):
        ident = variant_id("lecture_122", 7, i)
        weights = tuple(rng.integers(1, 6, size=w.shape) * rng.choice([-1, 1], size=w.shape) / 10
                        for w in base.initial_weights())
        problem = replace(base.with_weights(weights), variant=ident)
        variants.append(Variant(ident, problem, ("W1", "W2")))
        (folder / variant_file(ident)).write_text(problem_text(problem), encoding="utf-8")
    (folder / INDEX).write_text(index_text(variants), encoding="utf-8")
    return "drawn here (no 'bpnn-steps variants' yet)"


def wall(cmd: list[str]) -> tuple[float, float]:
    """(wall time, CPU time of the command and its children): on a busy machine the
    CPU time is close to what the wall time is on an idle one."""
    before = resource.getrusage(resource.RUSAGE_CHILDREN)
    start = time.perf_counter()
    run = subprocess.run(cmd, capture_output=True, text=True)
    if run.returncode != 0:
        sys.exit(f"{' '.join(cmd)} failed:\n{run.stderr}")
    took = time.perf_counter() - start
    after = resource.getrusage(resource.RUSAGE_CHILDREN)
    return took, (after.ru_utime - before.ru_utime) + (after.ru_stime - before.ru_stime)


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--count", type=int, default=200)
    parser.add_argument("--no-pdf", action="store_true", help="skip the PDFs")
    args = parser.parse_args()
    cli = shutil.which("bpnn-steps") or "bpnn-steps"
    with tempfile.TemporaryDirectory(prefix="course-speed-") as tmp:
        folder, out = Path(tmp) / "variants", Path(tmp) / "out"
        out.mkdir()
        made = make_folder(folder, args.count)
        print(f"python {sys.version.split()[0]}, {os.cpu_count()} cores, load average "
              f"{os.getloadavg()[0]:.1f}; {args.count} variants of lecture_122 ({made})")

        from bpnn_steps.course.answer_entries import course_answers
        from bpnn_steps.course.moodle import moodle_xml
        from bpnn_steps.files.variant_folder import read_variants

        t0 = time.perf_counter()
        variants = read_variants(folder)
        t1 = time.perf_counter()
        answers = course_answers(variants)
        t2 = time.perf_counter()
        moodle_xml(answers, 3, "lecture_122-s7")
        t3 = time.perf_counter()
        print(f"  in process: read the folder {t1 - t0:5.2f} s, solve and list the entries "
              f"{t2 - t1:5.2f} s, Moodle XML {t3 - t2:5.2f} s")
        moodle, cpu = wall([cli, "course", str(folder), "-o", str(out), "--only", "moodle"])
        print(f"  course --only moodle                   {moodle:6.2f} s (CPU {cpu:6.2f} s)"
              f"   target < {MOODLE_TARGET:.0f} s")
        quick, cpu = wall([cli, "course", str(folder), "-o", str(out), "--only",
                           "moodle,gift,canvas,key"])
        print(f"  course --only moodle,gift,canvas,key   {quick:6.2f} s (CPU {cpu:6.2f} s)")
        if not args.no_pdf:
            books = {}
            for only in ("questions", "solutions"):
                books[only] = wall([cli, "course", str(folder), "-o", str(out), "--only", only])
                print(f"  course --only {only:<24} {books[only][0]:6.1f} s (CPU "
                      f"{books[only][1]:6.1f} s)")
            both, cpu = wall([cli, "course", str(folder), "-o", str(out), "--only",
                              "questions,solutions"])
            idle = max(c for _, c in books.values())
            print(f"  course --only questions,solutions      {both:6.1f} s (CPU {cpu:6.1f} s;"
                  f" on two idle cores about {idle:.0f} s)   target < {PDF_TARGET:.0f} s")
            for p in sorted(out.glob("*.pdf")):
                print(f"    {p.name}: {p.stat().st_size / 1e6:.1f} MB")
        print(f"load average at the end {os.getloadavg()[0]:.1f}")


if __name__ == "__main__":
    main()
