#!/bin/sh
# Check that a commit's results are reproducible: fetch what dvlite.lock records, run what is
# out of date, and fail when any result (or dvlite.lock itself) differs from the commit.
# Run it at the root of a fresh clone, with dvlite installed and the remote's credentials set.
set -eu

dvlite repro --pull --jobs "${DVLITE_JOBS:-2}"

if ! dvlite status --quiet; then
    echo "The commit's results are not reproducible, or dvlite.lock is out of date:" >&2
    dvlite status >&2
    git --no-pager diff --stat HEAD -- dvlite.lock >&2 || true
    exit 1
fi
echo "Reproduced: every stage is up to date and matches the commit."
