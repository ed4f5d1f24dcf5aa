"""Git hooks: installing them beside the user's own, and what each one does.

The installed scripts are tiny ``sh`` files that run the user's previous hook (kept as
``<hook>.pre-dvlite``) and then ``exec dvlite hook NAME ARGS...``; everything else is here.
"""

from __future__ import annotations

import os
import stat
from dataclasses import asdict, dataclass, field
from pathlib import Path

from dvlite.errors import DvliteError, ScmError
from dvlite.git import cmd as gitcmd
from dvlite.git import history
from dvlite.objects.fsutil import atomic_write
from dvlite.ops import lockcheck
from dvlite.ops.checkout import CheckoutResult, apply, make_folders, plan
from dvlite.records import pointer as pointers
from dvlite.records.compare import missing_objects
from dvlite.records.lockfile import LOCK_FILE
from dvlite.records.repo import Repo
from dvlite.records.tracked import Tracked, collect, workspace_node

HOOKS = ("pre-commit", "post-checkout", "post-merge", "pre-push")
MARK = "# dvlite hook v1"
KEPT_SUFFIX = ".pre-dvlite"
BACKUP_SUFFIX = ".dvlite-backup"

# A pre-* hook stops at the first failure; a post-* hook runs both and reports the worse.
_SCRIPT = """#!/bin/sh
{mark} ({name}); installed by `dvlite install`, removed by `dvlite uninstall`.
{chain}if ! command -v dvlite >/dev/null 2>&1; then
    echo "dvlite: not on PATH, so the {name} hook did nothing \
(install dvlite or run \\`dvlite uninstall\\`)" >&2
    exit {status}
fi
{run}
"""
_CHAIN_PRE = """if [ -x "$0{kept}" ]; then
    "$0{kept}" "$@" || exit $?
fi
"""
_CHAIN_POST = """status=0
if [ -x "$0{kept}" ]; then
    "$0{kept}" "$@" || status=$?
fi
"""
# pre-push reads the refs on stdin: keep them, so that both hooks get them
_CHAIN_PUSH = """refs=$(cat)
if [ -x "$0{kept}" ]; then
    {{ [ -z "$refs" ] || printf '%s\\n' "$refs"; }} | "$0{kept}" "$@" || exit $?
fi
"""
_RUN_PRE = 'exec dvlite hook {name} "$@"'
_RUN_POST = 'dvlite hook {name} "$@" || exit $?\nexit $status'
_RUN_PUSH = '{{ [ -z "$refs" ] || printf \'%s\\n\' "$refs"; }} | dvlite hook {name} "$@"'


def script(name: str) -> str:
    post = name.startswith("post-")
    chain = _CHAIN_POST if post else _CHAIN_PUSH if name == "pre-push" else _CHAIN_PRE
    run = _RUN_POST if post else _RUN_PUSH if name == "pre-push" else _RUN_PRE
    text = _SCRIPT.replace("{chain}", chain).replace("{run}", run)  # one format for all parts
    return text.format(mark=MARK, name=name, kept=KEPT_SUFFIX, status="$status" if post else "0")


# -- installing ---------------------------------------------------------------------------------
def hooks_dir(repo: Repo) -> Path:
    """Where git looks for hooks: core.hooksPath when set, else .git/hooks (worktrees too)."""
    if not repo.uses_git:
        raise ScmError(
            "this dvlite repository has no git (initialised with --no-scm), so it has no git hooks"
        )
    out = gitcmd.run(repo.root, "rev-parse", "--git-path", "hooks").decode().strip()
    return (repo.root / out).resolve()


def is_ours(path: Path) -> bool:
    try:
        with open(path, encoding="utf-8", errors="replace") as f:
            return MARK in f.read(4096)
    except (FileNotFoundError, IsADirectoryError, NotADirectoryError):
        return False


@dataclass(frozen=True, slots=True)
class HookAction:
    hook: str
    action: str  # installed, updated, chained, backed up, removed, restored, skipped
    detail: str = ""

    def to_dict(self) -> dict[str, str]:
        return asdict(self)


