"""Start-up cost of `bpnn-steps solve` against importing its own dependencies.

Target (issue 8): the median wall time of

    bpnn-steps solve problems/lecture_122.yaml

within 1.2x of

    python -c "import typer, numpy, rich.table, ruamel.yaml"

Run:  python benchmarks/startup.py [--runs 21]
The commands run in turn, round after round (so machine noise hits them alike);
the script prints each median and its ratio to the imports alone.  `--help` and
`list`, which import no numpy, are shown for comparison (not part of the target).
Measure an ordinary (non-editable) install: an editable one adds an import hook.
"""

from __future__ import annotations

import argparse
import os
import shutil
import statistics
import subprocess
import sys
import time
from pathlib import Path

ROOT = Path(__file__).resolve().parent.parent
PROBLEM = ROOT / "problems" / "lecture_122.yaml"
TARGET = 1.2


def wall(cmd: list[str]) -> float:
    start = time.perf_counter()
    subprocess.run(cmd, stdout=subprocess.DEVNULL, stderr=subprocess.DEVNULL, check=True)
    return time.perf_counter() - start


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--runs", type=int, default=21)
    args = parser.parse_args()
    script = shutil.which("bpnn-steps")
    tool = [script] if script else [sys.executable, "-m", "bpnn_steps"]
    commands = {
        "imports only": [sys.executable, "-c", "import typer, numpy, rich.table, ruamel.yaml"],
        "bpnn-steps solve (text)": tool + ["solve", str(PROBLEM)],
        "bpnn-steps solve --format json": tool + ["solve", str(PROBLEM), "--format", "json"],
        "bpnn-steps --help": tool + ["--help"],
        "bpnn-steps list": tool + ["list"],
    }
    for cmd in commands.values():   # warm the file cache and .pyc files
        wall(cmd)
    times: dict[str, list[float]] = {name: [] for name in commands}
    for _ in range(args.runs):
        for name, cmd in commands.items():
            times[name].append(wall(cmd))
    base = statistics.median(times["imports only"])
    print(f"python {sys.version.split()[0]}, {os.cpu_count()} cores, {args.runs} runs each, "
          "median wall time")
    for name, values in times.items():
        med = statistics.median(values)
        print(f"  {name:32s} {med * 1000:7.1f} ms   ratio {med / base:5.2f}")
    worst = max(statistics.median(v) for k, v in times.items() if " solve" in k)
    verdict = "meets" if worst / base <= TARGET else "MISSES"
    print(f"target: solve within {TARGET}x of the imports -> {verdict} ({worst / base:.2f}x)")


if __name__ == "__main__":
    main()
