"""The S3 floor: a plain s3fs bulk ``put`` or ``get`` of a folder's files, one call each.

    python bench/s3copy.py put LOCAL_DIR s3://bucket/prefix ENDPOINT
    python bench/s3copy.py get LOCAL_DIR s3://bucket/prefix ENDPOINT LAYOUT_DIR

Both sides are given as explicit file lists (no listing), so this is what the server can do
for the same files with s3fs's default concurrency and nothing else: no hashing, no plan.
"""

from __future__ import annotations

import os
import sys


def main(argv: list[str]) -> int:
    mode, local, remote, endpoint, *layout = argv
    import s3fs

    fs = s3fs.S3FileSystem(endpoint_url=endpoint, skip_instance_cache=True)
    # the file names: the folder that is put, or the folder that was put (for a get)
    top = layout[0] if layout else local
    names = sorted(
        os.path.relpath(os.path.join(d, f), top) for d, _, files in os.walk(top) for f in files
    )
    lpaths = [os.path.join(local, n) for n in names]
    rpaths = [f"{remote}/{n}" for n in names]
    if mode == "put":
        fs.put(lpaths, rpaths)
    else:
        fs.get(rpaths, lpaths)
    return 0


if __name__ == "__main__":
    sys.exit(main(sys.argv[1:]))
