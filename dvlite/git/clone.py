"""Another git repository, read for ``get``, ``import``, ``update`` and ``ls URL``: its refs
(one ``ls-remote``) and one commit fetched into a temporary bare repository, shallow where the
revision allows it. Nothing of it is checked out: its files are read as blobs, so a crafted
path in it is never written by git."""

from __future__ import annotations

import os
import re
import shutil
import tempfile
from collections.abc import Iterator
from contextlib import contextmanager
from dataclasses import dataclass
from pathlib import Path

from dvlite.errors import ScmError, SourceError
from dvlite.git import cmd as gitcmd
from dvlite.git import history
from dvlite.records.repo import Repo

_SHA = re.compile(r"[0-9a-f]{40}|[0-9a-f]{64}")
# never the ext:: transport (it runs a command named in the URL), whatever the user's config
# says; never a prompt for a password (a command that waits for one looks hung)
_ENV = {
    "GIT_CONFIG_COUNT": "1",
    "GIT_CONFIG_KEY_0": "protocol.ext.allow",
    "GIT_CONFIG_VALUE_0": "never",
    "GIT_TERMINAL_PROMPT": "0",
}


def is_commit_id(rev: str) -> bool:
    return _SHA.fullmatch(rev) is not None


def local_path(url: str) -> Path | None:
    """The folder a URL names when it is on this machine (a path or ``file://``), else None."""
    if url.startswith("file://"):
        return Path(url[len("file://") :])
    if "://" in url:
        return None
    head = url.split("/", 1)[0]
    if ":" in head and not os.path.exists(head):  # scp-like syntax: [user@]host:path
        return None
    return Path(os.path.abspath(os.path.expanduser(url)))


def check_url(url: str, where: str = "") -> str:
    """``url`` when git may be given it; SourceError for one that could be read as an option."""
    if not isinstance(url, str) or not url.strip() or url.startswith("-"):
        raise SourceError(f"{where}bad repository URL {url!r}")
    if any(c in url for c in "\0\n\r"):
        raise SourceError(f"{where}the repository URL {url!r} holds a control character")
    return url


def check_rev(rev: str, where: str = "") -> str:
    """``rev`` when it can name a revision of another repository (no option, no space)."""
    if (
        not isinstance(rev, str)
        or not rev
        or rev.startswith("-")
        or len(rev) > 255
        or any(c.isspace() or ord(c) < 32 for c in rev)
    ):
        raise SourceError(f"{where}bad revision {rev!r}")
    return rev


def _git(root: Path, *args: str) -> bytes:
    return gitcmd.run(root, *args, env=_ENV)


def refs(url: str) -> dict[str, str]:
    """The refs of the repository at ``url`` (``HEAD``, ``refs/heads/main``, ...), each with
    the commit it names (an annotated tag's peeled); SourceError when it cannot be read."""
    check_url(url)
    local = local_path(url)
    try:
        out = _git(Path.cwd(), "ls-remote", "--", url if local is None else os.fspath(local))
    except ScmError as exc:
        raise SourceError(f"cannot read the git repository {url}: {_why(exc)}") from None
    found: dict[str, str] = {}
    for line in out.decode("utf-8", errors="replace").splitlines():
        sha, _, ref = line.partition("\t")
        if ref.endswith("^{}"):
            found[ref[:-3]] = sha  # the commit an annotated tag names
        else:
            found.setdefault(ref, sha)
    return found


def _why(exc: ScmError) -> str:
    text = str(exc)
    for prefix in ("git ls-remote failed: ", "git fetch failed: "):
        text = text.removeprefix(prefix)
    return text.removeprefix("fatal: ")


def ref_of(known: dict[str, str], rev: str | None) -> str | None:
    """The ref ``rev`` names among ``known`` (the default branch for None), or None."""
    if rev is None:
        return "HEAD" if "HEAD" in known else None
    for ref in (rev, f"refs/heads/{rev}", f"refs/tags/{rev}"):
        if ref in known and (ref == "HEAD" or ref.startswith("refs/")):
            return ref
    return None


