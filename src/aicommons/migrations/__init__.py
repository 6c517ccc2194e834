"""Alembic migrations of the commons' database; `aicommons db upgrade` applies them."""
