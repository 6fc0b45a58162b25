"""Remembering: SQLAlchemy models, Alembic migrations and the repository.

Importing this package is cheap; SQLAlchemy is only loaded by the modules that need it.
"""