def install(repo: Repo, *, force: bool = False, names: tuple[str, ...] = HOOKS) -> list[HookAction]:
    """Write dvlite's hooks. A user's existing hook is kept as ``<hook>.pre-dvlite`` and still
    runs first; anything unexpected (a folder, or a foreign hook where a kept one already
    exists) is refused unless ``force``, which moves it aside to ``<hook>.dvlite-backup``."""
    folder = hooks_dir(repo)
    folder.mkdir(parents=True, exist_ok=True)
    todo: list[tuple[str, Path, str]] = []  # everything is refused before anything is written
    for name in names:
        path = folder / name
        kept = folder / (name + KEPT_SUFFIX)
        if not os.path.lexists(path) or is_ours(path):
            todo.append((name, path, "updated" if os.path.lexists(path) else "installed"))
        elif path.is_file() and not os.path.lexists(kept):
            todo.append((name, path, "chained"))
        elif force:
            todo.append((name, path, "backed up"))
        else:
            why = f"exists and so does {kept.name}" if path.is_file() else "is not a regular file"
            raise ScmError(
                f"{path} {why}; dvlite will not overwrite it. Move it away, or run "
                f"`dvlite install --force` to move it to {name}{BACKUP_SUFFIX}"
            )
    actions = []
    for name, path, action in todo:
        detail = ""
        if action == "chained":
            os.replace(path, path.with_name(name + KEPT_SUFFIX))
            detail = f"your hook now runs from {name}{KEPT_SUFFIX}"
        elif action == "backed up":
            backup = path.with_name(name + BACKUP_SUFFIX)
            if os.path.lexists(backup):
                raise ScmError(f"{backup} already exists; move it away first")
            os.replace(path, backup)
            detail = f"the previous {name} was moved to {backup.name}"
        atomic_write(path, script(name).encode(), fsync=False, mode=0o755)
        os.chmod(path, os.stat(path).st_mode | stat.S_IXUSR | stat.S_IXGRP | stat.S_IXOTH)
        actions.append(HookAction(name, action, detail))
    return actions


def uninstall(repo: Repo, names: tuple[str, ...] = HOOKS) -> list[HookAction]:
    """Remove dvlite's hooks and put back the ones they had kept."""
    folder = hooks_dir(repo)
    actions = []
    for name in names:
        path = folder / name
        kept = folder / (name + KEPT_SUFFIX)
        if not is_ours(path):
            if os.path.lexists(path):
                actions.append(HookAction(name, "skipped", "not a dvlite hook; left as it is"))
            continue
        if os.path.lexists(kept):
            os.replace(kept, path)
            actions.append(HookAction(name, "restored", f"your previous {name} is back"))
        else:
            os.unlink(path)
            actions.append(HookAction(name, "removed"))
    return actions


# -- running --------------------------------------------------------------------------------------
@dataclass
class HookOutcome:
    code: int = 0
    messages: list[str] = field(default_factory=list)  # for stderr, one line each


def run_hook(repo: Repo, name: str, args: list[str], stdin: str = "") -> HookOutcome:
    """Do what the hook ``name`` does; never raises a DvliteError (it becomes a message)."""
    outcome = HookOutcome()
    try:
        if name == "pre-commit":
            _pre_commit(repo, outcome)
        elif name == "post-checkout":
            prev, new, branch = [*(args or _pre_commit_args(name)), "", "", ""][:3]
            if branch == "1" and not _rebasing(repo):
                _report(outcome, sync(repo, prev, new))
        elif name == "post-merge":
            old = gitcmd.rev_parse(repo.root, "ORIG_HEAD") or gitcmd.NULL_SHA
            new = gitcmd.rev_parse(repo.root, "HEAD") or ""
            _report(outcome, sync(repo, old, new))
        elif name == "pre-push":
            _pre_push(repo, args or _pre_commit_args(name), stdin, outcome)
        else:
            raise ScmError(f"dvlite has no {name} hook")
    except DvliteError as exc:
        outcome.messages.append(f"dvlite {name}: {exc}")
        outcome.code = 1
    return outcome


