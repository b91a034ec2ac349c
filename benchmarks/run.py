"""What a walkthrough costs, as ratios against `python -c "import numpy"` measured in the same run.

Run with `.venv/bin/python benchmarks/run.py [--runs 5] [--only NAME] [--json FILE]` from the
repository. Every case runs in a child process; the cases take turns (one round runs each case
once, the yardstick `import numpy` included), and each reports the median of its runs, that
median as a multiple of the yardstick's, the child's peak memory (its `ru_maxrss`, read with
`os.wait4`) and, for the cases that print a document, its size. A case slower than `--slow`
seconds runs only once, and one slower than `--timeout` seconds is stopped and reported as such.

The probes (step-through page draw time, dense build against the memory-write floor, structured
product against the shortcut) run in a child as well and report their own figures, medians of
`--runs` repetitions inside the child. This is a benchmark for people to read, not a test: nothing
here asserts a time; the README lists the targets it is read against.
"""

import argparse
import json
import os
import statistics
import subprocess
import sys
import tempfile
import time
from dataclasses import dataclass, field
from pathlib import Path

import numpy as np

REPOSITORY = Path(__file__).resolve().parent.parent
YARDSTICK = "import numpy"


@dataclass
class Case:
    """One command to time: `arguments` follow `python -m jacobian_bp`, or are the whole command (`raw`)."""

    name: str
    arguments: list[str]
    raw: bool = False
    times: list[float] = field(default_factory=list)
    peak_mb: float = 0.0
    output_mb: float = 0.0
    failed: str = ""
    exits: tuple[int, ...] = (0,)  # the exit statuses of a run that worked (`check` exits 1 on a wrong answer)
    against: str = ""  # another case this one is also given as a multiple of, in the last column

    def command(self) -> list[str]:
        return [sys.executable, *self.arguments] if self.raw else [sys.executable, "-m", "jacobian_bp", *self.arguments]


def write_cases(directory: Path) -> dict[str, Path]:
    """The walkthrough files of the large cases: deep and narrow, one wide input, the largest dense net."""
    rng = np.random.default_rng(0)
    deep = ['title = "200 layers of 2 units"', 'loss = "cross_entropy"', "seed = 1", "",
            "[data]", "X = [[0.5, -1.0]]", "Y = [[1.0, 0.0]]"]
    deep += [f'\n[[layers]]\nunits = 2\nactivation = "{"tanh" if k < 199 else "softmax"}"' for k in range(200)]
    wide = ['title = "100,000 input features"', 'loss = "binary_cross_entropy"', "seed = 1", "", "[data]",
            "X = [[" + ", ".join(f"{x:.3f}" for x in rng.uniform(0, 1, 100_000)) + "]]", "Y = [[1.0]]",
            "", "[[layers]]", "units = 1", 'activation = "sigmoid"']
    dense = ['title = "2 → 203 → 203 → 1, batch 4"', 'loss = "binary_cross_entropy"', "seed = 1", "", "[data]",
             "X = [[0.5, -1.0], [1.0, 0.25], [-0.5, 0.75], [0.0, 1.5]]", "Y = [[1.0], [0.0], [1.0], [0.0]]"]
    dense += [f'\n[[layers]]\nunits = {units}\nactivation = "{activation}"'
              for units, activation in ((203, "tanh"), (203, "tanh"), (1, "sigmoid"))]
    files = {}
    for name, lines in (("deep", deep), ("wide", wide), ("dense", dense)):
        files[name] = directory / f"{name}.toml"
        files[name].write_text("\n".join(lines) + "\n")
    files["class"] = write_class(directory / "class")
    return files


def write_class(folder: Path) -> Path:
    """A class of 30 answer files for the article, made by the tests' simulated students (slips, unreadable
    entries, a decimal comma, a blank worksheet)."""
    sys.path.insert(0, str(REPOSITORY))
    from jacobian_bp import load, solve
    from tests.simulator import write_class as simulate_class

    folder.mkdir()
    simulate_class(folder, solve(load("article")), "article", 30, seed=15)
    return folder


def bundled(name: str) -> bool:
    return (REPOSITORY / "walkthroughs" / f"{name}.toml").exists()


def cases(files: dict[str, Path]) -> list[Case]:
    found = [
        Case(YARDSTICK, ["-c", "import numpy"], raw=True),
        Case("article, text", ["walkthrough", "--width", "100"]),
        Case("article, --format json", ["walkthrough", "--format", "json"]),
        Case("check, one answer file", ["check", str(files["class"] / "student01.toml"), "--width", "100"],
             exits=(0, 1)),
        Case("check, a class of 30 (DIR/)", ["check", str(files["class"]), "--width", "100"], exits=(0, 1),
             against="check, one answer file"),
        Case("200 layers of 2 units, text", ["walkthrough", str(files["deep"]), "--width", "100"]),
        Case("100,000 input features, text", ["walkthrough", str(files["wide"]), "--width", "100"]),
        Case("2→203→203→1 ×4, text", ["walkthrough", str(files["dense"]), "--width", "100"]),
        Case("2→203→203→1 ×4, json", ["walkthrough", str(files["dense"]), "--format", "json"]),
        Case("2→203→203→1 ×4, html", ["walkthrough", str(files["dense"]), "--format", "html"]),
    ]
    if bundled("mnist_shape"):
        found += [Case("mnist_shape, text", ["walkthrough", "mnist_shape", "--width", "100"]),
                  Case("mnist_shape, json", ["walkthrough", "mnist_shape", "--format", "json"])]
    return found


