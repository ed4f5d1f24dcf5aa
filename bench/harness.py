"""The benchmark harness: tools, scenarios, alternating runs, medians.

A *scenario* is a function that, for one tool in one run, prepares a fresh repository
(untimed) and times one or more *steps* through ``Run.timed`` — each a subprocess of the CLI
exactly as a user runs it. Workload modules register scenarios with ``@scenario`` and the
targets they are judged by with ``@target``; the harness runs every scenario N times,
alternating tools (dvlite, dvc, dvlite, dvc, ...), and reports the median of each step.
"""

from __future__ import annotations

import os
import shutil
import statistics
import subprocess
import sys
import time
from collections.abc import Callable, Iterator
from dataclasses import asdict, dataclass, field
from pathlib import Path
from typing import Any

ROOT = Path(__file__).resolve().parent.parent
# data, runs and raw results live here (DVLITE_BENCH_WORK moves them, e.g. for the smoke test)
WORK = Path(os.environ.get("DVLITE_BENCH_WORK") or ROOT / "bench" / ".work")
RESULTS_DIR = (
    Path(os.environ["DVLITE_BENCH_WORK"]) / "results"
    if os.environ.get("DVLITE_BENCH_WORK")
    else ROOT / "bench" / "results"
)
# Many-file runs are moved here and deleted only when the benchmark ends: ext4 scans its
# recently deleted inodes (the last 1-5 minutes) on every file creation, so deleting 20k
# files just before a timed step would slow that step by 10x, whichever tool runs it.
TRASH = WORK / "trash"
BIN = Path(sys.executable).parent  # the venv that runs the harness holds dvlite and dvc
TIME = "/usr/bin/time" if os.access("/usr/bin/time", os.X_OK) else ""


class BenchError(Exception):
    """A benchmark step failed (the tool exited non-zero or produced the wrong result)."""


# -- sizes ------------------------------------------------------------------------------------
@dataclass(frozen=True)
class Sizes:
    files: int = 20_000  # the many-small-files dataset
    folders: int = 100
    file_size: int = 4096
    big: int = 2 << 30  # the one big file
    # the big file of the S3 workload: moto holds a multipart upload in memory and joins its
    # parts in one request, which for 2 GiB outlasts the tools' 15 s read timeout
    big_s3: int = 256 << 20
    growth_files: int = 200_000  # the growth dataset (same shape, 10x the files)
    growth_folders: int = 1_000


FULL = Sizes()
QUICK = Sizes(
    files=400, folders=4, big=8 << 20, big_s3=8 << 20, growth_files=4_000, growth_folders=40
)


# -- tools ------------------------------------------------------------------------------------
@dataclass(frozen=True)
class Tool:
    name: str
    exe: str  # absolute path of the executable ("" for the baseline)
    family: str = ""  # the tool a variant is a setting of ("dvlite" for "dvlite-16M")
    pre: tuple[str, ...] = ()  # arguments before the command's own (a wrapper script's)

    def __post_init__(self) -> None:
        if not self.family:
            object.__setattr__(self, "family", self.name)

    def argv(self, *args: str) -> list[str]:
        return [self.exe, *self.pre, *args]

    @property
    def is_variant(self) -> bool:
        return self.family != self.name


# Variants: a tool run with one setting changed, measured beside it in the same run. Each
# maps its name to (the tool it varies, the wrapper's arguments before the command's own;
# none: the same executable, the workload applies the setting).
VARIANTS: dict[str, tuple[str, tuple[str, ...]]] = {}


def variant(name: str, family: str, *pre: str) -> str:
    VARIANTS[name] = (family, pre)
    return name


def find_tool(name: str) -> Tool:
    if name in VARIANTS:
        family, pre = VARIANTS[name]
        base = find_tool(family)
        # a wrapper script runs under the interpreter of the tool's own environment
        return Tool(name, sys.executable, family, pre) if pre else Tool(name, base.exe, family)
    exe = BIN / name
    if not exe.exists():
        found = shutil.which(name)
        if found is None:
            raise BenchError(f"{name} is not installed beside {sys.executable}; run `make bench`")
        exe = Path(found)
    return Tool(name, str(exe))