def _pre_commit_args(name: str) -> list[str]:
    """Git's hook arguments as the pre-commit framework passes them (environment variables)."""
    env = os.environ
    if name == "post-checkout" and "PRE_COMMIT_TO_REF" in env:
        keys = ("PRE_COMMIT_FROM_REF", "PRE_COMMIT_TO_REF", "PRE_COMMIT_CHECKOUT_TYPE")
        return [env.get(key, "") for key in keys]
    if name == "pre-push" and _pre_commit_push():
        return [env.get("PRE_COMMIT_REMOTE_NAME", ""), env.get("PRE_COMMIT_REMOTE_URL", "")]
    return []


def _report(outcome: HookOutcome, result: CheckoutResult) -> None:
    if result.changed:
        outcome.messages.append(
            f"dvlite: data updated ({len(result.added)} added, {len(result.modified)} modified, "
            f"{len(result.deleted)} deleted)"
        )


def _rebasing(repo: Repo) -> bool:
    git_dir = gitcmd.git_dir(repo.root)
    return (git_dir / "rebase-merge").exists() or (git_dir / "rebase-apply").exists()


# -- pre-commit -----------------------------------------------------------------------------------
def _pre_commit(repo: Repo, outcome: HookOutcome) -> None:
    strict = repo.config.get_bool("hooks.strict", True)
    problems = check_staged(repo)
    outcome.messages += [f"dvlite: {problem}" for problem in problems]
    if problems and strict:
        outcome.messages.append(
            "dvlite: commit refused (to commit anyway: `git commit --no-verify`; "
            "to only warn: `dvlite config hooks.strict false`)"
        )
        outcome.code = 1


def check_staged(repo: Repo) -> list[str]:
    """What is wrong with the staged pointers and dvlite.lock (nothing: the commit is fine)."""
    staged = gitcmd.lines(repo.root, "diff", "--cached", "--name-only", "-z", "--diff-filter=ACMR")
    sources = [p for p in staged if pointers.is_pointer(p) or p == LOCK_FILE]
    if not sources:
        return []
    blobs = gitcmd.read_blobs(repo.root, [f":{p}" for p in sources])
    problems: list[str] = []
    items: list[Tracked] = []
    for source in sources:
        staged_bytes = blobs.get(f":{source}") or b""
        if source == LOCK_FILE:
            try:
                on_disk: bytes | None = repo.abspath(source).read_bytes()
            except OSError:
                on_disk = None
            if on_disk != staged_bytes:
                problems.append(
                    f"{LOCK_FILE} differs from its staged version; run `git add {LOCK_FILE}`"
                )
                continue
            problems += lockcheck.problems(repo, staged_bytes)  # the params and code it records
            items += [t for t in collect(repo) if _from_lock(t)]
            continue
        text = staged_bytes.decode("utf-8", errors="replace")
        rel = source[: -len(pointers.SUFFIX)]
        p = pointers.loads(text, f"{source} (staged)", os.path.basename(rel))
        items.append(Tracked(source, rel, p))
    for item in items:
        problems += _check_item(repo, item)
    return problems


def _from_lock(item: Tracked) -> bool:
    """Whether a stage output recorded in dvlite.lock (source ``dvlite.lock:<stage>``)."""
    return item.source.startswith(LOCK_FILE + ":")


def _check_item(repo: Repo, item: Tracked) -> list[str]:
    fix = "run `dvlite repro`" if _from_lock(item) else f"run `dvlite add {item.rel}`"
    work = workspace_node(repo, item)
    if work is None:
        return [
            f"{item.rel} is missing from the workspace but {item.source} is staged; "
            f"run `dvlite checkout {item.rel}`"
        ]
    if work.oid != item.pointer.oid:
        source = LOCK_FILE if _from_lock(item) else item.source
        return [f"{item.rel} does not match the staged {source}; {fix} and stage {source} again"]
    missing = list(missing_objects(repo.cache, item.entry, item.rel, source=item.source))
    if not missing:
        return []
    shown = ", ".join(missing[:3]) + (f" and {len(missing) - 3} more" if len(missing) > 3 else "")
    return [f"not in the cache: {shown} (of {item.source}); {fix} to store it"]


