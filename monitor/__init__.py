"""Judging and telling: detection, digests, notifications and the command line."""
