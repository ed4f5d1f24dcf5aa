"""Rendering results: a rich table on the terminal, raw JSON, and docs/benchmarks.md."""

from __future__ import annotations

import dataclasses
import json
import os
import platform
import subprocess
import time
from pathlib import Path
from typing import Any

from rich.console import Console
from rich.table import Table

from bench.harness import (
    RESULTS_DIR,
    ROOT,
    SCENARIOS,
    TARGETS,
    VARIANTS,
    WORK,
    Results,
    Sizes,
    Verdict,
    bench_env,
    describe,
    find_tool,
    human_bytes,
)

DOC = ROOT / "docs" / "benchmarks.md"
LATEST = ROOT / "bench" / "latest"  # the latest full run of each workload, committed
BEGIN, END = "<!-- bench:results:begin -->", "<!-- bench:results:end -->"
FLOOR = "cp"  # the baseline tool: a plain copy, or a plain s3fs bulk put/get for S3


def label(name: str, sizes: Sizes) -> str:
    return describe(SCENARIOS[name].label, sizes)


def _secs(t: float | None) -> str:
    return "—" if t is None else f"{t:.3f} s" if t < 10 else f"{t:.1f} s"


def _x(r: float | None) -> str:
    return "—" if r is None else f"{r:.1f}×" if r < 100 else f"{r:,.0f}×"


def _mib(m: float | None) -> str:
    return "—" if m is None else f"{m:.0f}"


def _name(tool: str) -> str:
    return "floor" if tool == FLOOR else tool


def _tools(results: Results) -> list[str]:
    """The tools of the main tables (variants of dvlite have their own)."""
    return [t for t in results.tools() if t not in VARIANTS]


def table_rows(results: Results) -> tuple[list[str], list[list[str]]]:
    tools = _tools(results)
    floor = FLOOR in tools
    header = ["workload", "step", *[f"{_name(t)} (median)" for t in tools]]
    header += ["dvc / dvlite", *(["dvlite / floor"] if floor else [])]
    header += [*[f"{t} peak MiB" for t in tools if t != FLOOR], "runs"]
    rows = []
    for sc, step in results.rows():
        if all(results.median(sc, step, t) is None for t in tools):
            continue  # measured for variants only
        row = [label(sc, results.sizes), step]
        row += [_secs(results.median(sc, step, t)) for t in tools]
        row.append(_x(results.ratio(sc, step)))
        if floor:
            r = results.ratio(sc, step, slow="dvlite", fast=FLOOR)
            row.append("—" if r is None else f"{r:.2f}×")
        row += [_mib(results.peak_mib(sc, step, t)) for t in tools if t != FLOOR]
        # runs per tool where they differ (a slow tool capped): "dvlite 3, dvc 1"
        runs = {_name(t): n for t in tools if (n := len(results.times(sc, step, t)))}
        many = len(set(runs.values())) > 1
        row.append(
            ", ".join(f"{t} {n}" for t, n in runs.items()) if many else str(max(runs.values()))
        )
        rows.append(row)
    return header, rows


def _requests(counts: dict[str, int] | None) -> str:
    if not counts:  # none counted: a step of a folder remote (only its bytes are)
        return "—"
    kinds = ", ".join(f"{n:,} {k}" for k, n in sorted(counts.items(), key=lambda kv: -kv[1]))
    return f"{sum(counts.values()):,}" + (f" ({kinds})" if kinds else "")


def _bytes(moved: tuple[int, int] | None) -> str:
    return "—" if moved is None else f"{human_bytes(moved[0])} / {human_bytes(moved[1])}"


def request_rows(results: Results) -> tuple[list[str], list[list[str]]]:
    """Requests each tool sent per step (the run with the median count), and the bytes of
    their bodies it sent and received (medians)."""
    tools = [t for t in dict.fromkeys(c.tool for c in results.counts) if t not in VARIANTS]
    header = ["workload", "step"]
    for t in tools:
        header += [f"{_name(t)} requests", f"{_name(t)} sent / received"]
    header.append("dvc / dvlite")
    rows = []
    steps = dict.fromkeys((c.scenario, c.step) for c in results.counts)
    for sc, step in steps:
        row = [label(sc, results.sizes), step]
        for t in tools:
            row += [
                _requests(results.requests(sc, step, t)),
                _bytes(results.transferred(sc, step, t)),
            ]
        mine, theirs = (results.requests_total(sc, step, t) for t in ("dvlite", "dvc"))
        row.append(_x(theirs / mine) if mine and theirs is not None else "—")
        rows.append(row)
    return header, rows


def variant_rows(results: Results) -> tuple[list[str], list[list[str]]]:
    """dvlite beside its variants (one setting changed), where a variant ran: median time,
    its ratio to dvlite's, and requests (the median run's)."""
    variants = [t for t in results.tools() if t in VARIANTS]
    header = ["workload", "step", "dvlite (median)"]
    header += [f"{t} (median, × dvlite)" for t in variants]
    rows = []
    for sc, step in results.rows():
        if all(results.median(sc, step, t) is None for t in variants):
            continue
        row = [label(sc, results.sizes), step, _cell(results, sc, step, "dvlite")]
        for t in variants:
            r = results.ratio(sc, step, slow=t, fast="dvlite")
            row.append(_cell(results, sc, step, t) + ("" if r is None else f", {r:.2f}×"))
        rows.append(row)
    return header, rows


