"""Backup and restore of a whole install: database and object store (python -m server backup / restore)."""
