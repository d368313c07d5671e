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


@contextlib.contextmanager
def utf8_copy(path: Path, encoding: str) -> Iterator[Path]:
    """Yield a UTF-8 path with the file's content: the file itself when it already is UTF-8,
    else a temporary converted copy, removed afterwards."""
    codec = python_codec(encoding)
    if codec == "utf-8-sig":
        yield path
        return
    decoder = codecs.getincrementaldecoder(codec)(errors="strict")
    with tempfile.TemporaryDirectory(prefix="oligo-utf8-") as tmp:
        target = Path(tmp) / path.name
        with path.open("rb") as src, target.open("wb") as dst:
            while chunk := src.read(CHUNK_BYTES):
                dst.write(decoder.decode(chunk).encode("utf-8"))
            dst.write(decoder.decode(b"", final=True).encode("utf-8"))
        yield target
