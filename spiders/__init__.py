"""Observing: the Scrapy spiders and their settings.

Spiders fetch pages and yield plain observation items (see ``spiders.items``). They never judge
what they saw and never touch the database.
"""
