"""The time and memory of `bpnn-steps derive --verify`'s check (issue 12 item 8).

Target: a 4-8-8-4 sigmoid network verifies in under 3 s (it took 35 s and 463 MB
when sympy differentiated the cost written out in full and lambdified every
derivative); 4-8-4 well under 1 s (it took 2.4 s).

Run:  python benchmarks/derive_verify_speed.py [--tree PATH] [--networks 4-8-4 ...]
Each network is checked in a fresh process (so its peak memory is its own, and
sympy's cache starts empty), after one warm-up check of 2-2-2 that pays for the
imports; the script prints the CPU and wall time of the check alone and the
process's peak resident memory.  ``--tree`` measures another checkout of the
project (for example the commit before this change) with the same script: both
call ``check_with_sympy(layers, activations, loss)``.  The old check refuses
nothing by itself (the refusal is derive's), so it can be timed on any network.
"""

from __future__ import annotations

import argparse
import os
import subprocess
import sys
from pathlib import Path

ROOT = Path(__file__).resolve().parent.parent
TARGET_SECONDS = {"4-8-8-4": 3.0, "4-8-4": 1.0}

CHILD = """
import resource, sys, time
sys.path.insert(0, {tree!r})
from bpnn_steps.maths import symbolic
assert symbolic.__file__.startswith({tree!r}), symbolic.__file__
symbolic.check_with_sympy((2, 2, 2), ["sigmoid", "sigmoid"], "mse")
layers = {layers!r}
cpu, wall = time.process_time(), time.perf_counter()
checked, bad = symbolic.check_with_sympy(layers, ["sigmoid"] * (len(layers) - 1), "mse")
cpu, wall = time.process_time() - cpu, time.perf_counter() - wall
peak = resource.getrusage(resource.RUSAGE_SELF).ru_maxrss / 1024
print(checked, len(bad), f"{{cpu:.3f}}", f"{{wall:.3f}}", f"{{peak:.0f}}")
"""


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--tree", type=Path, default=ROOT,
                        help="the checkout to measure (default: this one)")
    parser.add_argument("--networks", nargs="+", default=["2-2-2", "4-8-4", "4-8-8-4"])
    parser.add_argument("--timeout", type=float, default=300)
    args = parser.parse_args()
    tree = str(args.tree.resolve())
    head = subprocess.run(["git", "-C", tree, "log", "-1", "--format=%h %s"],
                          capture_output=True, text=True).stdout.strip()
    print(f"python {sys.version.split()[0]}, {os.cpu_count()} cores, tree {tree} ({head})")
    print(f"{'network':<10} {'entries':>7} {'wrong':>5} {'cpu s':>7} {'wall s':>7} "
          f"{'peak MB':>8}  target")
    for spec in args.networks:
        layers = tuple(int(n) for n in spec.split("-"))
        try:
            done = subprocess.run([sys.executable, "-c", CHILD.format(tree=tree, layers=layers)],
                                  capture_output=True, text=True, timeout=args.timeout,
                                  check=True)
        except subprocess.TimeoutExpired:
            print(f"{spec:<10} more than {args.timeout:.0f} s")
            continue
        checked, wrong, cpu, wall, peak = done.stdout.split()
        target = TARGET_SECONDS.get(spec)
        verdict = "" if target is None else (
            f"< {target:g} s {'met' if float(wall) < target else 'MISSED'}")
        print(f"{spec:<10} {checked:>7} {wrong:>5} {cpu:>7} {wall:>7} {peak:>8}  {verdict}")


if __name__ == "__main__":
    main()
