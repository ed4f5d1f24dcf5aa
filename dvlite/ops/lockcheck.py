"""Whether a staged ``dvlite.lock`` agrees with the staged files beside it (for pre-commit).

Each param value it records must be the staged params file's, and each dep git tracks as a
file must be the staged content: otherwise the commit claims that code and params made outputs
they did not (`repro` stages the lock, but maybe not the code it read). Deps dvlite tracks are
the hook's pointer checks' job; folders in git are not compared.
"""

from __future__ import annotations

import os

from dvlite.errors import PipelineError
from dvlite.git import cmd as gitcmd
from dvlite.objects.hashing import hash_file, oid_of_bytes
from dvlite.objects.tree import FILE
from dvlite.records import params as params_mod
from dvlite.records.lockfile import LOCK_FILE, Lock
from dvlite.records.repo import Repo

_FILE_MODES = ("100644", "100755")
_AGAIN = f"run `dvlite repro` and stage {LOCK_FILE} again"


def _stages(names: list[str]) -> str:
    quoted = ", ".join(repr(n) for n in sorted(names))
    return f"stage{'s' if len(names) > 1 else ''} {quoted}"


def problems(repo: Repo, lock_bytes: bytes) -> list[str]:
    """What in the staged lock (``lock_bytes``) disagrees with the staged params and deps."""
    lock = Lock.loads(lock_bytes.decode("utf-8", errors="replace"), f"{LOCK_FILE} (staged)")
    return _params(repo, lock) + _deps(repo, lock)


def _params(repo: Repo, lock: Lock) -> list[str]:
    files = sorted({f for entry in lock.stages.values() for f in entry.params})
    if not files:
        return []
    staged = gitcmd.read_blobs(repo.root, [f":{f}" for f in files])
    parsed: dict[str, object] = {}
    # (file, key, recorded value as text, what the staged file has) -> the stages, the value
    wrong: dict[tuple[str, str, str, str], tuple[list[str], object]] = {}
    for name, entry in sorted(lock.stages.items()):
        for file, keys in entry.params.items():
            data = staged.get(f":{file}")
            if data is not None and file not in parsed:
                parsed[file] = params_mod.parse(data, f"{file} (staged)")
            for key, value in keys.items():
                if data is None:
                    where = f"{file} is not staged"
                else:
                    now = params_mod.lookup(parsed[file], key)
                    if now is not params_mod.MISSING and params_mod.same_value(now, value):
                        continue
                    has = "no such key" if now is params_mod.MISSING else repr(now)
                    where = f"the staged {file} has {has}"
                wrong.setdefault((file, key, repr(value), where), ([], value))[0].append(name)
    read = params_mod.workspace_reader(repo.root)
    return [
        f"the staged {LOCK_FILE} records {key} = {recorded} for {_stages(names)}, but {where}; "
        + _param_fix(read, file, key, value)
        for (file, key, recorded, where), (names, value) in wrong.items()
    ]


def _param_fix(read: params_mod.Reader, file: str, key: str, value: object) -> str:
    """Staging the params file fixes it when the workspace holds the recorded value."""
    data = read(file)
    if data is not None:
        try:
            now = params_mod.lookup(params_mod.parse(data, file), key)
        except PipelineError:
            now = params_mod.MISSING
        if now is not params_mod.MISSING and params_mod.same_value(now, value):
            return f"stage {file} too (`git add {file}`)"
    return _AGAIN


def _deps(repo: Repo, lock: Lock) -> list[str]:
    recorded: dict[str, dict[str, list[str]]] = {}  # path -> oid -> stages
    for name, entry in lock.stages.items():
        for dep in entry.deps:
            if dep.kind == FILE:
                recorded.setdefault(dep.path, {}).setdefault(dep.oid, []).append(name)
    if not recorded:
        return []
    in_index: dict[str, str] = {}  # path -> blob sha, for the deps git tracks as files
    for line in gitcmd.lines(repo.root, "ls-files", "-s", "-z", "--", *sorted(recorded)):
        meta, _, path = line.partition("\t")
        mode, sha, _stage = meta.split(" ")
        if path in recorded and mode in _FILE_MODES:
            in_index[path] = sha
    blobs = gitcmd.read_blobs(repo.root, sorted(set(in_index.values())))
    messages = []
    for path, sha in sorted(in_index.items()):
        data = blobs.get(sha)
        staged_oid = oid_of_bytes(data) if data is not None else None
        for oid, names in recorded[path].items():
            if oid == staged_oid or _same_after_filters(repo, path, oid):
                continue
            if _workspace_oid(repo, path) == oid:
                messages.append(
                    f"the staged {LOCK_FILE} records {path} for {_stages(names)} as it is in the "
                    f"workspace, but the staged {path} differs; stage it too (`git add {path}`)"
                )
            else:
                messages.append(
                    f"the staged {LOCK_FILE} records a version of {path} for {_stages(names)} "
                    f"that is neither the staged one nor the one in the workspace; {_AGAIN}"
                )
    return messages


def _workspace_oid(repo: Repo, path: str) -> str | None:
    try:
        return hash_file(os.path.join(repo.root, path))[0]
    except OSError:
        return None


def _same_after_filters(repo: Repo, path: str, oid: str) -> bool:
    """Git filters (line endings, git-lfs) make the staged blob differ from the workspace
    bytes dvlite hashed: the lock agrees when the workspace file is the staged one to git."""
    unstaged = gitcmd.lines(repo.root, "diff", "--name-only", "-z", "--", path)
    return path not in unstaged and _workspace_oid(repo, path) == oid