BASELINE = Tool("cp", "")  # a plain copy of the data, the floor for the big-file add


# -- registry ---------------------------------------------------------------------------------
ScenarioFn = Callable[["Run"], None]


@dataclass(frozen=True)
class Scenario:
    name: str
    title: str  # a format string over Sizes fields (and big_size)
    label: str  # a short one, for table rows
    steps: tuple[str, ...]
    fn: ScenarioFn
    tools: tuple[str, ...] = ("dvlite", "dvc")
    max_runs: int | None = None  # cap for slow scenarios
    optional_tools: tuple[str, ...] = ()  # run only when asked for (--with)
    many_files: bool = True  # deletion of its runs is deferred to the end (see TRASH)
    capped: tuple[str, ...] = ()  # the tools max_runs caps (all of them when empty)

    def runs_of(self, tool: str, runs: int) -> int:
        if self.max_runs is None or (self.capped and tool not in self.capped):
            return runs
        return min(runs, self.max_runs)


SCENARIOS: dict[str, Scenario] = {}


def scenario(
    name: str,
    title: str,
    label: str,
    steps: tuple[str, ...],
    tools: tuple[str, ...] = ("dvlite", "dvc"),
    max_runs: int | None = None,
    optional_tools: tuple[str, ...] = (),
    many_files: bool = True,
    capped: tuple[str, ...] = (),
) -> Callable[[ScenarioFn], ScenarioFn]:
    def register(fn: ScenarioFn) -> ScenarioFn:
        SCENARIOS[name] = Scenario(
            name, title, label, steps, fn, tools, max_runs, optional_tools, many_files, capped
        )
        return fn

    return register


@dataclass(frozen=True)
class Verdict:
    met: bool | None  # None: not measured in this run
    detail: str


TargetFn = Callable[["Results"], Verdict]


@dataclass(frozen=True)
class Target:
    label: str
    fn: TargetFn


TARGETS: list[Target] = []


def faster_than_dvc(
    results: Results, sc: str, step: str, want: float, unmeasured: str = "not measured"
) -> Verdict:
    """The verdict on "``step`` of ``sc`` at least ``want`` times faster than DVC"."""
    r = results.ratio(sc, step)
    if r is None:
        return Verdict(None, unmeasured)
    return Verdict(r >= want, f"{r:.1f}× faster than DVC (target ≥ {want:g}×)")


def target(label: str) -> Callable[[TargetFn], TargetFn]:
    def register(fn: TargetFn) -> TargetFn:
        TARGETS.append(Target(label, fn))
        return fn

    return register


def human(n: int) -> str:
    for unit in ("B", "KiB", "MiB", "GiB"):
        if n < 1024 or unit == "GiB":
            return f"{n:g} {unit}"
        n //= 1024
    raise AssertionError("unreachable")


def human_bytes(n: float) -> str:
    for unit in ("B", "KiB", "MiB"):
        if n < 1024:
            return f"{n:.0f} {unit}" if unit == "B" else f"{n:.1f} {unit}"
        n /= 1024
    return f"{n:.2f} GiB"


def describe(fmt: str, sizes: Sizes) -> str:
    return fmt.format(**asdict(sizes), big_size=human(sizes.big), big_s3_size=human(sizes.big_s3))


# -- measuring --------------------------------------------------------------------------------
@dataclass(frozen=True)
class Sample:
    scenario: str
    step: str
    tool: str
    run: int
    seconds: float
    max_rss_kib: int
    load: float = 0.0  # the 1-minute load average when the step started


@dataclass(frozen=True)
class Count:
    """Requests a step sent to a server, by kind (HEAD, GET, PUT, LIST, ...), and the bytes
    of their bodies: ``sent`` by the tool (uploads), ``received`` by it (downloads)."""

    scenario: str
    step: str
    tool: str
    run: int
    requests: dict[str, int]
    sent: int = 0
    received: int = 0

    @property
    def total(self) -> int:
        return sum(self.requests.values())


