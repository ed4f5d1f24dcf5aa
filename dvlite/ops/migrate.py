"""``dvlite migrate-dvc``: a DVC project's files turned into dvlite's, in place.

``.dvc`` files become pointers (``ops/migrate_data.py``), ``dvc.yaml`` and ``dvc.lock`` become
dvlite.yaml and dvlite.lock (``ops/migrate_pipeline.py``), ``.dvc/config``'s remotes become
dvlite remotes and ``.dvcignore``'s patterns go into ``.dvliteignore``. Every decision is one
of the report's lines: what was written, and what was not, with the file and the reason. The
DVC files stay until ``remove_dvc`` (and then only when everything converted); DVC's cache
always stays, as the only local copy of old revisions' data. Credentials go to
``.dvlite/config.local`` only, never to a committed file."""

from __future__ import annotations

import os
import re
import shutil
import time
from dataclasses import dataclass
from pathlib import Path

from dvlite import secrets
from dvlite.errors import DvliteError, MigrateError
from dvlite.git import cmd as gitcmd
from dvlite.git import index as scm
from dvlite.objects import fsutil
from dvlite.ops.imports import save
from dvlite.ops.migrate_data import DvcCache, Md5s, bring
from dvlite.ops.migrate_pipeline import Report, Step, convert_lock, convert_yaml, write_yaml
from dvlite.records import dvcfiles, lockfile
from dvlite.records import pointer as pointers
from dvlite.records.dvcfiles import DVC_DIR, DVC_IGNORE, DVC_LOCK, DVC_YAML
from dvlite.records.ignore import IGNORE_FILE
from dvlite.records.pipeline import PIPELINE_FILE
from dvlite.records.pointer import Pointer
from dvlite.records.repo import DVLITE_DIR, SKIP_DIRS, Repo
from dvlite.records.source import UrlSource

REMOTE_OPTIONS = {"endpointurl": "endpoint_url", "region": "region", "profile": "profile"}
REMOTE_OPTIONS |= {"jobs": "jobs", "timeout": "timeout", "read_timeout": "timeout"}
CREDENTIALS = ("access_key_id", "secret_access_key", "session_token")
STORE_FOLDER = "dvlite"  # dvlite's objects go beside DVC's, in this folder of the same remote


@dataclass
class MigrateResult:
    root: str
    dry: bool
    done: list[Step]
    skipped: list[Step]
    notes: list[Step]
    removed: list[str]
    seconds: float = 0.0

    def to_dict(self) -> dict[str, object]:
        return {
            "root": self.root,
            "dry": self.dry,
            "done": [s.to_dict() for s in self.done],
            "skipped": [s.to_dict() for s in self.skipped],
            "notes": [s.to_dict() for s in self.notes],
            "removed": self.removed,
            "seconds": round(self.seconds, 3),
        }


def find_project(start: str | None) -> Path:
    here = Path(os.path.realpath(start or os.getcwd()))
    for folder in (here, *here.parents):
        if (folder / DVC_DIR).is_dir():
            return folder
    raise MigrateError(f"no DVC project here: no {DVC_DIR}/ folder in {here} or above")


def _read(path: Path) -> str | None:
    try:
        return path.read_text(encoding="utf-8")
    except FileNotFoundError:
        return None
    except (OSError, UnicodeDecodeError) as exc:
        raise MigrateError(f"cannot read {path}: {exc}") from None


def migrate(
    start: str | None = None, *, dry: bool = False, remove_dvc: bool = False
) -> MigrateResult:
    began = time.monotonic()
    root = find_project(start)
    config = dvcfiles.parse_config(_read(root / DVC_DIR / "config") or "", ".dvc/config")
    local = dvcfiles.parse_config(_read(root / DVC_DIR / "config.local") or "", ".dvc/config.local")
    no_scm = config.get("core", {}).get("no_scm", "false").lower() == "true"
    report = Report([], [], [])
    repo = _repo(root, no_scm, report, dry)
    _remotes(repo, config, local, report, dry)
    _ignore(repo, report, dry)
    staged = [f"{DVLITE_DIR}/config", IGNORE_FILE]
    md5s = Md5s(root)
    dvc_cache = DvcCache(root, config.get("cache", {}).get("dir"))
    with repo.lock() if not dry else _nothing():
        converted = _dvc_files(repo, md5s, dvc_cache, report, dry, staged)
        text = _read(root / DVC_YAML)
        doc = convert_yaml(repo, text, report) if text is not None else None
        if doc is not None and write_yaml(repo, doc, report, dry):
            staged.append(PIPELINE_FILE)
            lock_text = _read(root / DVC_LOCK)
            if lock_text is not None:
                convert_lock(repo, lock_text, doc, md5s, report, dry)
                staged.append(lockfile.LOCK_FILE)
    if not dry and repo.autostage:
        scm.stage(repo.root, [p for p in staged if repo.abspath(p).exists()])
    removed = _remove(repo, converted, report) if remove_dvc and not dry else []
    seconds = time.monotonic() - began
    return MigrateResult(
        str(root), dry, report.done, report.skipped, report.notes, removed, seconds
    )