# The children run as an installed tool runs: with its compiled bytecode cached (a shell that sets
# PYTHONDONTWRITEBYTECODE would make every run compile the package again, while numpy's bytecode is cached).
CHILD_ENVIRONMENT = {name: value for name, value in os.environ.items() if name != "PYTHONDONTWRITEBYTECODE"}


def run_once(case: Case, timeout: float) -> None:
    """Run the case's command once: its wall time, its peak memory and the size of what it printed."""
    with tempfile.TemporaryFile() as output:
        started = time.perf_counter()
        child = subprocess.Popen(case.command(), stdout=output, stderr=subprocess.PIPE, cwd=REPOSITORY,
                                 env=CHILD_ENVIRONMENT)
        deadline = started + timeout
        while True:
            pid, status, usage = os.wait4(child.pid, os.WNOHANG)
            if pid:
                break
            if time.perf_counter() > deadline:
                child.kill()
                os.wait4(child.pid, 0)
                child.returncode = -9
                case.failed = f"stopped after {timeout:.0f} s"
                return
            time.sleep(0.002)
        elapsed = time.perf_counter() - started
        child.returncode = os.waitstatus_to_exitcode(status)
        if child.returncode not in case.exits:
            case.failed = f"exit {child.returncode}: {child.stderr.read().decode()[-200:].strip()}"
            return
        case.times.append(elapsed)
        case.peak_mb = max(case.peak_mb, usage.ru_maxrss / 1024)  # kilobytes on Linux
        case.output_mb = output.seek(0, os.SEEK_END) / 1e6


def probe(name: str, arguments: list[str], timeout: float) -> dict:
    """Run one of the probes below in a child and return the figures it prints (as JSON)."""
    command = [sys.executable, __file__, "--probe", name, *arguments]
    done = subprocess.run(command, capture_output=True, text=True, cwd=REPOSITORY, timeout=timeout,
                          env=CHILD_ENVIRONMENT)
    if done.returncode:
        return {"failed": done.stderr.strip().splitlines()[-1] if done.stderr.strip() else f"exit {done.returncode}"}
    return json.loads(done.stdout)


def median_time(function, runs: int) -> float:
    times = []
    for _ in range(runs):
        started = time.perf_counter()
        function()
        times.append(time.perf_counter() - started)
    return statistics.median(times)


def probe_step_pages(path: str, runs: str) -> dict:
    """The time to draw each page of the step-through, revealed and hidden, at 100 columns, as a reader paging
    through draws them: the median of `runs` passes, each on fresh screens (they cache what they drew); the
    slowest page."""
    from jacobian_bp import load, solve
    from jacobian_bp.render.terminal.pages import Options
    from jacobian_bp.render.terminal.step import Screens
    from jacobian_bp.render.terminal.widgets import make_console

    solution = solve(load(path))
    draws: dict[tuple[int, bool], list[float]] = {}
    for _ in range(int(runs)):
        screens = Screens(solution, Options(), make_console(100))
        for index in range(len(screens.pages)):
            for reveal in (True, False):
                started = time.perf_counter()
                screens.body(index, reveal)
                draws.setdefault((index, reveal), []).append(time.perf_counter() - started)
    (index, _), slowest = max(((key, statistics.median(times)) for key, times in draws.items()),
                              key=lambda item: item[1])
    return {"slowest page s": slowest, "page": str(screens.pages[index].title)}


def probe_dense_build(path: str, runs: str) -> dict:
    """The largest local Jacobian built densely, against the floor of that build: writing the same entries into
    a matrix of zeros allocated as the build allocates its own (`np.zeros`).

    Both start from `np.zeros`, whose pages the system zeroes when they are first written, and both write the
    same entries, so both fault in the same pages: writing every entry instead (`ndarray.fill`) faults in every
    page while a sparse build touches a few of them, which made the ratio swing with how the system happened to
    supply those pages.
    """
    from jacobian_bp import load, solve

    solution = solve(load(path))
    graph = solution.graph
    edge = max(graph.edges, key=lambda e: solution.values[e.node.output].size * solution.values[e.variable].size)
    values = graph.role_values(edge.node, solution.values)
    dense = getattr(edge.node.op, "dense_jacobian", edge.node.op.jacobian)
    shape = (solution.values[edge.node.output].size, solution.values[edge.variable].size)
    built = np.asarray(dense(edge.role, values)).reshape(-1)
    written = np.flatnonzero(built)
    entries = built[written]
    del built

    def write_floor():
        np.zeros(shape).reshape(-1)[written] = entries

    build = median_time(lambda: dense(edge.role, values), int(runs))
    floor = median_time(write_floor, int(runs))
    return {"jacobian": edge.jacobian_name, "MB": shape[0] * shape[1] * 8 / 1e6, "build s": build,
            "floor s": floor, "× floor": build / floor}


