"""`Data` and `Len` (Blowfish-ECB, or AES-CBC for some merchants) and the HMAC-SHA256 `MAC`.

Decryption reports what went wrong precisely (odd-length hex, a key of the wrong size, a `Len`
that does not fit), because the person reading it is helping a merchant fix their code.
"""

from __future__ import annotations

import binascii
import hashlib
import hmac
import os
from dataclasses import dataclass

from Crypto.Cipher import AES, Blowfish

BLOWFISH_BLOCK = 8
AES_BLOCK = 16


class CryptoError(ValueError):
    """Data that cannot be decrypted as it is; `code` is stable, for findings and scripts."""

    def __init__(self, code: str, message: str) -> None:
        super().__init__(message)
        self.code = code
        self.message = message


@dataclass(frozen=True)
class Decrypted:
    plaintext: bytes  # cut at Len when it was given
    algorithm: str  # "blowfish" or "aes"
    padded_length: int  # bytes decrypted, before the cut


def _key_bytes(key: str | bytes) -> bytes:
    return key.encode("utf-8") if isinstance(key, str) else key


def _unhex(text: str, what: str) -> bytes:
    text = text.strip()
    if len(text) % 2:
        raise CryptoError(
            "hex_odd_length",
            f"{what} has an odd number of hex digits ({len(text)}): it was cut or mistyped",
        )
    try:
        return binascii.unhexlify(text)
    except (binascii.Error, ValueError):
        bad = next((c for c in text if c not in "0123456789abcdefABCDEF"), "?")
        raise CryptoError("hex_invalid", f"{what} is not hexadecimal (found {bad!r})") from None


def _blowfish(key: str | bytes) -> object:
    raw = _key_bytes(key)
    if not 4 <= len(raw) <= 56:
        raise CryptoError(
            "key_length", f"a Blowfish key has 4 to 56 bytes, this one has {len(raw)}"
        )
    return Blowfish.new(raw, Blowfish.MODE_ECB)


def _aes_key(key: str | bytes) -> bytes:
    raw = _key_bytes(key)
    if len(raw) not in (16, 24, 32):
        raise CryptoError(
            "key_length", f"an AES key has 16, 24 or 32 bytes, this one has {len(raw)}"
        )
    return raw


def blowfish_encrypt(plaintext: bytes, key: str | bytes) -> tuple[str, int]:
    """(Data, Len): upper-case hex of the zero-padded plaintext, and its length before padding."""
    padded = plaintext + b"\0" * (-len(plaintext) % BLOWFISH_BLOCK)
    return _blowfish(key).encrypt(padded).hex().upper(), len(plaintext)  # type: ignore[attr-defined]


def aes_encrypt(plaintext: bytes, key: str | bytes, iv: bytes | None = None) -> tuple[str, int]:
    """(Data, Len) of the AES-CBC variant: `hex(IV)-hex(ciphertext)`, PKCS#7-padded."""
    iv = iv if iv is not None else os.urandom(AES_BLOCK)
    pad = AES_BLOCK - len(plaintext) % AES_BLOCK
    cipher = AES.new(_aes_key(key), AES.MODE_CBC, iv)
    ciphertext = cipher.encrypt(plaintext + bytes([pad]) * pad)
    return f"{iv.hex().upper()}-{ciphertext.hex().upper()}", len(plaintext)


@dataclass(frozen=True)
class Ciphertext:
    algorithm: str  # "blowfish" or "aes"
    body: bytes
    iv: bytes | None


def parse_data(data: str) -> Ciphertext:
    """The shape of a `Data` value, checked without the key (hex, IV, whole blocks)."""
    data = data.strip()
    if not data:
        raise CryptoError("data_empty", "Data is empty")
    if "-" in data:
        iv_hex, _, body_hex = data.partition("-")
        iv = _unhex(iv_hex, "the AES IV")
        if len(iv) != AES_BLOCK:
            raise CryptoError("iv_length", f"the AES IV has {len(iv)} bytes instead of {AES_BLOCK}")
        body = _unhex(body_hex, "Data")
        block, algorithm = AES_BLOCK, "aes"
    else:
        iv = None
        body = _unhex(data, "Data")
        block, algorithm = BLOWFISH_BLOCK, "blowfish"
    if not body or len(body) % block:
        raise CryptoError(
            "block_size", f"Data has {len(body)} bytes, not a multiple of {block}: it was cut"
        )
    return Ciphertext(algorithm, body, iv)


def decrypt(data: str, key: str | bytes, length: int | None = None) -> Decrypted:
    """Decrypt a `Data` value, Blowfish or AES (recognised by the `-` between IV and text)."""
    parsed = parse_data(data)
    algorithm = parsed.algorithm
    if algorithm == "aes":
        padded = AES.new(_aes_key(key), AES.MODE_CBC, parsed.iv).decrypt(parsed.body)
    else:
        padded = _blowfish(key).decrypt(parsed.body)  # type: ignore[attr-defined]
    if length is None:
        plaintext = _strip_padding(padded, algorithm)
    else:
        if length < 0:
            raise CryptoError("len_invalid", f"Len is {length}: it must be a positive number")
        if length > len(padded):
            raise CryptoError(
                "len_too_long",
                f"Len is {length} but Data holds only {len(padded)} bytes",
            )
        block = AES_BLOCK if algorithm == "aes" else BLOWFISH_BLOCK
        if len(padded) - length >= block + (1 if algorithm == "aes" else 0):
            raise CryptoError(
                "len_too_short",
                f"Len is {length} but Data holds {len(padded)} bytes: Len is too small",
            )
        plaintext = padded[:length]
    return Decrypted(plaintext=plaintext, algorithm=algorithm, padded_length=len(padded))


def _strip_padding(padded: bytes, algorithm: str) -> bytes:
    if algorithm == "aes" and padded and 1 <= padded[-1] <= AES_BLOCK:
        pad = padded[-1]
        if padded.endswith(bytes([pad]) * pad):
            return padded[:-pad]
    return padded.rstrip(b"\0")


def mac(hmac_key: str | bytes, *fields: str | int | None) -> str:
    """Upper-case hex HMAC-SHA256 over the fields joined by `*` (an empty field stays empty)."""
    message = "*".join("" if value is None else str(value) for value in fields)
    return (
        hmac.new(_key_bytes(hmac_key), message.encode("utf-8"), hashlib.sha256).hexdigest().upper()
    )


def request_mac(hmac_key: str | bytes, params: dict[str, str]) -> str:
    """`PayID*TransID*MerchantID*Amount*Currency`, from parameters keyed in any case."""
    get = _getter(params)
    return mac(
        hmac_key, get("PayID"), get("TransID"), get("MerchantID"), get("Amount"), get("Currency")
    )


def response_mac(hmac_key: str | bytes, params: dict[str, str]) -> str:
    """`PayID*TransID*MerchantID*Status*Code`, for a response or a notification."""
    get = _getter(params)
    merchant = get("MerchantID") or get("mid")
    return mac(hmac_key, get("PayID"), get("TransID"), merchant, get("Status"), get("Code"))


def mac_matches(expected: str, given: str | None) -> bool:
    """Case-insensitive, constant-time comparison (a timing leak would help forge MACs)."""
    if not given:
        return False
    return hmac.compare_digest(expected.upper().encode(), given.strip().upper().encode())


def _getter(params: dict[str, str]):  # type: ignore[no-untyped-def]
    lowered = {name.lower(): value for name, value in params.items()}
    return lambda name: lowered.get(name.lower(), "")
