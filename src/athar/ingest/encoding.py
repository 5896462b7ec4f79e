"""Find a text file's encoding and content hash in one streaming pass.

Accepted: UTF-8 with or without BOM, UTF-16 with BOM, and Windows-1256 (Arabic Windows).
Windows-1256 decodes almost any bytes, so it is accepted only when the text it gives
contains Arabic letters and no control characters; anything else is refused with a reason
(the caller treats the file as unusable).  Line ends (LF, CRLF, CR) are left to the reader.
"""

from __future__ import annotations

import codecs
import hashlib
import re
from dataclasses import dataclass
from pathlib import Path

CHUNK = 1 << 20
_ARABIC = re.compile("[\u0621-\u064a]")
_LATIN_ACCENTED = re.compile("[\u00c0-\u00ff]")
_CONTROL = re.compile("[\x00-\x08\x0b\x0c\x0e-\x1f\x7f-\x9f]")


@dataclass(frozen=True)
class Sniffed:
    content_hash: str  # SHA-256 of the file's bytes
    size: int
    encoding: str | None  # a Python codec name for text files; None if not decodable
    problem: str | None = None


def file_hash(path: Path) -> tuple[str, int]:
    h = hashlib.sha256()
    size = 0
    with open(path, "rb") as f:
        while chunk := f.read(CHUNK):
            h.update(chunk)
            size += len(chunk)
    return h.hexdigest(), size


def _cp1256_looks_arabic(path: Path) -> bool:
    cp = codecs.getincrementaldecoder("cp1256")("strict")
    arabic = latin = 0
    with open(path, "rb") as f:
        while chunk := f.read(CHUNK):
            t = cp.decode(chunk)
            if _CONTROL.search(t):
                return False
            arabic += len(_ARABIC.findall(t))
            latin += len(_LATIN_ACCENTED.findall(t))
    return arabic > 0 and arabic >= latin


def sniff_text(path: Path) -> Sniffed:
    """Hash the file and find its encoding (one streaming pass; two for Windows-1256)."""
    h = hashlib.sha256()
    size = 0
    head = b""
    utf8 = codecs.getincrementaldecoder("utf-8")("strict")
    utf8_ok, nul = True, False
    with open(path, "rb") as f:
        while chunk := f.read(CHUNK):
            if not head:
                head = chunk[:4]
            h.update(chunk)
            size += len(chunk)
            nul = nul or b"\x00" in chunk
            if utf8_ok:
                try:
                    utf8.decode(chunk)
                except UnicodeDecodeError:
                    utf8_ok = False
    if utf8_ok:
        try:
            utf8.decode(b"", final=True)
        except UnicodeDecodeError:
            utf8_ok = False
    digest = h.hexdigest()
    if head.startswith((codecs.BOM_UTF16_LE, codecs.BOM_UTF16_BE)):
        return Sniffed(digest, size, "utf-16")
    if nul:
        return Sniffed(
            digest, size, None, "the file contains NUL bytes: it is binary, or UTF-16 without BOM"
        )
    if utf8_ok:
        return Sniffed(digest, size, "utf-8-sig" if head.startswith(codecs.BOM_UTF8) else "utf-8")
    if _cp1256_looks_arabic(path):
        return Sniffed(digest, size, "cp1256")
    return Sniffed(
        digest,
        size,
        None,
        "the file is neither UTF-8 nor Windows-1256 Arabic text; save it as UTF-8",
    )
