"""The drop folder: which files are ready to read, and where finished files go.

Every operation here is idempotent, so a crash between two housekeeping steps is
repaired by simply running them again on the next read.
"""

from __future__ import annotations

import contextlib
import os
import stat
from dataclasses import dataclass, field
from pathlib import Path
from typing import Final

from adapters.csv_drop.columns import KINDS, StreamKind
from adapters.csv_drop.probe import sha256_of

PROCESSED: Final = "processed"
REJECTED: Final = "rejected"

_TEMPORARY_SUFFIXES: Final = (".tmp", ".part", ".partial", ".crdownload")


@dataclass(frozen=True, slots=True)
class DropFile:
    path: Path
    kind: StreamKind

    @property
    def name(self) -> str:
        return self.path.name


@dataclass(slots=True)
class Scan:
    ready: list[DropFile] = field(default_factory=list)
    """Complete candidates, in name order (case-insensitive)."""
    waiting: list[DropFile] = field(default_factory=list)
    """Candidates modified less than ``stable_seconds`` ago (maybe still being written)."""
    unrecognized: list[str] = field(default_factory=list)


_PREFIXES: Final[tuple[tuple[str, StreamKind], ...]] = (
    *((kind, kind) for kind in KINDS), ("stores", "locations"))


def kind_of(name: str) -> StreamKind | None:
    """``Orders_2026-11-01.CSV`` -> ``"orders"``, ``stores.csv`` -> ``"locations"``;
    ``None`` for anything else."""
    lower = name.lower()
    if not lower.endswith(".csv"):
        return None
    return next((kind for prefix, kind in _PREFIXES if lower.startswith(prefix)), None)


def is_ignored(name: str) -> bool:
    """Hidden files, Office lock files and partial downloads are silently skipped."""
    lower = name.lower()
    return name.startswith((".", "~$")) or lower.endswith(_TEMPORARY_SUFFIXES)


def scan(drop_dir: Path, now: float, stable_seconds: float) -> Scan:
    """Regular files directly in ``drop_dir`` (sub-folders and symlinks are skipped)."""
    result = Scan()
    with os.scandir(drop_dir) as entries:
        found = sorted(entries, key=lambda e: (e.name.casefold(), e.name))
    for entry in found:
        try:
            st = entry.stat(follow_symlinks=False)
        except FileNotFoundError:  # vanished while listing
            continue
        if not stat.S_ISREG(st.st_mode) or is_ignored(entry.name):
            continue
        kind = kind_of(entry.name)
        if kind is None:
            result.unrecognized.append(entry.name)
            continue
        drop = DropFile(Path(entry.path), kind)
        stable = now - st.st_mtime >= stable_seconds
        (result.ready if stable else result.waiting).append(drop)
    return result


def destination(folder: Path, name: str, sha256: str) -> Path:
    """Where a file with this name and content goes in ``folder``.

    ``folder/name`` unless another content already holds that name, then
    ``<stem>.<sha8><suffix>`` (then ``<stem>.<sha8>-2<suffix>``...). A name already
    holding the same content is reused, which keeps :func:`move` idempotent.
    """
    stem, suffix = Path(name).stem, Path(name).suffix
    candidates = [name, f"{stem}.{sha256[:8]}{suffix}"]
    n = 2
    while True:
        for candidate in candidates:
            target = folder / candidate
            if not target.exists() or _same_content(target, sha256):
                return target
        candidates = [f"{stem}.{sha256[:8]}-{n}{suffix}"]
        n += 1


def _same_content(path: Path, sha256: str) -> bool:
    return path.is_file() and sha256_of(path) == sha256


def move(source: Path, target: Path) -> None:
    """Move ``source`` to ``target`` (same file system); a no-op if it is already gone.
    processed/ and rejected/ are made owner-only (0700) and the kept file 0600: they hold
    personal data whatever the exporter's umask was."""
    target.parent.mkdir(mode=0o700, parents=True, exist_ok=True)
    with contextlib.suppress(FileNotFoundError):
        os.replace(source, target)
        with contextlib.suppress(PermissionError):  # a file another user owns stays as is
            os.chmod(target, 0o600)