@dataclass(frozen=True)
class Source:
    """One commit of another repository, fetched into ``repo`` (a temporary bare repository)."""

    url: str
    rev: str | None  # as given
    commit: str
    repo: Repo  # read it with history.tracked_at_commits and read()
    local: Path | None  # the repository's own folder, when it is on this machine

    def read(self, rel: str) -> bytes | None:
        """A file's bytes at the commit (None: absent, or not a file)."""
        spec = f"{self.commit}:{rel}"
        return gitcmd.read_blobs(self.repo.root, [spec])[spec]

    def files_under(self, rel: str) -> list[tuple[str, str, str]]:
        """(path, mode, blob) of each file git tracks at ``rel`` or below it."""
        found = []
        out = gitcmd.lines(self.repo.root, "ls-tree", "-r", "-z", "--full-tree", self.commit, "--")
        for line in out:
            meta, _, path = line.partition("\t")
            mode, kind, sha = meta.split(" ")
            if kind == "blob" and (not rel or path == rel or path.startswith(rel + "/")):
                found.append((path, mode, sha))
        return found


def _own_folder(path: Path) -> Path:
    """The root of the repository at ``path`` on this machine: its work tree, or the bare
    repository itself (where its relative folder remotes are resolved)."""
    try:
        out = gitcmd.run(path, "rev-parse", "--show-toplevel", check=False).decode().strip()
    except (ScmError, OSError):
        out = ""
    return Path(out) if out else path


@contextmanager
def fetched(url: str, rev: str | None) -> Iterator[Source]:
    """The commit ``rev`` names in the repository at ``url`` (its default branch for None),
    fetched into a temporary bare repository removed afterwards. A branch, a tag or a full
    commit id costs one shallow fetch of that commit; anything else (a short id, ``main~2``)
    a fetch of every branch and tag. SourceError for a repository that cannot be read, or a
    revision it does not have."""
    check_url(url)
    if rev is not None:
        check_rev(rev)
    local = local_path(url)
    if local is not None and not local.exists():
        raise SourceError(f"cannot read the git repository {url}: no such folder {local}")
    known = refs(url)
    reach = url if local is None else os.fspath(local)  # git runs in another folder
    tmp = Path(tempfile.mkdtemp(prefix="dvlite-source-"))
    try:
        _git(tmp, "init", "-q", "--bare")
        repo = Repo(tmp)
        ref = ref_of(known, rev)
        if ref is None and rev is None:
            raise SourceError(f"{url} has no commit yet (no HEAD)")
        wanted = ref or (rev if rev is not None and is_commit_id(rev) else None)
        commit = None
        if wanted is not None:
            try:
                _git(tmp, "fetch", "-q", "--no-tags", "--depth", "1", "--", reach, wanted)
                commit = gitcmd.rev_parse(tmp, "FETCH_HEAD")
            except ScmError as exc:
                if ref is not None:  # a ref it listed: the fetch itself failed
                    why = _why(exc)
                    raise SourceError(f"cannot fetch {rev or 'HEAD'} from {url}: {why}") from None
        if commit is None:  # a short id or an expression: every branch and tag, then resolve
            specs = ("+refs/heads/*:refs/remotes/origin/*", "+refs/tags/*:refs/tags/*")
            try:
                _git(tmp, "fetch", "-q", "--", reach, *specs)
            except ScmError as exc:
                raise SourceError(f"cannot fetch from {url}: {_why(exc)}") from None
            assert rev is not None
            commit = _resolve(repo, rev) or _resolve(repo, f"origin/{rev}")
            if commit is None:
                raise SourceError(f"{url} has no revision {rev!r} (no such branch, tag or commit)")
        yield Source(url, rev, commit, repo, None if local is None else _own_folder(local))
    finally:
        shutil.rmtree(tmp, ignore_errors=True)


def _resolve(repo: Repo, rev: str) -> str | None:
    try:
        return history.resolve(repo, rev)
    except ScmError:
        return None