# -- pre-push -----------------------------------------------------------------------------
def pushed_commits(repo: Repo, remote_name: str, stdin: str) -> list[str]:
    """The commits a ``git push`` sends, from the lines git gives pre-push on stdin:
    ``<local ref> <local sha> <remote ref> <remote sha>`` (as git-lfs reads them)."""
    updates = [line.split() for line in stdin.splitlines() if len(line.split()) == 4]
    if not updates and _pre_commit_push():  # the pre-commit framework
        env = os.environ
        # a first push (with the root commit) gets no FROM_REF nor TO_REF, only the branches:
        # send every commit of the local branch that no remote-tracking ref of that remote has
        local = env.get("PRE_COMMIT_TO_REF") or env.get("PRE_COMMIT_LOCAL_BRANCH") or "HEAD"
        remote = env.get("PRE_COMMIT_FROM_REF") or gitcmd.NULL_SHA
        updates = [["", local, "", remote]]
    found: dict[str, None] = {}
    for _local_ref, local_sha, _remote_ref, remote_sha in updates:
        if local_sha == gitcmd.NULL_SHA:
            continue  # deleting a branch on the remote sends nothing
        if remote_sha != gitcmd.NULL_SHA and gitcmd.rev_parse(repo.root, remote_sha):
            exclude = [f"^{remote_sha}"]
        elif remote_name:
            exclude = ["--not", f"--remotes={remote_name}"]
        else:
            exclude = []
        for sha in gitcmd.run(repo.root, "rev-list", local_sha, *exclude).decode().split():
            found[sha] = None
    return list(found)


def _pre_commit_push() -> bool:
    """Whether the pre-commit framework runs this pre-push hook (it passes no stdin, only
    variables, and for a first push only the remote and the branches)."""
    return any(
        key in os.environ
        for key in ("PRE_COMMIT_TO_REF", "PRE_COMMIT_LOCAL_BRANCH", "PRE_COMMIT_REMOTE_BRANCH")
    )


def _pre_push(repo: Repo, args: list[str], stdin: str, outcome: HookOutcome) -> None:
    """Push to the default data remote every object the pushed commits use."""
    from dvlite.transfer import push_oids

    try:
        at = history.tracked_at_commits(repo, pushed_commits(repo, args[0] if args else "", stdin))
        roots = list(dict.fromkeys(item.pointer.oid for items in at for item in items))
        result = push_oids(repo, None, roots) if roots else None
    except DvliteError as exc:
        raise DvliteError(
            f"{exc}\nthe git push was stopped so that the commits do not arrive without their "
            "data; fix the above and push again (`git push --no-verify` skips this check)"
        ) from None
    if result is not None and result.transferred:
        outcome.messages.append(
            f"dvlite: pushed {result.transferred:,} objects to the data remote {result.remote}"
        )


# -- post-checkout / post-merge -------------------------------------------------------------
_UNSAVED = (
    "the data was not updated because it has changes that are not in the cache: {paths}; "
    "`dvlite add` them (or `dvlite checkout --force` to discard them)"
)


def sync(repo: Repo, old: str, new: str, *, force: bool = False) -> CheckoutResult:
    """Make the workspace follow git from commit ``old`` to commit ``new``, touching only the
    data whose pointers differ between them (and, inside folders, only the files that do)."""
    if not new or old == new:
        return CheckoutResult()
    # git names the commits by id: read both without resolving them, in one cat-file
    revs = [new] if old in ("", gitcmd.NULL_SHA) else [old, new]
    at = history.tracked_at_commits(repo, revs, labels=revs)
    before = {t.rel: t for t in at[0]} if len(revs) == 2 else {}
    after = {t.rel: t for t in at[-1]}
    changed = [
        t
        for rel, t in sorted(after.items())
        if rel not in before or before[rel].pointer != t.pointer
    ]
    gone = [t for rel, t in sorted(before.items()) if rel not in after]
    with repo.lock():
        deltas = plan(
            repo, changed, force=force, relink=False, since=before, dropped=gone, unsaved=_UNSAVED
        )
        result = apply(repo, deltas)
        make_folders(repo, changed)
    return result
