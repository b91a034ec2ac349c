"""Wall time of the command line, measured side by side with `import numpy` as the yardstick.

Run with `.venv/bin/python benchmarks/startup.py [--runs 5]`. Each command runs once to warm the
file cache, then `--runs` times in turn; the median is reported, and its ratio to `import numpy`.
This is a benchmark for people to read, not a test: nothing here asserts a time.
"""

import argparse
import statistics
import subprocess
import sys
import time

COMMANDS = {
    "python -c 'import numpy'": [sys.executable, "-c", "import numpy"],
    "walkthrough --format json": [sys.executable, "-m", "jacobian_bp", "walkthrough", "--format", "json"],
    "walkthrough (text)": [sys.executable, "-m", "jacobian_bp", "walkthrough", "--width", "100"],
    "walkthrough --no-symbolic": [sys.executable, "-m", "jacobian_bp", "walkthrough", "--width", "100",
                                  "--no-symbolic"],
}


def wall_time(command: list[str]) -> float:
    started = time.perf_counter()
    subprocess.run(command, check=True, stdout=subprocess.DEVNULL)
    return time.perf_counter() - started


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--runs", type=int, default=5)
    runs = parser.parse_args().runs
    for command in COMMANDS.values():
        wall_time(command)
    samples: dict[str, list[float]] = {name: [] for name in COMMANDS}
    for _ in range(runs):
        for name, command in COMMANDS.items():
            samples[name].append(wall_time(command))
    baseline = statistics.median(samples["python -c 'import numpy'"])
    print(f"{'command':<30} {'median of ' + str(runs):>12} {'× import numpy':>15}")
    for name, times in samples.items():
        median = statistics.median(times)
        print(f"{name:<30} {median * 1000:>9.0f} ms {median / baseline:>15.1f}")


if __name__ == "__main__":
    main()
