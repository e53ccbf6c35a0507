"""One streaming pass over a file: its sha256 and the text encoding to read it with.

The encoding is decided once per file, before any row is read, so a file is never half
UTF-8 and half cp1252: UTF-8 (BOM optional) if every byte decodes; UTF-8 as well when it
starts with a UTF-16 BOM (Excel "Unicode Text") → UTF-16; UTF-8 *with stray bytes* when
most of its non-ASCII text is valid UTF-8 and only a few bytes are not (one pasted cp1252
character in a UTF-8 export): the file stays UTF-8 and only the rows holding those bytes
are refused (``stray_bytes``); else cp1252 (Excel on Windows); else ``None``
(undecodable).
"""

from __future__ import annotations

import codecs
import hashlib
import re
from dataclasses import dataclass
from pathlib import Path
from typing import Final

CHUNK: Final = 1 << 18

UTF8: Final = "utf-8-sig"
UTF16: Final = "utf-16"
CP1252: Final = "cp1252"

_CP1252_UNDEFINED = re.compile(rb"[\x81\x8d\x8f\x90\x9d]")
_UTF16_BOMS = (codecs.BOM_UTF16_LE, codecs.BOM_UTF16_BE)


@dataclass(frozen=True, slots=True)
class Probe:
    sha256: str
    encoding: str | None
    size: int
    stray_bytes: int = 0
    """UTF-8 files only: bytes that are not UTF-8 (read as lone surrogates, their rows
    refused one by one)."""


_STRAY = re.compile("[\udc80-\udcff]")
_NON_ASCII = re.compile("[^\x00-\x7f]")


def has_stray_bytes(text: str) -> bool:
    """``text`` read with ``surrogateescape`` holds a byte that was not UTF-8."""
    return _STRAY.search(text) is not None


def sha256_of(path: Path) -> str:
    digest = hashlib.sha256()
    with path.open("rb") as f:
        while chunk := f.read(CHUNK):
            digest.update(chunk)
    return digest.hexdigest()


def probe(path: Path) -> Probe:
    digest = hashlib.sha256()
    size = 0
    lenient = codecs.getincrementaldecoder("utf-8")(errors="surrogateescape")
    utf16: codecs.IncrementalDecoder | None = None
    cp1252_ok = True
    stray = wide = 0
    with path.open("rb") as f:
        while chunk := f.read(CHUNK):
            if size == 0 and chunk.startswith(_UTF16_BOMS):
                utf16 = codecs.getincrementaldecoder(UTF16)()
            digest.update(chunk)
            size += len(chunk)
            stray, wide = _count(lenient.decode(chunk), stray, wide)
            utf16 = _feed(utf16, chunk)
            cp1252_ok = cp1252_ok and not _CP1252_UNDEFINED.search(chunk)
    stray, wide = _count(lenient.decode(b"", True), stray, wide)
    utf16 = _feed(utf16, b"", final=True)
    encoding: str | None
    if stray == 0:
        encoding, kept = UTF8, 0
    elif utf16:
        encoding, kept = UTF16, 0
    elif wide >= stray:  # mostly valid UTF-8: a few stray bytes, refused row by row
        encoding, kept = UTF8, stray
    else:
        encoding, kept = (CP1252 if cp1252_ok else None), 0
    return Probe(sha256=digest.hexdigest(), encoding=encoding, size=size, stray_bytes=kept)


def _count(text: str, stray: int, wide: int) -> tuple[int, int]:
    """Add the stray bytes and the valid non-ASCII characters of ``text``."""
    if text.isascii():
        return stray, wide
    bad = len(_STRAY.findall(text))
    return stray + bad, wide + len(_NON_ASCII.findall(text)) - bad


def _feed(decoder: codecs.IncrementalDecoder | None, chunk: bytes,
          final: bool = False) -> codecs.IncrementalDecoder | None:
    """Feed ``chunk``; the decoder, or ``None`` once the bytes proved invalid for it."""
    if decoder is None:
        return None
    try:
        decoder.decode(chunk, final)
    except UnicodeDecodeError:
        return None
    return decoder
