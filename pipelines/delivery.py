"""Batch folders under the exports folder: which are there, when one is complete, and its
signature (what the sensor keys runs by and the delivery gate compares).

Pure file inspection; no Dagster, no warehouse.
"""

from __future__ import annotations

import contextlib
import hashlib
import json
import os
import time
from concurrent.futures import ThreadPoolExecutor
from dataclasses import dataclass
from pathlib import Path

from pipelines.contract import TABLES_BY_NAME

MANIFEST = "manifest.json"


BLOCK_BYTES = 4 << 20  # large reads: hashing runs at disk (or page-cache) speed


def file_sha256(path: Path) -> str:
    digest = hashlib.sha256()
    buffer = bytearray(BLOCK_BYTES)
    view = memoryview(buffer)
    with path.open("rb", buffering=0) as handle:
        while count := handle.readinto(buffer):
            digest.update(view[:count])  # hashlib lets go of the GIL for large blocks
    return digest.hexdigest()


def file_hashes(files: list[Path]) -> list[str]:
    """sha256 of each file, the files read in parallel threads (one per core)."""
    workers = max(1, min(len(files), os.cpu_count() or 1))
    if workers == 1:
        return [file_sha256(f) for f in files]
    with ThreadPoolExecutor(max_workers=workers) as pool:
        # Largest first, so the biggest file does not start last and finish alone.
        order = sorted(range(len(files)), key=lambda i: -files[i].stat().st_size)
        hashes = dict(zip(order, pool.map(file_sha256, [files[i] for i in order]),
                          strict=True))
    return [hashes[i] for i in range(len(files))]


def delivered_files(batch_dir: Path) -> list[Path]:
    """The files of a delivery; hidden files (a copy in progress, editor swap files) are not."""
    from pipelines.ingest.files import is_regular_file  # links, pipes and devices are not

    return sorted(p for p in batch_dir.iterdir()
                  if is_regular_file(p) and not p.name.startswith("."))


def batch_signature(batch_dir: Path) -> str:
    """sha256 over every file's name and sha256: equal signatures mean an identical delivery.
    Every byte is read every time (no cache keyed by size or modification time, which a
    copy can keep while the content changes)."""
    files = delivered_files(batch_dir)
    digest = hashlib.sha256()
    for file, file_hash in zip(files, file_hashes(files), strict=True):
        digest.update(f"{file.name}:{file_hash}\n".encode())
    return digest.hexdigest()


def fingerprint(batch_dir: Path) -> str:
    """Names, sizes and modification times: changes whenever a file does, costs no reading."""
    parts = []
    for file in delivered_files(batch_dir):
        info = file.stat()
        parts.append(f"{file.name}:{info.st_size}:{info.st_mtime_ns}")
    return hashlib.sha256("\n".join(parts).encode()).hexdigest()


def is_batch_folder(folder: Path) -> bool:
    """A folder holding a manifest or a file named after a contract table."""
    return folder.is_dir() and not folder.name.startswith(".") and any(
        f.name == MANIFEST or f.stem in TABLES_BY_NAME for f in folder.iterdir()
    )


def _manifest(folder: Path) -> dict | None:
    with contextlib.suppress(OSError, ValueError):
        data = json.loads((folder / MANIFEST).read_text(encoding="utf-8-sig"))
        return data if isinstance(data, dict) else None
    return None


def discover_batches(exports_dir: Path) -> list[str]:
    """Batch folders, oldest cut-off first (manifest cut-off, else the folder name)."""
    def cutoff(folder: Path) -> str:
        manifest = _manifest(folder) or {}
        return str(manifest.get("data_cutoff_date") or folder.name)

    if not exports_dir.exists():
        return []
    folders = [p for p in exports_dir.iterdir() if is_batch_folder(p)]
    return [p.name for p in sorted(folders, key=lambda p: (cutoff(p), p.name))]


@dataclass(frozen=True)
class Readiness:
    ready: bool
    reason: str


def readiness(batch_dir: Path, quiet_seconds: float, settle_seconds: float = 2.0,
              now: float | None = None) -> Readiness:
    """Is the delivery complete? With a manifest: every file it lists is there with its
    checksum (a half-copied file has another one). Without a manifest, or when checksums
    still differ: no file changed for `quiet_seconds`. A few seconds of quiet always, so a
    copy that is still writing is not hashed."""
    now = time.time() if now is None else now
    files = delivered_files(batch_dir)
    if not files:
        return Readiness(False, "empty folder")
    quiet_for = now - max(f.stat().st_mtime for f in files)
    if quiet_for < settle_seconds:
        return Readiness(False, "files are still changing")
    manifest = _manifest(batch_dir)
    listed = (manifest or {}).get("files")
    if isinstance(listed, dict) and listed:
        missing = [name for name in listed if not (batch_dir / name).is_file()]
        mismatched = [] if missing else [
            name for name, entry in listed.items()
            if isinstance(entry, dict) and "sha256" in entry
            and str(entry["sha256"]).lower() != file_sha256(batch_dir / name)
        ]
        if not missing and not mismatched:
            return Readiness(True, "manifest complete")
        if quiet_for >= quiet_seconds:
            return Readiness(True, f"quiet for {quiet_for:.0f} s; the run reports what the "
                                   "manifest does not match")
        return Readiness(False, f"waiting for {', '.join((missing or mismatched)[:3])}")
    if quiet_for >= quiet_seconds:
        return Readiness(True, f"no manifest; quiet for {quiet_for:.0f} s")
    return Readiness(False, f"no manifest; waiting until files are quiet for "
                            f"{quiet_seconds:.0f} s")