def _cell(results: Results, sc: str, step: str, tool: str) -> str:
    n = results.requests_total(sc, step, tool)
    return _secs(results.median(sc, step, tool)) + ("" if n is None else f" ({n:,} req)")


def verdicts(results: Results) -> list[tuple[str, Verdict]]:
    return [(t.label, t.fn(results)) for t in TARGETS]


def _mark(v: Verdict) -> str:
    return "not measured" if v.met is None else "met" if v.met else "MISSED"


def show(results: Results, console: Console) -> None:
    header, rows = table_rows(results)
    table = Table(title="dvlite vs DVC (median wall time of the CLI)")
    for i, h in enumerate(header):
        table.add_column(h, justify="left" if i < 2 else "right")
    for row in rows:
        table.add_row(*row)
    console.print(table)
    if results.counts:
        _print(console, "Requests sent to the S3 server (median run)", *request_rows(results))
    if any(t in VARIANTS for t in results.tools()):
        _print(console, "dvlite beside its variants (same run)", *variant_rows(results))
    targets = Table(title="Targets")
    targets.add_column("target")
    targets.add_column("result")
    targets.add_column("")
    for label, v in verdicts(results):
        style = "yellow" if v.met is None else "green" if v.met else "red"
        targets.add_row(label, v.detail, f"[{style}]{_mark(v)}[/]")
    console.print(targets)
    for note in results.notes:
        console.print(f"note: {note}")


def _print(console: Console, title: str, header: list[str], rows: list[list[str]]) -> None:
    table = Table(title=title)
    for i, h in enumerate(header):
        table.add_column(h, justify="left" if i < 2 else "right")
    for row in rows:
        table.add_row(*row)
    console.print(table)


# -- machine facts ----------------------------------------------------------------------------
def _out(argv: list[str]) -> str:
    try:
        proc = subprocess.run(argv, capture_output=True, text=True, env=bench_env(), timeout=120)
    except (OSError, subprocess.TimeoutExpired):
        return "?"
    return (
        (proc.stdout.strip() or proc.stderr.strip()).splitlines()[0]
        if proc.returncode == 0
        else "?"
    )


def machine() -> dict[str, str]:
    cpu = "?"
    try:
        for line in Path("/proc/cpuinfo").read_text().splitlines():
            if line.startswith("model name"):
                cpu = line.split(":", 1)[1].strip()
                break
        mem_kib = next(
            int(line.split()[1])
            for line in Path("/proc/meminfo").read_text().splitlines()
            if line.startswith("MemTotal")
        )
        memory = f"{mem_kib / (1 << 20):.1f} GiB"
    except (OSError, StopIteration, ValueError):
        memory = "?"
    WORK.mkdir(parents=True, exist_ok=True)
    facts = {
        "cpu": cpu,
        "cores": str(os.cpu_count()),
        "memory": memory,
        "filesystem": _out(["findmnt", "-n", "-o", "FSTYPE,OPTIONS", "-T", str(WORK)]),
        "os": f"{platform.system()} {platform.release()}",
        "python": platform.python_version(),
        "git": _out(["git", "--version"]),
    }
    for name in ("dvlite", "dvc"):
        try:
            facts[name] = _out([find_tool(name).exe, "--version"])
        except Exception:
            facts[name] = "not installed"
    return facts


# -- files ------------------------------------------------------------------------------------
def save_json(results: Results, facts: dict[str, str]) -> Path:
    RESULTS_DIR.mkdir(parents=True, exist_ok=True)
    path = RESULTS_DIR / time.strftime("%Y%m%d-%H%M%S.json")
    path.write_text(json.dumps({"machine": facts, **results.to_dict()}, indent=2))
    return path


def _table(header: list[str], rows: list[list[str]]) -> list[str]:
    return [
        "| " + " | ".join(header) + " |",
        "|" + "|".join("---" if i < 2 else "---:" for i in range(len(header))) + "|",
        *("| " + " | ".join(row) + " |" for row in rows),
    ]


