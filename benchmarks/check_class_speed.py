"""Time of marking a class against its variants (issue 10, deliverable 4).

    bpnn-steps check --batch answers --variants variants --roster roster.csv

for N students over N variants of lecture_122 (one variant each), a quarter of
them handing in the next variant's numbers (so the look for another variant's
numbers runs too), against the same class marked without variants: every answer
file marked against one problem (the files' `variant:` removed, `--problem` the
first variant).  The difference is what variants cost: reading and solving each
variant once, and the comparisons for the flagged files.

Run:  python benchmarks/check_class_speed.py [--students 200] [--runs 3]
Every figure is the median wall time of a fresh process.

Measured on the shared two-core machine (issue 10, other jobs running): 200 students
over 200 variants 35.3 s, the same class against one problem 28.9 s (variants
+6.4 s; in CPU time 14.2 s against 11.7 s without the look for other variants'
numbers, 2.1 s of it reading and solving the 200 variants).
"""

from __future__ import annotations

import argparse
import statistics
import subprocess
import sys
import tempfile
import time
from pathlib import Path

REPO = Path(__file__).resolve().parent.parent
sys.path.insert(0, str(REPO / "tests"))


def build(root: Path, students: int) -> None:
    import test_check_variants as t
    from bpnn_steps.files.variant_folder import variant_file

    variants = t.make_variants(root / "variants", students)
    (root / "answers").mkdir()
    (root / "plain").mkdir()
    steps = {v.id: t.reference(root / "variants" / variant_file(v.id)) for v in variants}
    roster = ["student,variant"]
    for k, v in enumerate(variants):
        used = variants[(k + 1) % students] if k % 4 == 3 else v
        answers = t.right_answers(steps[used.id])
        name = f"s{k:03d}"
        (root / "answers" / f"{name}.yaml").write_text(
            t.answer_text(answers, student=name, variant=v.id), encoding="utf-8")
        (root / "plain" / f"{name}.yaml").write_text(t.answer_text(answers, student=name),
                                                     encoding="utf-8")
        roster.append(f"{name},{v.id}")
    (root / "roster.csv").write_text("\n".join(roster) + "\n", encoding="utf-8")
    first = root / "variants" / variant_file(variants[0].id)
    (root / "first.yaml").write_text(first.read_text(encoding="utf-8"), encoding="utf-8")


def timed(args: list[str], cwd: Path) -> float:
    start = time.perf_counter()
    subprocess.run([sys.executable, "-m", "bpnn_steps", *args], cwd=cwd, check=False,
                   capture_output=True)
    return time.perf_counter() - start


def main() -> None:
    parser = argparse.ArgumentParser()
    parser.add_argument("--students", type=int, default=200)
    parser.add_argument("--runs", type=int, default=3)
    opts = parser.parse_args()
    with tempfile.TemporaryDirectory() as tmp:
        root = Path(tmp)
        build(root, opts.students)
        by_variant = ["check", "--batch", "answers", "--variants", "variants", "--roster",
                      "roster.csv", "-o", "marks"]
        plain = ["check", "--batch", "plain", "--problem", "first.yaml", "-o", "plainmarks"]
        a, b = [], []
        for _ in range(opts.runs):
            a.append(timed(by_variant, root))
            b.append(timed(plain, root))
        va, vb = statistics.median(a), statistics.median(b)
        print(f"{opts.students} students over {opts.students} variants: {va:.2f} s "
              f"({1000 * va / opts.students:.0f} ms a student)")
        print(f"the same class against one problem: {vb:.2f} s; variants cost "
              f"{va - vb:+.2f} s")


if __name__ == "__main__":
    main()
