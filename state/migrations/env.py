"""Alembic environment: always run programmatically with a connection in
``config.attributes["connection"]`` (see ``state.db.migrate``)."""

from __future__ import annotations

from alembic import context

from state.schema import metadata

connection = context.config.attributes["connection"]
context.configure(
    connection=connection,
    target_metadata=metadata,
    render_as_batch=connection.dialect.name == "sqlite",
)
context.run_migrations()
