"""Write-once files addressed by their SHA-256: attachments and raw inbound mail."""

from __future__ import annotations

import hashlib
import os
from pathlib import Path


def path_for(base_dir: str | Path, sha256: str) -> Path:
    return Path(base_dir) / sha256[:2] / sha256


def write(base_dir: str | Path, data: bytes) -> str:
    """Store `data` once under `base_dir`; returns its SHA-256. Atomic: no half-written file."""
    digest = hashlib.sha256(data).hexdigest()
    path = path_for(base_dir, digest)
    if not path.exists():
        path.parent.mkdir(parents=True, exist_ok=True)
        tmp = path.with_suffix(f".tmp{os.getpid()}")
        with tmp.open("wb") as file:
            file.write(data)
            file.flush()
            # On disk before anyone is told it is stored: an SMTP 250 must survive a power cut.
            os.fsync(file.fileno())
        os.replace(tmp, path)
        _fsync_directory(path.parent)
    return digest


def _fsync_directory(directory: Path) -> None:
    """Make the new name itself durable (POSIX keeps directory entries separately)."""
    try:
        fd = os.open(directory, os.O_RDONLY)
    except OSError:  # some platforms cannot open a directory; the data itself is synced
        return
    try:
        os.fsync(fd)
    finally:
        os.close(fd)
