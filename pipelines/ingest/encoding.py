"""Text encodings DuckDB's CSV reader cannot handle, converted in Python first.

DuckDB reads UTF-8 only and its `encodings` extension cannot be downloaded here, so a
Windows-1252 file is re-encoded to a temporary UTF-8 file in fixed-size chunks (streaming:
memory does not grow with the file).
"""

from __future__ import annotations

import codecs
import contextlib
import tempfile
from collections.abc import Iterator
from pathlib import Path

CHUNK_BYTES = 1 << 20
UTF8_BOM = codecs.BOM_UTF8


def python_codec(encoding: str) -> str:
    """The codec that decodes a file of this dialect encoding (a UTF-8 BOM is tolerated)."""
    return "utf-8-sig" if encoding.lower().replace("_", "-") in ("utf-8", "utf8") else encoding


class UndecodableBytes(ValueError):
    """Bytes the encoding cannot decode, located by line (header = line 1) and byte offset
    from the start of the file; never the bytes themselves (they may be data)."""

    def __init__(self, encoding: str, line: int, byte_offset: int) -> None:
        self.line, self.byte_offset = line, byte_offset
        super().__init__(f"line {line}, byte offset {byte_offset}: not valid {encoding}")


def decode_or_locate(data: bytes, codec: str, encoding: str, offset: int = 0,
                     line: int = 1) -> str:
    """`data` decoded; UndecodableBytes at the first bad byte (`offset`/`line`: where `data`
    starts in the file)."""
    try:
        return data.decode(codec)
    except UnicodeDecodeError as exc:
        raise UndecodableBytes(encoding, line + data.count(b"\n", 0, exc.start),
                               offset + exc.start) from None


@contextlib.contextmanager
def utf8_copy(path: Path, encoding: str, opener=None) -> Iterator[Path]:
    """Yield a UTF-8 path with the file's content: the file itself when it already is UTF-8,
    else a temporary converted copy, removed afterwards. `opener(path)` opens the source for
    binary reading (the caller's safe open). Raises UndecodableBytes with line and offset."""
    codec = python_codec(encoding)
    if codec == "utf-8-sig":
        yield path
        return
    decoder = codecs.getincrementaldecoder(codec)(errors="strict")
    with tempfile.TemporaryDirectory(prefix="oligo-utf8-") as tmp:
        target = Path(tmp) / path.name
        offset, line = 0, 1
        with (opener or (lambda p: p.open("rb")))(path) as src, target.open("wb") as dst:
            while chunk := src.read(CHUNK_BYTES):
                try:
                    dst.write(decoder.decode(chunk).encode("utf-8"))
                except UnicodeDecodeError as exc:
                    raise UndecodableBytes(encoding, line + chunk.count(b"\n", 0, exc.start),
                                           offset + exc.start) from None
                offset += len(chunk)
                line += chunk.count(b"\n")
            dst.write(decoder.decode(b"", final=True).encode("utf-8"))
        yield target


def line_start_offset(handle, line: int) -> int | None:
    """Byte offset where physical line `line` (1-based) starts in a binary file handle."""
    if line <= 1:
        return 0
    seen, offset = 1, 0
    while chunk := handle.read(CHUNK_BYTES):
        start = 0
        while (found := chunk.find(b"\n", start)) != -1:
            seen += 1
            if seen == line:
                return offset + found + 1
            start = found + 1
        offset += len(chunk)
    return None
