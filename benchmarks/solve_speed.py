"""Time and memory of `bpnn-steps solve` on problems bigger than the lecture's.

Issue 9 measured:

* speed: a [4, 16, 16, 3] network, 50 samples, 10 batch updates (the first and the
  last shown in full, 4.5 MB of text) took 2.1 s, 80% of it building and
  rendering text (target: under 0.5 s);
* memory: 50 samples x 10,000 updates with `--show none` kept 0.41 MB per update
  (4.1 GB); solve's memory should grow with what is shown, not with the updates.

Then (2026-12-01, quiet two-core machine): the speed case took 0.78 s wall, 0.89 s
CPU (imports 0.26, load 0.10, solve 0.04, build 0.13, render 0.41), 3.7 MB of text.

Now: an update of more than 25 samples shows its first 3 worked in full
(``--samples auto``; ``--samples all`` shows every one), and a file in plain YAML is
read by libyaml instead of ruamel.yaml's pure-Python parser (same tree, same line
numbers).  The speed case prints 0.3 MB.  On a quiet two-core machine
(2026-12-01, 20:48): 0.41 s wall in-process (imports 0.32, load 0.06, solve 0.07,
build 0.01, render 0.05 s of CPU), and 0.38-0.46 s (median of 7: 0.46 s) for the
whole `bpnn-steps solve` process installed with `pip install .`: the 0.5 s target
is met.  Memory: about 1 MB per 1,000 updates with --show none.

Run:  python benchmarks/solve_speed.py [--runs 5] [--updates 2000] [--against REF]

Every figure comes from a fresh process (nothing cached from an earlier run).
With ``--against REF`` (a git commit, e.g. the one before a change) the same
measurements run on that commit's code too (a temporary git worktree put first on
PYTHONPATH), round after round in turn so that machine noise hits both alike, and
the script prints the ratios before / after.
"""

from __future__ import annotations

import argparse
import json
import os
import statistics
import subprocess
import sys
import tempfile
from pathlib import Path

ROOT = Path(__file__).resolve().parent.parent

# One process: the phases of `solve FILE` as text (a pipe, no terminal), CPU
# seconds each, then the output's size; cold caches, as on the command line.
PHASES = r"""
import json, sys, time
clock = time.process_time
t0 = clock()
from bpnn_steps.files.problem_file import load_problem
from bpnn_steps.maths.engine import solve
from bpnn_steps.present.sheet import worked_solution
from bpnn_steps.render.terminal import TextRenderer
t1 = clock()
problem = load_problem(sys.argv[1])
t2 = clock()
trace = solve(problem)
t3 = clock()
document = worked_solution(trace, show="auto")
document.blocks
t4 = clock()
text = TextRenderer().render(document, 3)
t5 = clock()
print(json.dumps({"imports": t1 - t0, "load": t2 - t1, "solve": t3 - t2, "build": t4 - t3,
                  "render": t5 - t4, "bytes": len(text.encode())}))
"""

# One process: the whole command line, wall and CPU seconds and peak memory.
COMMAND = r"""
import json, resource, sys, time
wall, cpu = time.perf_counter(), time.process_time()
sys.argv = ["bpnn-steps", *sys.argv[1:]]
from bpnn_steps.cli import main
code = 0
try:
    main()
except SystemExit as stop:
    code = stop.code or 0
peak = resource.getrusage(resource.RUSAGE_SELF).ru_maxrss / 1024     # KB on Linux
print(json.dumps({"wall": time.perf_counter() - wall, "cpu": time.process_time() - cpu,
                  "peak_mb": peak, "code": code}), file=sys.stderr)
"""


def _problem(folder: Path, name: str, layers: list[int], activations: list[str], seed: int,
             training: str, title: str = "") -> Path:
    """A problem file of 50 random samples (inputs and targets with 2 decimals)."""
    import numpy as np

    rng = np.random.default_rng(seed)
    x = np.round(rng.uniform(-1, 1, (50, layers[0])), 2).tolist()
    y = np.round(rng.uniform(0, 1, (50, layers[-1])), 2).tolist()
    path = folder / f"{name}.yaml"
    path.write_text(
        (f"title: {title}\n" if title else "")
        + f"network:\n  layers: {layers}\n  activations: [{', '.join(activations)}]\n"
        f"data:\n  x: {json.dumps(x)}\n  y: {json.dumps(y)}\n"
        "weights: {random: {distribution: uniform, scale: 0.5, seed: 1}}\n"
        f"training:\n  {training}\n",
        encoding="utf-8")
    return path


def speed_problem(folder: Path) -> Path:
    """[4, 16, 16, 3], 50 samples, 10 batch updates."""
    return _problem(folder, "speed_4_16_16_3", [4, 16, 16, 3], ["sigmoid", "tanh", "linear"],
                    1, "learning_rate: 0.1\n  method: batch\n  epochs: 10",
                    title="Benchmark 4-16-16-3")


