"""Objects: the content-addressed layer every other one stands on. ``hashing`` (XXH3-128 oids),
``tree`` (Merkle trees of a folder and the one walker over them), ``store`` (the object store
of the cache and folder remotes, and the one fan-out lister), ``cache`` (the repository's
store), ``copying`` (hash while copying), ``state`` (the stat cache), ``fsutil`` (atomic writes,
links, temporary files) and ``oslock`` (one writer at a time). Nothing here knows about
pointers, pipelines, git or remotes."""
