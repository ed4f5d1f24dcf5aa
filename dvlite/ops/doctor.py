"""``dvlite doctor``: what a bug report needs, and what may be wrong here: versions (dvlite,
Python, the dependencies, git), the repository, the cache (its folder, the link types that
work on its file system, its size and object count from a listing, nothing hashed), each
remote and whether it answers within a few seconds, and the git hooks. A remote that does not
answer is reported, not an error; only a broken repository (a config, dvlite.yaml or
dvlite.lock that cannot be read) is a problem."""

from __future__ import annotations

import contextlib
import os
import platform
import threading
from collections.abc import Callable
from dataclasses import asdict, dataclass, field
from importlib import metadata
from pathlib import Path

from dvlite import __version__
from dvlite.errors import DvliteError, NotARepoError
from dvlite.git import cmd as gitcmd
from dvlite.objects import fsutil
from dvlite.records import lockfile
from dvlite.records import pipeline as pipelines
from dvlite.records.repo import Repo

# what dvlite needs, and what its extras bring (gcs, azure, sftp, http remotes)
REQUIRED = ("click", "fsspec", "s3fs", "xxhash", "rich", "PyYAML", "pyfastcdc")
OPTIONAL = ("gcsfs", "adlfs", "paramiko", "aiohttp")
REMOTE_TIMEOUT = 5.0  # seconds a remote has to answer


@dataclass
class RemoteCheck:
    name: str
    url: str  # its password masked
    default: bool
    reachable: bool
    error: str = ""

    def to_dict(self) -> dict[str, object]:
        return asdict(self)


@dataclass
class CacheReport:
    dir: str
    link_types: list[str]  # as configured, in order
    working: list[str]  # those that work from the cache into the workspace's file system
    objects: int
    size: int  # bytes on disk: loose objects and packs

    def to_dict(self) -> dict[str, object]:
        return asdict(self)


@dataclass
class DoctorReport:
    dvlite: str
    python: str
    platform: str
    dependencies: dict[str, str | None]  # None: not installed
    git: str | None = None  # git's version, None when git is not installed
    root: str | None = None  # the repository's, None outside one
    uses_git: bool | None = None
    cache: CacheReport | None = None
    remotes: list[RemoteCheck] = field(default_factory=list)
    hooks: dict[str, str] = field(default_factory=dict)  # installed, not installed, another's
    problems: list[str] = field(default_factory=list)

    @property
    def ok(self) -> bool:
        return not self.problems

    def to_dict(self) -> dict[str, object]:
        d = asdict(self)
        d["cache"] = self.cache.to_dict() if self.cache else None
        d["remotes"] = [r.to_dict() for r in self.remotes]
        return d


def doctor(start: str | Path | None = None, *, timeout: float = REMOTE_TIMEOUT) -> DoctorReport:
    """Everything above about the repository around ``start`` (default: the current folder),
    or, outside one, the versions alone."""
    report = DoctorReport(
        __version__,
        platform.python_version(),
        platform.platform(terse=True),
        {name: _version(name) for name in (*_required(), *OPTIONAL)},
        _git_version(),
    )
    try:
        repo = Repo.find(start)
    except NotARepoError:
        return report
    report.root, report.uses_git = os.fspath(repo.root), None
    try:
        repo.config  # noqa: B018  (read, so that a malformed file is a problem)
        report.uses_git = repo.uses_git
    except DvliteError as exc:
        report.problems.append(str(exc))
        return report
    for check in (_check_pipeline, _check_cache, _check_remotes, _check_hooks):
        try:
            check(repo, report, timeout)
        except DvliteError as exc:
            report.problems.append(str(exc))
    return report


def _required() -> list[str]:
    """dvlite's own dependencies, as its installed metadata names them (else ``REQUIRED``)."""
    try:
        wanted = metadata.requires("dvlite") or []
    except metadata.PackageNotFoundError:
        return list(REQUIRED)
    names = [r.split(";")[0].split("[")[0] for r in wanted if "extra ==" not in r]
    return [n.split(">")[0].split("=")[0].split("<")[0].strip() for n in names] or list(REQUIRED)


def _version(name: str) -> str | None:
    try:
        return metadata.version(name)
    except metadata.PackageNotFoundError:
        return None


def _git_version() -> str | None:
    try:
        out = gitcmd.run(Path.cwd(), "--version").decode().strip()
    except DvliteError:
        return None
    return out.removeprefix("git version ").strip()


