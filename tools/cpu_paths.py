"""Re-execute every chapter on other CPU code paths and compare with the stored outputs.

    python -m tools.cpu_paths              # both paths at once, one core each (make test-portable)
    python -m tools.cpu_paths --path avx2  # one of them

The stored outputs were computed on one processor. PyTorch picks its CPU kernels when it starts
(ATen's vectorised kernels by ``ATEN_CPU_CAPABILITY``; oneDNN's convolutions by
``ONEDNN_MAX_CPU_ISA``; MKL's matrix products by ``MKL_ENABLE_INSTRUCTIONS``), and the number of
threads fixes the order of every parallel sum. A laptop without AVX-512, an AMD or an Apple
machine, or Colab's, takes other paths: their last bits differ, and after a few hundred training
steps so can a trajectory. Each :data:`PATHS` entry forces such a path on this machine with one
thread (the chapters are stored from two), and runs nbval on every chapter: the stored outputs
must come out the same (``tests/nbclaims.py`` says how glued numbers are compared). Each run
writes its chapter times to ``_build/chapter-times-<path>.json``; ``default`` is the slowest
processor this can simulate (no vector instructions in ATen), on which each chapter must take
at most half its budget (MAINTAINING.md). Both paths run at once, one core each.
"""
from __future__ import annotations

import argparse
import os
import subprocess
import sys
import time

from tools import book, timings

# A path: the environment that forces it. Neither allows AVX-512 (AMD Zen 2/3, Intel laptops,
# Colab's older hosts); "default" also turns off ATen's own vector kernels.
PATHS = {
    "avx2": {"ATEN_CPU_CAPABILITY": "avx2", "ONEDNN_MAX_CPU_ISA": "AVX2",
             "MKL_ENABLE_INSTRUCTIONS": "AVX2", "OMP_NUM_THREADS": "1"},
    "default": {"ATEN_CPU_CAPABILITY": "default", "ONEDNN_MAX_CPU_ISA": "AVX2",
                "MKL_ENABLE_INSTRUCTIONS": "AVX2", "OMP_NUM_THREADS": "1"},
}
SLOWEST = "default"


def times_file(path: str):
    """Where the run on ``path`` writes its chapter times."""
    return book.BUILD_DIR / f"chapter-times-{path}.json"


def describe(path: str) -> str:
    return ", ".join(f"{k}={v}" for k, v in PATHS[path].items())


def command(path: str, notebooks) -> list[str]:
    """The pytest command that runs nbval on ``notebooks`` on ``path``."""
    return [sys.executable, "-m", "pytest", "--nbval", "-q", "-p",
            "no:cacheprovider", f"--chapter-times={times_file(path)}",
            f"--chapter-times-how=by nbval on the `{path}` CPU path ({describe(path)})",
            *map(str, notebooks)]


def main(argv=None) -> int:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--path", choices=sorted(PATHS), action="append",
                        help="a path to run (default: all of them, in parallel)")
    parser.add_argument("notebooks", nargs="*", help="chapters (default: the book's)")
    args = parser.parse_args(argv)
    notebooks = args.notebooks or [book.relative(c.notebook) for c in book.chapters()]
    runs = {}
    start = time.perf_counter()
    for path in args.path or list(PATHS):
        env = {**os.environ, **PATHS[path]}
        log = open(book.BUILD_DIR / f"cpu-path-{path}.log", "w")
        print(f"[{path}] {describe(path)}: log in {book.relative(log.name)}", flush=True)
        runs[path] = (subprocess.Popen(command(path, notebooks), cwd=book.ROOT, env=env,
                                       stdout=log, stderr=subprocess.STDOUT), log)
    failed = []
    for path, (process, log) in runs.items():
        code = process.wait()
        log.close()
        text = open(log.name, encoding="utf-8").read()
        summary = text.strip().splitlines()[-1] if text.strip() else "(no output)"
        print(f"[{path}] {summary}")
        if code:
            failed.append(path)
            print(text[-20_000:])
        for line in timings.log_lines(timings.load(times_file(path))):
            print(f"[{path}] {line}")
    print(f"all paths in {time.perf_counter() - start:.0f} s")
    if not failed and not args.notebooks and not args.path:
        record_times()
    return 1 if failed else 0


def record_times() -> None:
    """The chapter times of ``make bench`` (two threads, ``tools/timings.json``) and of each
    path, as a table on the maintainer page (between the ``cpu-paths`` markers)."""
    columns = {"2 threads (`make bench`)": timings.load()}
    columns.update({f"`{path}`": timings.load(times_file(path)) for path in PATHS})
    columns = {name: seconds for name, seconds in columns.items() if seconds}
    section = "\n".join([
        timings.PATHS_START, "",
        "Seconds per chapter: `make bench` (each chapter alone, two threads) and `make "
        "test-portable` (under nbval, both paths at once, one core each; "
        + "; ".join(f"`{p}`: {describe(p)}" for p in PATHS) + ").",
        "", timings.paths_table(columns, slowest=f"`{SLOWEST}`"), "", timings.PATHS_END])
    timings.replace_section(section, timings.PATHS_START, timings.PATHS_END)


if __name__ == "__main__":
    book.BUILD_DIR.mkdir(exist_ok=True)
    sys.exit(main())
