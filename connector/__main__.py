"""``python -m connector`` is ``sticky-sync``."""

from connector.cli import main

main()
