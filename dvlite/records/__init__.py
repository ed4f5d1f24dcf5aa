"""Records: what a repository says it holds, and the workspace compared against it.

``repo`` opens a repository (its config, cache and state); ``recorded`` is the one value for a
recorded object, which ``pointer`` (``*.dvl``) and ``lockfile`` (``dvlite.lock``) hold;
``pipeline`` (``dvlite.yaml``; its stages' ``plots:`` in ``plotspec``), ``params``,
``runcache`` and ``gitignore`` read and write the other committed files; ``dag`` draws the
stage graph; ``tracked`` is every recorded path; ``workspace`` reads and hashes the working
tree one folder at a time, and ``compare`` compares it with them and with the cache.
Imports only from ``objects`` and the floor modules (errors, progress, safepath, secrets).
"""
