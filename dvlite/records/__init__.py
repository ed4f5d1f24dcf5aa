"""Records: what a repository says it holds, and the workspace it says it of.

``repo`` opens a repository (its config, cache and state); ``pointer`` (``*.dvl``),
``lockfile`` (``dvlite.lock``), ``pipeline`` (``dvlite.yaml``), ``params``, ``runcache`` and
``gitignore`` read and write the committed files; ``dag`` orders stages; ``tracked`` is every
recorded path; ``workspace`` scans and compares the working tree against them.
Imports only from ``objects`` and the floor modules (errors, progress, safepath, secrets).
"""