class _nothing:
    def __enter__(self) -> None:
        return None

    def __exit__(self, *_: object) -> None:
        return None


def _repo(root: Path, no_scm: bool, report: Report, dry: bool) -> Repo:
    """dvlite's repository at the project's root (made, unless ``dry``)."""
    if not no_scm:
        top = gitcmd.run(root, "rev-parse", "--show-toplevel", check=False).decode().strip()
        if not top:
            raise MigrateError(f"{root} is not in a git repository; run `git init` first")
        if os.path.realpath(top) != str(root):
            raise MigrateError(
                f"the DVC project is in {root}, a subfolder of its git repository {top} "
                "(dvc init --subdir); dvlite keeps .dvlite/ at the git root, so it cannot "
                "convert it in place"
            )
    if (root / DVLITE_DIR).is_dir():
        return Repo(root)
    report.did(f"{DVLITE_DIR}/", "dvlite init")
    if dry:
        return Repo(root)
    from dvlite.ops.init import init

    return init(root, no_scm=no_scm)


# -- remotes ---------------------------------------------------------------------------------
_REMOTE = re.compile(r'^remote\s+"(.+)"$')


def _remotes(
    repo: Repo, config: dict[str, dict[str, str]], local: dict[str, dict[str, str]],
    report: Report, dry: bool,
) -> None:  # fmt: skip
    existing = repo.config.sections('remote "') if (repo.dvlite_dir).is_dir() else {}
    for section, options in config.items():
        m = _REMOTE.match(section)
        if m is None:
            continue
        name, where = m[1], f".dvc/config remote {m[1]}"
        url = options.get("url", "")
        if not url:
            report.skip(where, "it has no url")
            continue
        if f'remote "{name}"' in existing:
            report.note(where, f"dvlite already has a remote {name!r}; kept as it is")
            continue
        values = {"url": _url(repo, url), "format": "2"}
        secret: dict[str, str] = {}
        for option, value in {**options, **local.get(section, {})}.items():
            if option == "url":
                continue
            if option in CREDENTIALS or secrets.is_secret(option):
                secret[option] = value
                if option in options:
                    report.note(where, f"{option} was in the committed .dvc/config: written to "
                                ".dvlite/config.local only; rotate that credential")  # fmt: skip
            elif option in REMOTE_OPTIONS:
                values[REMOTE_OPTIONS[option]] = value
            else:
                report.skip(where, f"option {option!r} not converted (dvlite has no such option)")
        report.did(f"{DVLITE_DIR}/config", f"remote {name}: {values['url']}")
        if secret:
            report.did(f"{DVLITE_DIR}/config.local", f"remote {name}: {', '.join(sorted(secret))}")
        if not dry:
            repo.config.set_section(f'remote "{name}"', values, "repo")
            if secret:
                repo.config.set_section(f'remote "{name}"', secret, "local")
    default = config.get("core", {}).get("remote")
    known = not dry and f'remote "{default}"' in repo.config.sections('remote "')
    if default and known and repo.config.get("core.remote") is None:
        repo.config.set("core.remote", default)


def _url(repo: Repo, url: str) -> str:
    """Where dvlite's objects go: the DVC remote's URL (a folder one, as DVC resolves it, from
    .dvc/), in its own ``dvlite`` folder, so that DVC's objects and dvlite's never mix."""
    if url.startswith("azure://"):
        url = "az://" + url[len("azure://") :]
    if "://" not in url and not os.path.isabs(os.path.expanduser(url)):
        absolute = os.path.normpath(os.path.join(repo.root, DVC_DIR, url))
        url = os.path.relpath(absolute, repo.root).replace(os.sep, "/")
    return f"{url.rstrip('/')}/{STORE_FOLDER}"