def markdown(results: Results, runs: list[dict[str, Any]]) -> str:
    """The results block: ``runs`` says which command measured which workloads, where."""
    header, rows = table_rows(results)
    lines = [
        BEGIN,
        "_Generated by the benchmark harness from the latest run of each workload._",
        "",
    ]
    by_command: dict[tuple[str, str, bool], list[str]] = {}
    for r in runs:
        key = (" ".join(r["argv"]), r["date"], bool(r["cold"]))
        by_command.setdefault(key, []).append(label(r["scenario"], results.sizes))
    for (argv, date, cold), names in by_command.items():
        cache = "cold page cache" if cold else "warm page cache"
        lines.append(f"- {', '.join(names)}: `python -m bench {argv}` on {date} ({cache}).")
    machines = list({json.dumps(r["machine"], sort_keys=True): r["machine"] for r in runs}.values())
    lines.append("")
    for facts in machines:
        lines.append("**Machine**: " + "; ".join(f"{k}: {v}" for k, v in facts.items()) + ".")
        lines.append("")
    if load := _load_line(results):
        lines += [load, ""]
    if FLOOR in _tools(results):
        lines += [
            "_floor_: the same bytes moved without the tool — `cat a > b` for one big file, "
            "`cp -r` for the folder of small files, a plain s3fs bulk `put`/`get` of the same "
            "files (bench/s3copy.py) for S3; for the 200,000 files, what the file system "
            "alone costs: `tar -cf` of them (add), `du -s` (status), `tar -xf` (checkout).",
            "",
        ]
    lines += _table(header, rows)
    if results.counts:
        lines += [
            "",
            "Requests sent to the S3 server per step, by kind (the run with the median count), "
            "and the bytes of their bodies the tool sent / received (medians):",
            "",
        ]
        lines += _table(*request_rows(results))
    if any(t in VARIANTS for t in results.tools()):
        lines += [
            "",
            "dvlite beside its variants in the same run (one setting changed; `dvlite-16M`: "
            "packs of 16 MiB instead of 32, `dvlite-f1`: a format-1 remote, loose objects, big "
            "files whole; `dvlite-c128K`: FastCDC chunks of 128 KiB on average instead of 64):",
            "",
        ]
        lines += _table(*variant_rows(results))
    lines += [
        "",
        "| target | result | |",
        "|---|---|---|",
        *(f"| {label} | {v.detail} | {_mark(v)} |" for label, v in verdicts(results)),
        "",
        *(f"- {note}" for note in results.notes),
        END,
    ]
    return "\n".join(lines).rstrip() + "\n"


def _load_line(results: Results) -> str:
    loads = sorted(s.load for s in results.samples if s.load)
    if not loads:
        return ""
    mid = loads[len(loads) // 2]
    return (
        f"**Load average** (1 min, {os.cpu_count()} cores) when each timed step started: "
        f"median {mid:.1f}, from {loads[0]:.1f} to {loads[-1]:.1f} (other work shared the machine)."
    )


def save_latest(results: Results, facts: dict[str, str], argv: list[str]) -> None:
    """Keep this run's results of each workload in bench/latest/, replacing earlier ones."""
    LATEST.mkdir(parents=True, exist_ok=True)
    date = time.strftime("%Y-%m-%d %H:%M")
    for sc in dict.fromkeys(s.scenario for s in results.samples):
        mine = Results(
            samples=[s for s in results.samples if s.scenario == sc],
            counts=[c for c in results.counts if c.scenario == sc],
            notes=[n for n in results.notes if n.startswith(f"{sc}:")],
            sizes=results.sizes,
            cold=results.cold,
        )
        record = {"scenario": sc, "argv": argv, "date": date, "machine": facts, **mine.to_dict()}
        (LATEST / f"{sc}.json").write_text(json.dumps(record, indent=1) + "\n")


def load_latest() -> tuple[Results, list[dict[str, Any]]]:
    """The latest results of every workload this harness knows, merged, in workload order."""
    merged = Results()
    runs: list[dict[str, Any]] = []
    big_s3: int | None = None
    for sc in SCENARIOS:
        path = LATEST / f"{sc}.json"
        if not path.exists():
            continue
        record = json.loads(path.read_text())
        part = Results.from_dict(record)
        if sc == "bigs3":  # the one workload of this size: it may be set apart (--big-s3)
            big_s3 = part.sizes.big_s3
            part.sizes = dataclasses.replace(part.sizes, big_s3=Sizes().big_s3)
        if not runs:
            merged.sizes, merged.cold = part.sizes, part.cold
        elif part.sizes != merged.sizes:
            raise ValueError(f"{path} was measured with other data sizes than the rest")
        merged.samples += part.samples
        merged.counts += part.counts
        merged.notes += part.notes
        runs.append(record)
    if big_s3 is not None:
        merged.sizes = dataclasses.replace(merged.sizes, big_s3=big_s3)
    return merged, runs


def write_doc(results: Results | None, facts: dict[str, str], argv: list[str]) -> None:
    """Record ``results`` (when given) as the latest of their workloads, then render
    docs/benchmarks.md from the latest results of every workload."""
    if results is not None:
        save_latest(results, facts, argv)
    merged, runs = load_latest()
    if not runs:
        return
    block = markdown(merged, runs)
    text = DOC.read_text() if DOC.exists() else "# Benchmarks\n\n"
    if BEGIN in text and END in text:
        head, rest = text.split(BEGIN, 1)
        tail = rest.split(END, 1)[1]
        text = head + block.rstrip("\n") + tail
    else:
        text = text.rstrip("\n") + "\n\n" + block
    DOC.write_text(text)