def probe_structured_product(name: str, runs: str) -> dict:
    """`vec(dJ/dZ1) · dZ1/dW1` through the structure, against the shortcut `(dJ/dZ1)ᵀ · X`."""
    from jacobian_bp import load, solve

    solution = solve(load(name))
    step = solution.step("dJ/dW1")
    node = solution.graph.producers[step.node]
    values = solution.graph.role_values(node, solution.values)
    upstream = solution.step("dJ/dZ1").result
    structured = node.op.structured_jacobian(step.role, values)
    product = median_time(lambda: structured.left_multiply(upstream.reshape(1, -1)), 4 * int(runs))
    shortcut = median_time(lambda: node.op.shortcut(step.role, upstream, values), 4 * int(runs))
    return {"structure": structured.kind, "dense MB": structured.dense_bytes / 1e6, "product s": product,
            "shortcut s": shortcut, "× shortcut": product / shortcut}


PROBES = {"step_pages": probe_step_pages, "dense_build": probe_dense_build,
          "structured_product": probe_structured_product}


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--runs", type=int, default=5, help="rounds of every case (default: 5)")
    parser.add_argument("--slow", type=float, default=20.0, help="seconds above which a case runs once")
    parser.add_argument("--timeout", type=float, default=180.0, help="seconds after which a case is stopped")
    parser.add_argument("--only", action="append", default=[], help="run only cases whose name contains this")
    parser.add_argument("--json", type=Path, help="also write the figures to this file")
    parser.add_argument("--probe", nargs="+", help=argparse.SUPPRESS)
    arguments = parser.parse_args()
    if arguments.probe:
        sys.path.insert(0, str(REPOSITORY))  # the checkout this script belongs to, not an installed copy
        name, *rest = arguments.probe
        print(json.dumps(PROBES[name](*rest)))
        return
    with tempfile.TemporaryDirectory() as directory:
        files = write_cases(Path(directory))
        report = measure(arguments, files)
    if arguments.json:
        arguments.json.write_text(json.dumps(report, indent=1, ensure_ascii=False) + "\n")


def measure(arguments, files: dict[str, Path]) -> dict:
    """Every case in turn for `--runs` rounds, then the probes; the table printed and returned."""
    selected = [case for case in cases(files)
                if case.name == YARDSTICK or not arguments.only or any(o in case.name for o in arguments.only)]
    for case in selected:  # a first run of each warms the file cache and finds the slow ones
        run_once(case, arguments.timeout)
        case.times.clear()
    for _ in range(arguments.runs):
        for case in selected:
            if not case.failed and (len(case.times) == 0 or statistics.median(case.times) < arguments.slow):
                run_once(case, arguments.timeout)
    baseline = statistics.median(selected[0].times)
    print(f"{'case':<32} {'median':>10} {'× numpy':>8} {'peak MB':>8} {'output MB':>10}  runs  × other case")
    medians = {case.name: statistics.median(case.times) for case in selected if case.times}
    report: dict = {"cases": {}, "probes": {}}
    for case in selected:
        if case.failed and not case.times:
            print(f"{case.name:<32} {case.failed}")
            report["cases"][case.name] = {"failed": case.failed}
            continue
        median = statistics.median(case.times)
        other = f"{median / medians[case.against]:.2f} × {case.against}" if case.against in medians else ""
        print(f"{case.name:<32} {median * 1000:>7.0f} ms {median / baseline:>8.2f} {case.peak_mb:>8.0f} "
              f"{case.output_mb:>10.2f}  {len(case.times):>4}  {other}")
        report["cases"][case.name] = {"s": median, "ratio": median / baseline, "peak MB": case.peak_mb,
                                      "output MB": case.output_mb, "runs": len(case.times)}
        if other:
            report["cases"][case.name]["ratio to " + case.against] = median / medians[case.against]
    probes = {"step-through pages, 2→203→203→1": ("step_pages", [str(files["dense"]), str(arguments.runs)]),
              "dense build vs write floor": ("dense_build", [str(files["dense"]), str(arguments.runs)])}
    if bundled("mnist_shape"):
        probes["mnist_shape dZ1/dW1 structured vs shortcut"] = ("structured_product",
                                                                ["mnist_shape", str(arguments.runs)])
    for title, (name, extra) in probes.items():
        if arguments.only and not any(o in title for o in arguments.only):
            continue
        figures = probe(name, extra, arguments.timeout)
        report["probes"][title] = figures
        shown = ", ".join(f"{key} {value:.3g}" if isinstance(value, float) else f"{key} {value}"
                          for key, value in figures.items())
        print(f"{title}: {shown}")
    return report


if __name__ == "__main__":
    main()
