"""Git: the one way into git, a plain ``git`` subprocess.

``cmd`` runs git and reads blobs in batches; ``index`` stages pointers and ignores for add and
remove; ``history`` reads the records committed at a revision (``Revisions`` names a set of
them); ``revision`` resolves a revision's pipeline and lock for lineage and metrics.
"""
