"""YAML in and out, for pointers, dvlite.yaml, dvlite.lock and params files. PyYAML is
imported only when one of these runs: a pointer as dvlite writes it never needs it."""

from __future__ import annotations

from dvlite.errors import DvliteError


def load(text: str, where: str, error: type[DvliteError]) -> object:
    """Parse ``text``; invalid YAML raises ``error`` naming ``where`` and the line."""
    import yaml

    loader = getattr(yaml, "CSafeLoader", yaml.SafeLoader)  # SafeLoader: PyYAML without libyaml
    try:
        return yaml.load(text, Loader=loader)
    except yaml.YAMLError as exc:
        mark = getattr(exc, "problem_mark", None)
        line = f" (line {mark.line + 1})" if mark is not None else ""
        raise error(f"malformed {where}: not valid YAML{line}") from None


def dump(data: object) -> str:
    import yaml

    dumper = getattr(yaml, "CSafeDumper", yaml.SafeDumper)
    return str(yaml.dump(data, Dumper=dumper, sort_keys=False, allow_unicode=True, width=10_000))
