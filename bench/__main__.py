"""`python -m bench`: run the registered workloads through dvlite and DVC, alternating."""

from __future__ import annotations

import argparse
import dataclasses
import sys

from rich.console import Console

from bench import (  # noqa: F401  (importing a module registers its workloads)
    chunks,
    core,
    git,
    pipelines,
    remote_targets,
    remotes,
    share,
)
from bench.harness import FULL, QUICK, SCENARIOS, Harness, Options, drop_caches
from bench.report import machine, save_json, show, write_doc


def parse(argv: list[str]) -> argparse.Namespace:
    p = argparse.ArgumentParser(prog="python -m bench", description=__doc__)
    p.add_argument("--runs", type=int, default=5, help="runs per tool and workload (median)")
    p.add_argument("--quick", action="store_true", help="tiny data sets, one run: a smoke test")
    p.add_argument(
        "--only",
        default="dvlite,dvc,cp,git-lfs",
        help="comma-separated tools to run (dvlite, dvc, cp = the plain-copy floor, git-lfs: "
        "on the workloads that have it)",
    )
    p.add_argument(
        "--with",
        dest="extra",
        default="",
        help="comma-separated optional tools, e.g. `dvc` to also run DVC on 200k files (slow)",
    )
    p.add_argument(
        "-w",
        "--workload",
        action="append",
        choices=sorted(SCENARIOS),
        help="run only these workloads (repeatable)",
    )
    p.add_argument(
        "--big-s3",
        type=int,
        metavar="MIB",
        help="size of the big file of the S3 workload (bigs3), in MiB (default 256)",
    )
    p.add_argument(
        "--million",
        action="store_true",
        help="the growth workload on 1,000,000 files instead of 200,000 (~10 GB, many minutes)",
    )
    p.add_argument(
        "--cold", action="store_true", help="drop the page cache before every timed command (root)"
    )
    p.add_argument(
        "--no-doc",
        action="store_true",
        help="do not record the results in bench/latest/ nor rewrite docs/benchmarks.md",
    )
    p.add_argument(
        "--render",
        action="store_true",
        help="run nothing: rewrite docs/benchmarks.md from bench/latest/ (the latest full run "
        "of each workload)",
    )
    return p.parse_args(argv)


def main(argv: list[str]) -> int:
    args = parse(argv)
    console = Console(highlight=False, width=None if sys.stdout.isatty() else 160)
    if args.render:
        write_doc(None, {}, argv)
        console.print("wrote docs/benchmarks.md from bench/latest/")
        return 0
    sizes = QUICK if args.quick else FULL
    if args.million:
        sizes = dataclasses.replace(sizes, growth_files=1_000_000)
    if args.big_s3:
        sizes = dataclasses.replace(sizes, big_s3=args.big_s3 << 20)
    options = Options(
        runs=1 if args.quick and args.runs == 5 else args.runs,
        sizes=sizes,
        tools=tuple(t for t in args.only.split(",") if t),
        extra_tools=tuple(t for t in args.extra.split(",") if t),
        cold=args.cold,
    )
    if options.cold and not drop_caches():
        console.print("note: cannot drop the page cache here (not root?); running warm")
        options.cold = False
    names = args.workload or list(SCENARIOS)
    harness = Harness(options, progress=lambda line: console.print(line, markup=False))
    try:
        results = harness.run([SCENARIOS[n] for n in names])
        facts = machine()
        show(results, console)
        console.print(f"raw results: {save_json(results, facts)}")
        if not (args.quick or args.no_doc):
            # each workload's latest results are kept apart, so a run of some workloads (-w)
            # updates their rows and leaves the others' (and a failed one's) as they were
            write_doc(results, facts, argv)
            console.print("wrote bench/latest/ and docs/benchmarks.md")
    finally:
        console.print("deleting the runs' files (deferred until now, see bench/harness.py)")
        harness.cleanup()
    for failure in harness.failures:
        console.print(f"[red]workload failed, its results are left out:[/] {failure}", markup=True)
    return 1 if harness.failures else 0


if __name__ == "__main__":
    sys.exit(main(sys.argv[1:]))
