"""YAML in and out, for pointers, dvlite.yaml, dvlite.lock and params files. PyYAML is
imported only when one of these runs: a pointer as dvlite writes it never needs it."""

from __future__ import annotations

from collections.abc import Iterable
from functools import cache
from typing import Any

from dvlite.errors import DvliteError

_STR = "tag:yaml.org,2002:str"
_TYPED = frozenset(f"tag:yaml.org,2002:{t}" for t in ("bool", "int", "float"))


def load(
    text: str, where: str, error: type[DvliteError], *, text_keys: Iterable[str] = ()
) -> object:
    """Parse ``text``; invalid YAML raises ``error`` naming ``where`` and the line. The value of
    a key in ``text_keys`` stays the text written, where YAML would read a bool or a number:
    ``cmd: false`` is the shell command ``false``, not False."""
    import yaml

    loader = _loader(frozenset(text_keys))
    try:
        return yaml.load(text, Loader=loader)
    except yaml.YAMLError as exc:
        mark = getattr(exc, "problem_mark", None)
        line = f" (line {mark.line + 1})" if mark is not None else ""
        raise error(f"malformed {where}: not valid YAML{line}") from None


@cache
def _loader(text_keys: frozenset[str]) -> type:
    import yaml

    base = getattr(yaml, "CSafeLoader", yaml.SafeLoader)  # SafeLoader: PyYAML without libyaml
    if not text_keys:
        return base

    class TextKeysLoader(base):  # type: ignore[misc, valid-type]
        def construct_mapping(self, node: Any, deep: bool = False) -> Any:
            for key, value in node.value:
                if not isinstance(key, yaml.ScalarNode) or key.value not in text_keys:
                    continue
                items = value.value if isinstance(value, yaml.SequenceNode) else [value]
                for item in items:  # a list of commands too
                    if isinstance(item, yaml.ScalarNode) and item.tag in _TYPED:
                        item.tag = _STR  # its value is the text as written: "yes", "1e3"
            return super().construct_mapping(node, deep)

    return TextKeysLoader


def dump(data: object) -> str:
    import yaml

    dumper = getattr(yaml, "CSafeDumper", yaml.SafeDumper)
    return str(yaml.dump(data, Dumper=dumper, sort_keys=False, allow_unicode=True, width=10_000))