@dataclass
class Options:
    runs: int = 3
    sizes: Sizes = FULL
    tools: tuple[str, ...] = ("dvlite", "dvc", "cp")
    extra_tools: tuple[str, ...] = ()
    cold: bool = False
    verbose: bool = False


def bench_env() -> dict[str, str]:
    env = dict(os.environ)
    env.update(
        DVC_NO_ANALYTICS="1",
        DVLITE_LOCK_TIMEOUT="10",
        GIT_AUTHOR_NAME="bench",
        GIT_AUTHOR_EMAIL="bench@dvlite.invalid",
        GIT_COMMITTER_NAME="bench",
        GIT_COMMITTER_EMAIL="bench@dvlite.invalid",
        PATH=f"{BIN}{os.pathsep}{env.get('PATH', '')}",
    )
    env.pop("CI", None)
    # a user's installed dvlite has its bytecode cached; without this the editable install
    # would compile every module from source on every command
    env.pop("PYTHONDONTWRITEBYTECODE", None)
    return env


def drop_caches() -> bool:
    """Flush dirty pages and drop the page cache; False where not permitted."""
    os.sync()
    try:
        with open("/proc/sys/vm/drop_caches", "w") as f:
            f.write("3\n")
    except OSError:
        return False
    return True


class Run:
    """What a scenario function sees: the tool, the data, and ways to run things."""

    def __init__(self, harness: Harness, sc: Scenario, tool: Tool, index: int) -> None:
        self.harness = harness
        self.scenario = sc
        self.tool = tool
        self.index = index
        self.sizes = harness.options.sizes
        self.dir = WORK / "runs" / f"{sc.name}-{tool.name}-{index}"
        self.log = WORK / "logs" / f"{sc.name}-{tool.name}-{index}.log"

    @property
    def is_baseline(self) -> bool:
        return self.tool.name == BASELINE.name

    @property
    def is_dvlite(self) -> bool:
        """dvlite or one of its variants."""
        return self.tool.family == "dvlite"

    def sh(self, argv: list[str], cwd: Path | None = None) -> None:
        """Run an untimed set-up command; fail loudly."""
        proc = subprocess.run(
            argv, cwd=cwd or self.dir, env=self.harness.env, capture_output=True, text=True
        )
        if proc.returncode != 0:
            raise BenchError(f"{' '.join(argv)} failed ({proc.returncode}): {proc.stderr.strip()}")

    def discard(self, path: Path) -> None:
        """Make ``path`` vanish from the repository without deleting it yet (see Harness)."""
        TRASH.mkdir(parents=True, exist_ok=True)
        os.rename(path, TRASH / f"{self.dir.name}-{path.name}-{time.monotonic_ns()}")

    def fresh_repo(self) -> Path:
        """An empty git repository initialised for the tool (not timed)."""
        if self.dir.exists():
            rmtree(self.dir)
        self.dir.mkdir(parents=True)
        self.sh(["git", "init", "-q"])
        if self.is_dvlite:
            self.sh(self.tool.argv("init"))
        elif self.tool.name == "dvc":
            self.sh(self.tool.argv("init", "-q"))
            self.sh(self.tool.argv("config", "core.analytics", "false"))
        return self.dir

    def timed(self, step: str, argv: list[str], cwd: Path | None = None) -> float:
        """Run ``argv`` as a subprocess and record its wall time and peak memory."""
        if self.harness.options.cold:
            drop_caches()
        else:
            os.sync()  # the set-up's dirty pages are not written back on this step's clock
        self.log.parent.mkdir(parents=True, exist_ok=True)
        with open(self.log, "ab") as log:
            log.write(f"$ {' '.join(argv)}\n".encode())
            log.flush()
            rss_file = self.log.with_suffix(".rss")
            # /usr/bin/time reports the command's own peak RSS; a child's ru_maxrss from wait4
            # would start at this harness's RSS (Linux carries it over fork/exec)
            wrapped = [TIME, "-f", "%M", "-o", str(rss_file), *argv] if TIME else argv
            load = os.getloadavg()[0]
            start = time.perf_counter()
            proc = subprocess.Popen(
                wrapped, cwd=cwd or self.dir, env=self.harness.env, stdout=log, stderr=log
            )
            _, status, usage = os.wait4(proc.pid, 0)
            seconds = time.perf_counter() - start
            proc.returncode = os.waitstatus_to_exitcode(status)
            max_rss = usage.ru_maxrss
            if TIME and rss_file.exists():
                last = rss_file.read_text().strip().splitlines()[-1:]
                max_rss = int(last[0]) if last and last[0].isdigit() else max_rss
        if proc.returncode != 0:
            tail = self.log.read_text(errors="replace").strip().splitlines()[-5:]
            raise BenchError(
                f"{self.scenario.name}/{step}: {' '.join(argv)} exited {proc.returncode}: "
                + " | ".join(tail)
            )
        sample = Sample(
            self.scenario.name, step, self.tool.name, self.index, seconds, max_rss, load
        )
        self.harness.record(sample)
        return seconds

    def count(self, step: str, requests: dict[str, int], sent: int = 0, received: int = 0) -> None:
        """Record the requests the last timed ``step`` sent to a server, and their bytes."""
        self.harness.record_count(
            Count(
                self.scenario.name, step, self.tool.name, self.index, dict(requests), sent, received
            )
        )


