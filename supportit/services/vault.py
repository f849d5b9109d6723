"""Secrets at rest: merchants' Paygate keys sealed with AES-GCM under a key derived from the app's
secret.

A sealed value reads `v1:<key id>:<base64 of nonce, ciphertext and tag>`. The key id names the
secret that sealed it, so after the operator changes SUPPORTIT_SECRET_KEY (keeping the old one in
SUPPORTIT_SECRET_KEY_FALLBACKS) old values still open and `rotate` knows which to re-seal. The
associated data binds a value to its row and purpose: a sealed HMAC key copied into another
merchant's row, or into the Blowfish column, does not open.
"""

from __future__ import annotations

import base64
import binascii
import hashlib
import os
from dataclasses import dataclass

from Crypto.Cipher import AES
from Crypto.Hash import SHA256
from Crypto.Protocol.KDF import HKDF
from flask import current_app

_VERSION = "v1"
_CONTEXT = b"supportit/paygate-merchant-keys/v1"


class VaultError(Exception):
    """A sealed value that cannot be opened: its secret is gone, or the value was altered."""


@dataclass(frozen=True)
class _Key:
    id: str
    raw: bytes


def _derive(secret: str) -> _Key:
    raw = HKDF(secret.encode("utf-8"), 32, b"supportit", SHA256, context=_CONTEXT)
    assert isinstance(raw, bytes)
    return _Key(hashlib.sha256(raw).hexdigest()[:12], raw)


def _keyring() -> list[_Key]:
    """The current secret's key first, then those of the fallbacks."""
    secrets = [
        current_app.config["SECRET_KEY"],
        *current_app.config.get("SECRET_KEY_FALLBACKS", []),
    ]
    return [_derive(secret) for secret in secrets if secret]


def current_key_id() -> str:
    return _keyring()[0].id


def seal(value: str, purpose: str) -> str:
    key = _keyring()[0]
    nonce = os.urandom(12)
    cipher = AES.new(key.raw, AES.MODE_GCM, nonce=nonce)
    cipher.update(purpose.encode("utf-8"))
    ciphertext, tag = cipher.encrypt_and_digest(value.encode("utf-8"))
    return f"{_VERSION}:{key.id}:{base64.b64encode(nonce + ciphertext + tag).decode('ascii')}"


def key_id_of(sealed: str) -> str | None:
    parts = sealed.split(":")
    return parts[1] if len(parts) == 3 and parts[0] == _VERSION else None


def open_sealed(sealed: str, purpose: str) -> str:
    parts = sealed.split(":")
    if len(parts) != 3 or parts[0] != _VERSION:
        raise VaultError("not a sealed value")
    key = next((k for k in _keyring() if k.id == parts[1]), None)
    if key is None:
        raise VaultError(
            "sealed under a secret this instance no longer has: put the old secret in "
            "SUPPORTIT_SECRET_KEY_FALLBACKS, or enter the keys again"
        )
    try:
        blob = base64.b64decode(parts[2], validate=True)
    except (binascii.Error, ValueError):
        raise VaultError("the sealed value is damaged") from None
    cipher = AES.new(key.raw, AES.MODE_GCM, nonce=blob[:12])
    cipher.update(purpose.encode("utf-8"))
    try:
        return cipher.decrypt_and_verify(blob[12:-16], blob[-16:]).decode("utf-8")
    except (ValueError, UnicodeDecodeError):
        raise VaultError("the sealed value was altered or belongs elsewhere") from None
