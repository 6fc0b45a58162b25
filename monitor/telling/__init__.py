"""Telling curators: digests rendered apart from being sent, notifications, the outbox."""
