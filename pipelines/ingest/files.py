"""Which files of a delivery may be opened at all: regular files inside the batch folder,
under a size cap, with names that stay inside the folder (docs/reliability.md, Files).

A named pipe blocks the reader forever and a symbolic link reads whatever it points to, so
every entry is classified with `lstat` (links not followed) before anything opens it, and
`open_regular` re-checks the opened descriptor (the entry could be swapped in between).
"""

from __future__ import annotations

import os
import re
import stat
import zipfile
from pathlib import Path

MIB = 1 << 20
# Caps, overridable for a site with larger deliveries (and for the tests).
DEFAULT_MAX_FILE_MB = 4096  # CSV and Parquet: the 1,000,000-patient benchmark stays far below
DEFAULT_MAX_XLSX_MB = 64  # XLSX is for small batches
DEFAULT_MAX_XLSX_UNCOMPRESSED_MB = 128  # a sheet's XML expands ~10x again in the parser
MAX_MANIFEST_BYTES = 1 * MIB

# A batch id is one folder name: letters, digits, '.', '_' and '-', not starting with a dot.
_BATCH_ID = re.compile(r"[A-Za-z0-9][A-Za-z0-9._-]{0,127}")


class UnsafeBatchPath(ValueError):
    """A batch id or folder that would leave the exports folder."""


class UnsafeFile(Exception):
    """A batch entry that is not a regular file; the message says what it is, never anything
    read from it."""


class FileTooLarge(UnsafeFile):
    """A regular file above its size cap (or an XLSX expanding beyond its cap)."""


def _cap_mb(variable: str, default: int) -> int:
    try:
        return max(0, int(os.environ.get(variable, default)))
    except ValueError:
        return default


def max_file_bytes(suffix: str) -> int:
    if suffix == ".xlsx":
        return _cap_mb("OLIGO_MAX_XLSX_MB", DEFAULT_MAX_XLSX_MB) * MIB
    return _cap_mb("OLIGO_MAX_FILE_MB", DEFAULT_MAX_FILE_MB) * MIB


def max_xlsx_uncompressed_bytes() -> int:
    return _cap_mb("OLIGO_MAX_XLSX_UNCOMPRESSED_MB", DEFAULT_MAX_XLSX_UNCOMPRESSED_MB) * MIB


def is_valid_batch_id(batch_id: str) -> bool:
    return bool(_BATCH_ID.fullmatch(batch_id or ""))


def batch_folder(exports_dir: Path, batch_id: str) -> Path:
    """`exports_dir/batch_id`, refused when the id is not a plain folder name or the folder is
    a link (or resolves) outside `exports_dir`; FileNotFoundError when it does not exist."""
    if not is_valid_batch_id(batch_id):
        raise UnsafeBatchPath(
            f"{batch_id!r} is not a batch id (one folder name: letters, digits, '.', '_', '-')")
    exports_dir = Path(exports_dir).resolve()
    folder = exports_dir / batch_id
    if folder.is_symlink():
        raise UnsafeBatchPath(f"batch folder {folder} is a symbolic link; deliver a real folder")
    if not folder.is_dir():
        raise FileNotFoundError(f"no batch folder {folder}")
    if folder.resolve().parent != exports_dir:
        raise UnsafeBatchPath(f"batch folder {folder} is outside {exports_dir}")
    return folder


def is_plain_file_name(name: str) -> bool:
    """A name that stays inside the folder: no separator, no leading dot, no NUL."""
    return bool(name) and not name.startswith(".") and not any(c in name for c in "/\\\0")


def entry_kind(path: Path) -> str | None:
    """None for a regular file, else what the entry is, in words (links not followed)."""
    try:
        mode = os.lstat(path).st_mode
    except OSError as exc:
        return f"not readable ({exc.strerror})"
    if stat.S_ISREG(mode):
        return None
    if stat.S_ISLNK(mode):
        try:
            inside = path.resolve().parent == path.parent.resolve()
        except OSError:
            inside = False
        return "a symbolic link" + ("" if inside else " to outside the batch folder")
    if stat.S_ISFIFO(mode):
        return "a named pipe"
    if stat.S_ISCHR(mode) or stat.S_ISBLK(mode):
        return "a device"
    if stat.S_ISSOCK(mode):
        return "a socket"
    if stat.S_ISDIR(mode):
        return "a folder"
    return "not a regular file"


def is_regular_file(path: Path) -> bool:
    return entry_kind(path) is None


def open_regular(path: Path, max_bytes: int | None = None):
    """Open `path` for binary reading only if it is a regular file (no link followed, a pipe
    never blocks the open) of at most `max_bytes`; raises UnsafeFile."""
    try:
        fd = os.open(path, os.O_RDONLY | os.O_NOFOLLOW | os.O_NONBLOCK | os.O_CLOEXEC)
    except OSError as exc:
        kind = entry_kind(path)
        raise UnsafeFile(f"{path.name} is {kind}" if kind else
                         f"{path.name} cannot be opened ({exc.strerror})") from None
    info = os.fstat(fd)
    if not stat.S_ISREG(info.st_mode):
        os.close(fd)
        raise UnsafeFile(f"{path.name} is {entry_kind(path) or 'not a regular file'}")
    if max_bytes is not None and info.st_size > max_bytes:
        os.close(fd)
        raise FileTooLarge(f"{path.name} is {info.st_size / MIB:.1f} MiB, above the cap of "
                         f"{max_bytes / MIB:.0f} MiB")
    os.set_blocking(fd, True)
    return os.fdopen(fd, "rb")


def check_xlsx_expansion(path: Path, max_bytes: int | None = None) -> None:
    """Refuse an XLSX whose members expand beyond `max_bytes`, counted by decompressing
    (the sizes a zip declares can lie), before any spreadsheet parser sees it."""
    limit = max_xlsx_uncompressed_bytes() if max_bytes is None else max_bytes
    with open_regular(path) as handle, zipfile.ZipFile(handle) as archive:
        members = archive.infolist()
        expanded = sum(m.file_size for m in members)  # declared: refuses the honest bombs
        if expanded <= limit:
            expanded = 0
            for member in members:
                with archive.open(member) as stream:
                    while chunk := stream.read(MIB):
                        expanded += len(chunk)
                        if expanded > limit:
                            break
                if expanded > limit:
                    break
    if expanded > limit:
        raise FileTooLarge(f"{path.name} expands to more than {limit / MIB:.0f} MiB uncompressed "
                         "(the cap for XLSX)")