def rmtree(path: Path) -> None:
    def writable(func: Callable[..., object], p: str, _exc: object) -> None:
        os.chmod(os.path.dirname(p), 0o755)
        os.chmod(p, 0o755)
        func(p)

    shutil.rmtree(path, onerror=writable)


# -- results ----------------------------------------------------------------------------------
@dataclass
class Results:
    samples: list[Sample] = field(default_factory=list)
    counts: list[Count] = field(default_factory=list)
    notes: list[str] = field(default_factory=list)
    sizes: Sizes = FULL
    cold: bool = False

    def times(self, sc: str, step: str, tool: str) -> list[float]:
        return [s.seconds for s in self.samples if (s.scenario, s.step, s.tool) == (sc, step, tool)]

    def median(self, sc: str, step: str, tool: str) -> float | None:
        t = self.times(sc, step, tool)
        return statistics.median(t) if t else None

    def peak_mib(self, sc: str, step: str, tool: str) -> float | None:
        rss = [
            s.max_rss_kib for s in self.samples if (s.scenario, s.step, s.tool) == (sc, step, tool)
        ]
        return max(rss) / 1024 if rss else None

    def requests(self, sc: str, step: str, tool: str) -> dict[str, int] | None:
        """The median run's requests by kind (the run whose total is the median)."""
        runs = sorted(
            (c for c in self.counts if (c.scenario, c.step, c.tool) == (sc, step, tool)),
            key=lambda c: c.total,
        )
        return runs[(len(runs) - 1) // 2].requests if runs else None

    def requests_total(self, sc: str, step: str, tool: str) -> int | None:
        r = self.requests(sc, step, tool)
        return None if r is None else sum(r.values())

    def transferred(self, sc: str, step: str, tool: str) -> tuple[int, int] | None:
        """Median bytes (sent, received) of a step's runs."""
        runs = [c for c in self.counts if (c.scenario, c.step, c.tool) == (sc, step, tool)]
        if not runs:
            return None
        return (
            int(statistics.median(c.sent for c in runs)),
            int(statistics.median(c.received for c in runs)),
        )

    def ratio(self, sc: str, step: str, slow: str = "dvc", fast: str = "dvlite") -> float | None:
        a, b = self.median(sc, step, slow), self.median(sc, step, fast)
        return a / b if a is not None and b else None

    def rows(self) -> Iterator[tuple[str, str]]:
        seen: dict[tuple[str, str], None] = {}
        for s in self.samples:
            seen.setdefault((s.scenario, s.step), None)
        yield from seen

    def tools(self) -> list[str]:
        return list(dict.fromkeys(s.tool for s in self.samples))

    def to_dict(self) -> dict[str, object]:
        return {
            "sizes": asdict(self.sizes),
            "cold": self.cold,
            "notes": self.notes,
            "samples": [asdict(s) for s in self.samples],
            "counts": [asdict(c) for c in self.counts],
        }

    @classmethod
    def from_dict(cls, d: dict[str, Any]) -> Results:
        return cls(
            samples=[Sample(**s) for s in d.get("samples", [])],
            counts=[Count(**c) for c in d.get("counts", [])],
            notes=list(d.get("notes", [])),
            sizes=Sizes(**d.get("sizes", {})),
            cold=bool(d.get("cold", False)),
        )


class Harness:
    def __init__(self, options: Options, progress: Callable[[str], None] = print) -> None:
        self.options = options
        self.env = bench_env()
        self.results = Results(sizes=options.sizes, cold=options.cold)
        self.failures: list[str] = []  # workloads that failed (their samples are dropped)
        self.progress = progress

    def record(self, sample: Sample) -> None:
        self.results.samples.append(sample)
        self.progress(
            f"  {sample.scenario:<8} {sample.step:<22} {sample.tool:<10} run {sample.run + 1}: "
            f"{sample.seconds:8.3f} s  {sample.max_rss_kib / 1024:7.1f} MiB"
        )

    def record_count(self, count: Count) -> None:
        self.results.counts.append(count)
        kinds = ", ".join(f"{n} {k}" for k, n in sorted(count.requests.items()))
        self.progress(
            f"  {'':<8} {'':<22} {count.tool:<10} {count.total:,} requests ({kinds}); "
            f"{human_bytes(count.sent)} sent, {human_bytes(count.received)} received"
        )

    def tools_for(self, sc: Scenario) -> list[Tool]:
        wanted = set(self.options.tools) | set(self.options.extra_tools)
        # a variant of a tool that is run (dvlite-f1 of dvlite) runs with it
        names = [t for t in sc.tools if t in wanted or VARIANTS.get(t, ("",))[0] in wanted]
        names += [t for t in sc.optional_tools if t in self.options.extra_tools]
        return [BASELINE if n == BASELINE.name else find_tool(n) for n in names]

    def run(self, scenarios: list[Scenario]) -> Results:
        for sc in scenarios:
            try:
                tools = self.tools_for(sc)
            except BenchError as exc:
                self.failures.append(f"{sc.name}: {exc}")
                continue
            if not tools:
                continue
            runs = self.options.runs
            capped = [t.name for t in tools if sc.runs_of(t.name, runs) < runs]
            if capped:
                self.results.notes.append(
                    f"{sc.name}: {sc.runs_of(capped[0], runs)} run(s) of {', '.join(capped)} "
                    f"(capped, it is slow), not {runs}"
                )
            names = ", ".join(f"{t.name} ×{sc.runs_of(t.name, runs)}" for t in tools)
            self.progress(f"{describe(sc.title, self.options.sizes)}: runs of {names}")
            try:
                self._run_scenario(sc, tools, runs)
            except BenchError as exc:
                # keep what the other workloads measured; this one's samples are incomplete
                r = self.results
                r.samples = [x for x in r.samples if x.scenario != sc.name]
                r.counts = [x for x in r.counts if x.scenario != sc.name]
                self.failures.append(f"{sc.name}: {exc}")
        return self.results

    def _run_scenario(self, sc: Scenario, tools: list[Tool], runs: int) -> None:
        for i in range(runs):
            for tool in tools:  # alternate: dvlite, dvc, dvlite, dvc, ...
                if i >= sc.runs_of(tool.name, runs):
                    continue
                r = Run(self, sc, tool, i)
                try:
                    sc.fn(r)
                finally:
                    if r.dir.exists():
                        r.discard(r.dir) if sc.many_files else rmtree(r.dir)

    def cleanup(self) -> None:
        """Delete the runs kept in the trash (after the last timed step)."""
        if TRASH.exists():
            rmtree(TRASH)
