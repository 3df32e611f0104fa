"""Peer benchmark: django-import-export on the same files as bench.case (issue 20)."""
