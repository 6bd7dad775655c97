"""Run every benchmark and print its figures: ``python -m benchmarks [NAME ...]``.

Each module's ``run()`` measures ark-batch against the official SDK (or its stated
target) side by side in the same process run and returns printable lines.
"""

from __future__ import annotations

import importlib
import sys
import time

SUITES = ("signing", "client", "emulator", "execution")


def main(argv: list[str]) -> int:
    names = argv or list(SUITES)
    unknown = sorted(set(names) - set(SUITES))
    if unknown:
        print(f"unknown benchmark(s): {', '.join(unknown)}; choose from {', '.join(SUITES)}")
        return 2
    for name in names:
        started = time.perf_counter()
        module = importlib.import_module(f"benchmarks.{name}")
        print(f"== {name}", flush=True)
        for line in module.run():
            print(f"   {line}", flush=True)
        print(f"   ({time.perf_counter() - started:.1f} s)", flush=True)
    return 0


if __name__ == "__main__":
    sys.exit(main(sys.argv[1:]))
