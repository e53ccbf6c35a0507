"""Writing files that hold personal data or secrets: owner-only, replaced atomically."""

from __future__ import annotations

import os
from pathlib import Path

from connector.errors import ConfigurationError


def write_private(path: Path, text: str) -> None:
    """Write ``text`` to ``path`` with mode 600 through a temporary file and a rename, so
    a reader never sees half a file and nobody else can read it."""
    path = path.expanduser()
    tmp = path.with_name(f".{path.name}.tmp")
    try:
        path.parent.mkdir(mode=0o700, parents=True, exist_ok=True)
        fd = os.open(tmp, os.O_WRONLY | os.O_CREAT | os.O_TRUNC, 0o600)
        with os.fdopen(fd, "w", encoding="utf-8", newline="") as fh:
            fh.write(text)
            fh.flush()
            os.fsync(fh.fileno())
        os.chmod(tmp, 0o600)
        tmp.replace(path)
    except OSError as exc:
        raise ConfigurationError(f"cannot write {path}: {exc.strerror or exc}") from exc