# -- .dvcignore ------------------------------------------------------------------------------
def _ignore(repo: Repo, report: Report, dry: bool) -> None:
    text = _read(repo.root / DVC_IGNORE)
    if not text:
        return
    patterns = [ln for ln in text.splitlines() if ln.strip() and not ln.lstrip().startswith("#")]
    mine = (_read(repo.abspath(IGNORE_FILE)) or "").splitlines()
    new = [p for p in patterns if p not in mine]
    if not new:
        return
    report.did(IGNORE_FILE, f"{len(new)} patterns from {DVC_IGNORE}")
    if not dry:
        body = "\n".join([*mine, f"# from {DVC_IGNORE}", *new]) + "\n"
        fsutil.atomic_write(repo.abspath(IGNORE_FILE), body.lstrip("\n").encode("utf-8"))


# -- .dvc files ------------------------------------------------------------------------------
def dvc_files(root: Path) -> list[str]:
    """Every ``.dvc`` file in the project (repository-relative), not inside tracked data."""
    found = []
    for folder, dirs, names in os.walk(root):
        dirs[:] = sorted(d for d in dirs if d not in SKIP_DIRS and d != DVC_DIR)
        base = os.path.relpath(folder, root).replace(os.sep, "/")
        for n in sorted(names):
            if n.endswith(".dvc") and os.path.isfile(os.path.join(folder, n)):
                found.append(n if base == "." else f"{base}/{n}")
    return found


def _dvc_files(
    repo: Repo, md5s: Md5s, dvc_cache: DvcCache, report: Report, dry: bool, staged: list[str]
) -> list[str]:
    """Convert each .dvc file; the ones converted whole."""
    converted = []
    for rel in dvc_files(repo.root):
        parsed = dvcfiles.parse_dvc_file(_read(repo.abspath(rel)) or "", rel)
        for problem in parsed.problems:
            report.skip(rel, f"not converted: {problem}")
        whole = not parsed.problems
        for out in parsed.outs:
            pointer_rel = out.path + pointers.SUFFIX
            if repo.abspath(pointer_rel).exists() and dry:
                report.note(rel, f"{pointer_rel} exists already: compared when run")
                continue
            if dry:
                where = "workspace" if os.path.lexists(repo.abspath(out.path)) else "DVC's cache"
                report.did(pointer_rel, f"from {rel} (the data from the {where}, verified)")
                continue
            try:
                got = bring(repo, md5s, dvc_cache, out)
            except (MigrateError, DvliteError) as exc:
                report.skip(rel, f"not converted: {exc}")
                whole = False
                continue
            e = got.entry
            source = UrlSource(str(parsed.source["url"])) if parsed.source else None
            p = Pointer(e.name, e.type, e.oid, e.size, got.files, e.exec, source=source)
            if repo.abspath(pointer_rel).exists():
                if _existing(repo, pointer_rel) == (p.kind, p.oid):
                    report.note(pointer_rel, "already converted")
                else:
                    report.skip(rel, f"{pointer_rel} exists and records other data; not replaced")
                    whole = False
                continue
            save(repo, out.path, p)
            report.did(pointer_rel, f"from {rel}" + (f"; {got.note}" if got.note else ""))
        for note in parsed.notes:
            report.note(rel, note)
        if whole:
            converted.append(rel)
    return converted


def _existing(repo: Repo, pointer_rel: str) -> tuple[str, str] | None:
    try:
        p = pointers.load(repo.abspath(pointer_rel), pointer_rel)
    except DvliteError:
        return None
    return p.kind, p.oid


# -- removing DVC's files ----------------------------------------------------------------------
def _remove(repo: Repo, converted: list[str], report: Report) -> list[str]:
    """DVC's files, once everything converted; its cache stays (old revisions' data)."""
    if report.skipped:
        report.skip(DVC_DIR, "DVC's files stay: not everything was converted (see above)")
        return []
    paths = [*converted, DVC_YAML, DVC_LOCK, DVC_IGNORE, ".dvc/config", ".dvc/.gitignore"]
    paths = [p for p in paths if repo.abspath(p).exists()]
    if repo.uses_git:
        scm.unstage_removed(repo.root, paths)
    for p in paths:
        fsutil.discard(os.fspath(repo.abspath(p)))
    for extra in (".dvc/config.local", ".dvc/tmp"):
        path = repo.abspath(extra)
        if path.is_dir():
            shutil.rmtree(path, ignore_errors=True)
        elif path.exists():
            fsutil.discard(os.fspath(path))
    if (repo.root / DVC_DIR / "cache").is_dir():
        report.note(".dvc/cache", "kept: the only local copy of old revisions' data; delete it "
                   "when you no longer need them")  # fmt: skip
    else:
        shutil.rmtree(repo.root / DVC_DIR, ignore_errors=True)
    return paths
