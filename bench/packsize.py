"""dvlite with another pack size, for the benchmark only (dvlite's own stays as it is):

    python bench/packsize.py MIB ARGS...

sets ``dvlite.remote.packed.PACK_SIZE`` to MIB MiB, then runs ``dvlite ARGS...`` in this
process, as the ``dvlite`` executable would.
"""

from __future__ import annotations

import sys


def main() -> None:
    del sys.path[0]  # bench/ itself: its git.py would shadow gitpython's package
    mib = int(sys.argv.pop(1))
    from dvlite.remote import packed

    packed.PACK_SIZE = mib << 20
    from dvlite.cli import main as dvlite

    sys.argv[0] = "dvlite"
    dvlite()


if __name__ == "__main__":
    main()
