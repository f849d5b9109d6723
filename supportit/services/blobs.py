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
        tmp.write_bytes(data)
        os.replace(tmp, path)
    return digest
