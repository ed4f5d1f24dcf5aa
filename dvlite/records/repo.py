"""The repository: where .dvlite/ is, its config, cache, state database and lock."""

from __future__ import annotations

import os
from collections.abc import Iterator
from contextlib import contextmanager
from functools import cached_property
from pathlib import Path

from dvlite.errors import ConfigError, NotARepoError, PathError
from dvlite.objects import fsutil
from dvlite.objects.cache import LINK_TYPES, Cache
from dvlite.objects.state import State
from dvlite.records import pointer
from dvlite.records.config import Config
from dvlite.records.ignore import Ignore
from dvlite.safepath import Confined

DVLITE_DIR = ".dvlite"
# folders never searched for pointer files: git's, ours, and those of Python and Node tools
SKIP_DIRS = frozenset((".git", DVLITE_DIR, "__pycache__", "node_modules", ".venv", ".tox"))
SKIP_DIRS |= {".mypy_cache", ".pytest_cache", ".ruff_cache"}
_DVLITE_GITIGNORE = "/config.local\n/tmp\n/cache\n"


class Repo:
    def __init__(self, root: Path) -> None:
        self.root = root
        self.dvlite_dir = root / DVLITE_DIR
        self.tmp_dir = self.dvlite_dir / "tmp"

    @classmethod
    def find(cls, start: str | Path | None = None) -> Repo:
        here = Path(os.path.realpath(start or os.getcwd()))
        for folder in (here, *here.parents):
            if (folder / DVLITE_DIR).is_dir():
                return cls(folder)
        raise NotARepoError(f"{here} is not inside a dvlite repository; run `dvlite init` first")

    @classmethod
    def init(
        cls, path: str | Path | None = None, *, no_scm: bool = False, force: bool = False
    ) -> Repo:
        """Make ``.dvlite/`` at the git root above ``path`` (with ``no_scm``: at ``path``)."""
        here = Path(os.path.realpath(path or os.getcwd()))
        root = next((f for f in (here, *here.parents) if no_scm or (f / ".git").exists()), None)
        if root is None:
            raise NotARepoError(
                f"{here} is not in a git repository; run `git init` first, "
                "or `dvlite init --no-scm`"
            )
        repo = cls(root)
        if repo.dvlite_dir.exists() and not force:
            raise NotARepoError(
                f"{repo.dvlite_dir} already exists; use --force to initialise it again"
            )
        repo.dvlite_dir.mkdir(exist_ok=True)
        fsutil.atomic_write(repo.dvlite_dir / ".gitignore", _DVLITE_GITIGNORE.encode())
        config_path = repo.dvlite_dir / "config"
        if not config_path.exists():
            text = "[core]\nno_scm = true\n" if no_scm else "[core]\n"
            fsutil.atomic_write(config_path, text.encode())
        elif no_scm != repo.config.get_bool("core.no_scm", False):
            # --force repairs .dvlite/ but keeps the settings (remotes, cache) already made there
            repo.config.set("core.no_scm", "true" if no_scm else "false")
        return repo

    @cached_property
    def config(self) -> Config:
        return Config(self.dvlite_dir)

    @cached_property
    def cache_dir(self) -> Path:
        configured = self.config.get("cache.dir")
        if not configured:
            return self.dvlite_dir / "cache"
        return self.root / os.path.expanduser(configured)

    @cached_property
    def link_types(self) -> tuple[str, ...]:
        raw = self.config.get("cache.type") or "reflink,copy"
        types = tuple(t.strip() for t in raw.split(",") if t.strip())
        if not types or not set(types) <= set(LINK_TYPES):
            raise ConfigError(
                f"cache.type {raw!r}: each link type must be one of {', '.join(LINK_TYPES)}"
            )
        return types

    @cached_property
    def cache(self) -> Cache:
        return Cache(self.cache_dir, self.link_types)

    @cached_property
    def ignore(self) -> Ignore:
        """The .dvliteignore rules, read as the folders they apply to are scanned."""
        return Ignore(self.root)

    @cached_property
    def confined(self) -> Confined:
        """The check every path dvlite writes or deletes in the workspace goes through."""
        return Confined(self.root)

    @cached_property
    def state(self) -> State:
        return State(self.tmp_dir / "state.db")

    @property
    def uses_git(self) -> bool:
        return not self.config.get_bool("core.no_scm", False)

    @property
    def autostage(self) -> bool:
        return self.uses_git and self.config.get_bool("core.autostage", True)

    @contextmanager
    def lock(self) -> Iterator[None]:
        """The repository lock; taking it also clears temporary files of killed runs."""
        from dvlite.objects.oslock import repo_lock

        with repo_lock(self.tmp_dir / "lock"):
            fsutil.clean_stale_tmp(os.path.join(self.cache_dir, "tmp"))
            fsutil.clean_journals(self.tmp_dir, self.folder_of)  # a killed checkout's
            yield

    def folder_of(self, rel: str) -> str:
        """The absolute path of a repository-relative folder, checked like any write target."""
        return self.confined.target(rel) if rel else os.fspath(self.root)

    def rel(self, path: str | Path) -> str:
        """The repository-relative POSIX path of a user-given ``path`` (the last part's own
        symlink kept); PathError when it is outside."""
        parent, name = os.path.split(os.path.abspath(path))
        absolute = os.path.join(os.path.realpath(parent), name)
        if not fsutil.is_within(absolute, self.root):
            raise PathError(f"{path} is outside the repository {self.root}")
        rel = os.path.relpath(absolute, self.root)
        return "" if rel == "." else rel.replace(os.sep, "/")

    def abspath(self, rel: str) -> Path:
        return self.root / rel if rel else self.root

    def iter_pointers(self, under: str = "") -> Iterator[str]:
        """Every pointer file's repository-relative path (in no order), not inside tracked data."""
        suffix = pointer.SUFFIX
        stack = [os.fspath(self.abspath(under))]
        while stack:
            try:
                entries = list(os.scandir(stack.pop()))
            except (FileNotFoundError, NotADirectoryError, PermissionError):
                continue
            skip = SKIP_DIRS.union(
                e.name[: -len(suffix)] for e in entries if e.name.endswith(suffix)
            )
            for entry in entries:
                if entry.name.endswith(suffix) and entry.is_file():
                    yield os.path.relpath(entry.path, self.root).replace(os.sep, "/")
                elif entry.name not in skip and entry.is_dir(follow_symlinks=False):
                    stack.append(entry.path)

    def tracking_pointer(self, rel: str) -> str | None:
        """The pointer that tracks ``rel`` or a folder above it, if any."""
        return pointer.tracking(rel, lambda candidate: os.path.isfile(self.root / candidate))