def _check_pipeline(repo: Repo, report: DoctorReport, _timeout: float) -> None:
    pipelines.load(repo.root)
    lockfile.load(repo.root)


def _check_cache(repo: Repo, report: DoctorReport, _timeout: float) -> None:
    types = list(repo.link_types)  # ConfigError for a bad cache.type: a problem
    cache_dir = os.fspath(repo.cache_dir)
    objects, size = _listing(cache_dir)
    report.cache = CacheReport(cache_dir, types, _working_links(repo), objects, size)


def _listing(cache_dir: str) -> tuple[int, int]:
    """Loose objects and packs under ``cache_dir``: how many objects, how many bytes (one
    listing, one stat each; no object is read)."""
    from dvlite.objects.cache import Cache

    if not os.path.isdir(cache_dir):
        return 0, 0
    size = 0
    for sub in ("objects", "packs"):
        for folder, _, names in os.walk(os.path.join(cache_dir, sub)):
            for name in names:
                with contextlib.suppress(OSError):
                    size += os.lstat(os.path.join(folder, name)).st_size
    return len(Cache(cache_dir).iter_oids()), size


def _working_links(repo: Repo) -> list[str]:
    """The link types that work from the cache's folder into the workspace's (tried with a
    small file, removed at once; a cache not made yet is taken to be beside .dvlite/tmp)."""
    work_tmp = os.fspath(repo.tmp_dir)
    cache_tmp = os.path.join(repo.cache_dir, "tmp") if repo.cache_dir.is_dir() else work_tmp
    made: list[str] = []
    try:
        os.makedirs(cache_tmp, exist_ok=True)
        os.makedirs(work_tmp, exist_ok=True)
        src = fsutil.tmp_in(cache_tmp)
        made.append(src)
        with open(src, "wb") as f:
            f.write(b"dvlite doctor\n")
    except OSError:
        return []
    working = ["copy"]

    def linked(make: Callable[[str, str], None]) -> Callable[[str], bool]:
        def attempt(dst: str) -> bool:
            make(src, dst)
            return True

        return attempt

    tries = {
        "reflink": lambda dst: fsutil.reflink(src, dst),
        "hardlink": linked(os.link),
        "symlink": linked(os.symlink),
    }
    try:
        for kind, attempt in tries.items():
            dst = fsutil.tmp_in(work_tmp)
            try:
                if attempt(dst):
                    working.append(kind)
            except OSError:
                pass
            if os.path.lexists(dst):
                made.append(dst)
    finally:
        for path in made:
            with contextlib.suppress(OSError):
                os.unlink(path)
    return sorted(working, key=("reflink", "copy", "hardlink", "symlink").index)


def _check_remotes(repo: Repo, report: DoctorReport, timeout: float) -> None:
    from dvlite.remote import configured, default_name, from_config
    from dvlite.remote.config import RemoteConfig
    from dvlite.secrets import mask_url

    default = default_name(repo)
    checks: list[tuple[RemoteCheck, threading.Thread]] = []
    for name, cfg in sorted(configured(repo).items()):
        check = RemoteCheck(name, mask_url(cfg.url), name == default, False)
        quick = RemoteConfig(cfg.name, cfg.url, {**cfg.options, "timeout": str(timeout)})

        def ask(check: RemoteCheck = check, quick: RemoteConfig = quick) -> None:
            try:
                from_config(quick, repo.root).check_reachable()
                check.reachable = True
            except DvliteError as exc:
                check.error = str(exc)
            except Exception as exc:  # a storage library's own failure: reported, not raised
                check.error = f"{type(exc).__name__}: {exc}"

        thread = threading.Thread(target=ask, daemon=True, name=f"doctor-{name}")
        thread.start()
        checks.append((check, thread))
    for check, thread in checks:  # all at once: the wait is the slowest one's, not the sum
        thread.join(timeout + 1)
        if thread.is_alive():
            check.error = f"no answer within {timeout:g} s"
        report.remotes.append(check)


def _check_hooks(repo: Repo, report: DoctorReport, _timeout: float) -> None:
    if not repo.uses_git:
        return
    from dvlite.ops.hooks import HOOKS, hooks_dir, is_ours

    folder = hooks_dir(repo)
    for name in HOOKS:
        path = folder / name
        shown = "installed" if is_ours(path) else "another tool's" if path.exists() else "absent"
        report.hooks[name] = shown
