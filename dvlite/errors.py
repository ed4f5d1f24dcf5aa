"""The error hierarchy. Every error a user can cause is a DvliteError subclass;
the CLI turns them into ``Error: ...`` on stderr and exit code 1."""

from __future__ import annotations


class DvliteError(Exception):
    """Root of every error dvlite reports to the user."""


class NotARepoError(DvliteError):
    """No .dvlite/ (or no git repository) where one is needed."""


class PathError(DvliteError):
    """A path given by the user is missing, outside the repository, or unusable."""


class PointerError(DvliteError):
    """A pointer file (.dvl) is malformed or does not match its data."""


class CacheError(DvliteError):
    """The local cache is missing an object or holds a corrupt one."""


class CorruptObjectError(CacheError):
    """An object's bytes do not hash to its id."""

    def __init__(self, oid: str, where: str, actual: str | None = None) -> None:
        self.oid, self.where, self.actual = oid, where, actual
        hashes = f" (hashes to {actual})" if actual else ""
        super().__init__(f"corrupt object {oid} at {where}{hashes}")


class InvalidTreeError(CacheError):
    """A tree object whose bytes hash to its id but whose entries are malformed or unsafe."""


class ConfigError(DvliteError):
    """A config file is malformed or a key is unknown."""


class LockError(DvliteError):
    """Another dvlite process holds the repository lock."""


class CheckoutError(DvliteError):
    """Checkout would overwrite or delete data that is not in the cache."""


class ScmError(DvliteError):
    """A git operation failed."""


class RemoteError(DvliteError):
    """A remote is unreachable, misconfigured, or refused an operation."""


class PipelineError(DvliteError):
    """dvlite.yaml or dvlite.lock is malformed, or a stage failed."""


class ExperimentError(DvliteError):
    """An experiment that does not exist, a name taken twice, or a run that cannot start."""


class RegistryError(DvliteError):
    """A model name, version or stage that cannot be used, or a malformed registry tag."""


class SourceError(DvliteError):
    """Another repository (``get``, ``import``, ``ls URL``) or URL (``import-url``) that cannot
    be read, a revision or path it does not have, or a record of one that cannot be used."""


class MigrateError(DvliteError):
    """A DVC project that ``migrate-dvc`` cannot start on (no DVC files, dvlite files in the
    way)."""


class ArgumentError(DvliteError):
    """Arguments to an API function that do not go together, or a choice it needs left out."""


class PlotError(PipelineError):
    """A plot file that cannot be drawn: an unknown column, a malformed or unsupported file."""
