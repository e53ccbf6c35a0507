"""``sticky-sync daemon``: each source on its own schedule in one long-lived process,
with a health and metrics server, and a graceful stop on SIGTERM (docs/operations.md)."""