def memory_problem(folder: Path) -> Path:
    """[2, 8, 1], 50 samples, one sample per update (sgd): 50 updates per epoch."""
    return _problem(folder, "memory_2_8_1", [2, 8, 1], ["sigmoid", "linear"], 2,
                    "learning_rate: 0.01\n  method: sgd\n  epochs: 1")


def run(code: str, args: list[str], tree: Path | None, channel: str) -> dict[str, float]:
    env = dict(os.environ)
    if tree is not None:
        env["PYTHONPATH"] = os.pathsep.join([str(tree), env.get("PYTHONPATH", "")])
    # Run in the problems' folder: `python -c` puts the current folder first on
    # sys.path, ahead of PYTHONPATH.
    done = subprocess.run([sys.executable, "-c", code, *args], env=env, capture_output=True,
                          text=True, check=True, cwd=Path(args[-1]).parent
                          if args[-1] != os.devnull else Path(args[1]).parent)
    out = done.stdout if channel == "stdout" else done.stderr
    result: dict[str, float] = json.loads(out.strip().splitlines()[-1])
    return result


def median(results: list[dict[str, float]], key: str) -> float:
    return statistics.median(r[key] for r in results)


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.split("\n\n")[0])
    parser.add_argument("--runs", type=int, default=5)
    parser.add_argument("--updates", type=int, default=2000,
                        help="updates of the memory run (sgd, 50 samples)")
    parser.add_argument("--against", metavar="REF", help="also measure this git commit")
    args = parser.parse_args()

    with tempfile.TemporaryDirectory() as tmp:
        folder = Path(tmp)
        trees: dict[str, Path | None] = {"now": ROOT}
        if args.against:
            old = folder / "before"
            subprocess.run(["git", "-C", str(ROOT), "worktree", "add", "--detach", str(old),
                            args.against], check=True, capture_output=True)
            trees = {"before": old, "now": ROOT}
        try:
            report(trees, folder, args.runs, args.updates)
        finally:
            if args.against:
                subprocess.run(["git", "-C", str(ROOT), "worktree", "remove", "--force",
                                str(folder / "before")], check=False, capture_output=True)


def report(trees: dict[str, Path | None], folder: Path, runs: int, updates: int) -> None:
    speed = str(speed_problem(folder))
    memory = str(memory_problem(folder))
    phases: dict[str, list[dict[str, float]]] = {name: [] for name in trees}
    command: dict[str, list[dict[str, float]]] = {name: [] for name in trees}
    for _ in range(runs):              # in turn, so that noise hits every tree alike
        for name, tree in trees.items():
            phases[name].append(run(PHASES, [speed], tree, "stdout"))
            command[name].append(run(COMMAND, ["solve", speed, "-o", os.devnull], tree,
                                     "stderr"))
    keys = ("imports", "load", "solve", "build", "render")
    print(f"solve [4, 16, 16, 3], 50 samples, 10 batch updates, first and last shown "
          f"({phases['now'][0]['bytes'] / 1e6:.1f} MB of text); median of {runs} fresh "
          "processes, CPU seconds:")
    print(f"  {'':8}" + "".join(f"{k:>9}" for k in (*keys, "command", "wall")))
    for name in trees:
        row = [median(phases[name], k) for k in keys]
        row += [median(command[name], "cpu"), median(command[name], "wall")]
        print(f"  {name:8}" + "".join(f"{v:9.3f}" for v in row))
    if "before" in trees:
        ratios = [median(phases["before"], k) / max(median(phases["now"], k), 1e-9)
                  for k in keys]
        ratios += [median(command["before"], k) / median(command["now"], k)
                   for k in ("cpu", "wall")]
        print(f"  {'ratio':8}" + "".join(f"{v:8.2f}x" for v in ratios))
        text = {name: median(phases[name], "build") + median(phases[name], "render")
                for name in trees}
        print(f"  building and rendering text: {text['before']:.3f} s -> {text['now']:.3f} s "
              f"({text['before'] / text['now']:.2f}x faster)")

    print(f"\nsolve --show none, [2, 8, 1], 50 samples, sgd: peak memory (MB) by updates:")
    sizes = (updates // 4, updates)
    print(f"  {'':8}" + "".join(f"{n:>12,}" for n in sizes) + f"{'MB per 1,000':>16}")
    for name, tree in trees.items():
        peaks = []
        for n in sizes:
            result = run(COMMAND, ["solve", memory, "--show", "none", "--epochs",
                                   str(n // 50), "-o", os.devnull], tree, "stderr")
            peaks.append(result["peak_mb"])
        slope = (peaks[1] - peaks[0]) / (sizes[1] - sizes[0]) * 1000
        print(f"  {name:8}" + "".join(f"{p:12.1f}" for p in peaks) + f"{slope:16.2f}")


if __name__ == "__main__":
    main()
