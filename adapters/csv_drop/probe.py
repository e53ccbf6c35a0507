"""One streaming pass over a file: its sha256 and the text encoding to read it with.

The encoding is decided once per file, before any row is read, so a file is never half
UTF-8 and half cp1252: UTF-8 (BOM optional) if every byte decodes, else UTF-16 when it
starts with a UTF-16 BOM (Excel "Unicode Text"), else cp1252 (Excel on Windows), else
``None`` (undecodable).
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


def sha256_of(path: Path) -> str:
    digest = hashlib.sha256()
    with path.open("rb") as f:
        while chunk := f.read(CHUNK):
            digest.update(chunk)
    return digest.hexdigest()


def probe(path: Path) -> Probe:
    digest = hashlib.sha256()
    size = 0
    utf8: codecs.IncrementalDecoder | None = codecs.getincrementaldecoder("utf-8")()
    utf16: codecs.IncrementalDecoder | None = None
    cp1252_ok = True
    with path.open("rb") as f:
        while chunk := f.read(CHUNK):
            if size == 0 and chunk.startswith(_UTF16_BOMS):
                utf16 = codecs.getincrementaldecoder(UTF16)()
            digest.update(chunk)
            size += len(chunk)
            utf8 = _feed(utf8, chunk)
            utf16 = _feed(utf16, chunk)
            cp1252_ok = cp1252_ok and not _CP1252_UNDEFINED.search(chunk)
    utf8 = _feed(utf8, b"", final=True)
    utf16 = _feed(utf16, b"", final=True)
    encoding = UTF8 if utf8 else UTF16 if utf16 else CP1252 if cp1252_ok else None
    return Probe(sha256=digest.hexdigest(), encoding=encoding, size=size)


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
