"""The targets the remote workloads are judged by (issues 3 and 11), in the order the report
lists them."""

from __future__ import annotations

from collections.abc import Iterable

from bench.harness import Results, Verdict, target
from bench.remotes import (
    BIG_PULL,
    BIG_PUSH,
    BIGREMOTE,
    BIGS3,
    CHANGED,
    DELAY_MS,
    FOLDER,
    FORMAT1,
    NOOP,
    PARTIAL,
    PULL,
    PUSH,
    S3,
    S3_SLOW,
    STATUS,
)
from bench.s3server import DATA_KINDS


def _faster(results: Results, sc: str, steps: Iterable[str], want: float) -> Verdict:
    parts, ok = [], True
    for step in steps:
        r = results.ratio(sc, step)
        if r is None:
            return Verdict(None, "not measured")
        parts.append(f"{step} {r:.1f}×")
        ok = ok and r >= want
    return Verdict(ok, f"{', '.join(parts)} faster than DVC (target ≥ {want:g}×)")


def _floor(results: Results, sc: str, steps: Iterable[str], within: float, floor: str) -> Verdict:
    parts, ok = [], True
    for step in steps:
        r = results.ratio(sc, step, slow="dvlite", fast="cp")
        if r is None:
            return Verdict(None, "not measured")
        parts.append(f"{step} {r:.2f}×")
        ok = ok and r <= within
    return Verdict(ok, f"{', '.join(parts)} the time of {floor} (target ≤ {within:g}×)")


def _requests(
    results: Results, sc: str, limits: dict[str, int], kinds: tuple[str, ...] = ()
) -> Verdict:
    """Requests of each step at most its limit (only those of ``kinds`` when given)."""
    parts, ok = [], True
    for step, limit in limits.items():
        mine, theirs = (results.requests(sc, step, t) for t in ("dvlite", "dvc"))
        if mine is None:
            return Verdict(None, "not measured")
        n = sum(v for k, v in mine.items() if not kinds or k in kinds)
        dvc = "" if theirs is None else f"; DVC {sum(theirs.values()):,}"
        what = ("data " if kinds else "") + ("request" if n == 1 else "requests")
        parts.append(f"{step} {n:,} {what} (target ≤ {limit}{dvc})")
        ok = ok and n <= limit
    return Verdict(ok, ", ".join(parts))


def _both(*verdicts: Verdict) -> Verdict:
    if any(v.met is None for v in verdicts):
        return Verdict(
            None, "; ".join(v.detail for v in verdicts if v.met is not None) or "not measured"
        )
    return Verdict(all(v.met for v in verdicts), "; ".join(v.detail for v in verdicts))


@target("S3, 20k × 4 KiB: full push in ≤ 20 requests and ≥ 10× faster than DVC")
def _s3_push(results: Results) -> Verdict:
    return _both(_requests(results, S3, {PUSH: 20}), _faster(results, S3, (PUSH,), 10))


@target("S3, 20k × 4 KiB: pull into a fresh clone in ≤ 20 requests and ≥ 5× faster than DVC")
def _s3_pull(results: Results) -> Verdict:
    return _both(_requests(results, S3, {PULL: 20}), _faster(results, S3, (PULL,), 5))


@target(f"S3 through the {DELAY_MS} ms latency proxy: push and pull ≥ 20× faster than DVC")
def _s3_slow(results: Results) -> Verdict:
    return _faster(results, S3_SLOW, (PUSH, PULL), 20)


@target("S3: no-op push and `status --remote` in ≤ 2 requests, push after one changed file ≤ 5")
def _s3_few(results: Results) -> Verdict:
    return _requests(results, S3, {NOOP: 2, STATUS: 2, CHANGED: 5})


@target("S3: partial pull of one folder of 200 files out of the 20k in ≤ 4 data requests")
def _s3_partial(results: Results) -> Verdict:
    return _requests(results, S3, {PARTIAL: 4}, DATA_KINDS)


@target("folder remote: push and pull of 20k files ≥ 5× faster than DVC")
def _folder_transfer(results: Results) -> Verdict:
    return _faster(results, FOLDER, (PUSH, PULL), 5)


@target("S3: push and pull of 20k files within 1.25× of a plain s3fs bulk put/get")
def _s3_transfer(results: Results) -> Verdict:
    return _floor(results, S3, (PUSH, PULL), 1.25, "s3fs put/get")


@target("folder remote: no-op push and push of 1 changed file ≥ 10× faster than DVC")
def _folder_small(results: Results) -> Verdict:
    return _faster(results, FOLDER, (NOOP, CHANGED), 10)


@target("S3: no-op push and push of 1 changed file ≥ 5× faster than DVC")
def _s3_small(results: Results) -> Verdict:
    return _faster(results, S3, (NOOP, CHANGED), 5)


NOISE = 1.1  # "no slower" allows this much: runs of the same code differ by more here


@target("big file push and pull (folder and S3): no slower than a format-1 remote (today's)")
def _big_format(results: Results) -> Verdict:
    parts, ok = [], True
    for sc, where in ((BIGREMOTE, "folder"), (BIGS3, "S3")):
        for step in (BIG_PUSH, BIG_PULL):
            r = results.ratio(sc, step, slow="dvlite", fast=FORMAT1)
            if r is None:
                return Verdict(None, "not measured")
            parts.append(f"{where} {step} {r:.2f}×")
            ok = ok and r <= NOISE
    return Verdict(ok, f"{', '.join(parts)} the time of format 1 (target ≤ {NOISE:g}×)")


@target("2 GiB push and pull to a folder remote within 1.5× of a plain copy")
def _big_floor(results: Results) -> Verdict:
    return _floor(results, BIGREMOTE, (BIG_PUSH, BIG_PULL), 1.5, "`cat a > b`")
