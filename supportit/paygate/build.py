"""Building Paygate messages: signing and encrypting parameters as a shop or Paygate would.

The stand-in Paygate, the benchmark and the tests use these to produce real traffic, so what
they send goes through the same parsing as what merchants paste.
"""

from __future__ import annotations

from collections.abc import Mapping

from supportit.paygate import crypto


def encode(params: Mapping[str, str]) -> str:
    """`Key=Value&Key=Value`, unescaped: the plaintext inside Data is not URL-encoded."""
    return "&".join(f"{name}={value}" for name, value in params.items())


def sign_request(params: Mapping[str, str], hmac_key: str) -> dict[str, str]:
    return {**params, "MAC": crypto.request_mac(hmac_key, dict(params))}


def sign_response(params: Mapping[str, str], hmac_key: str) -> dict[str, str]:
    return {**params, "MAC": crypto.response_mac(hmac_key, dict(params))}


def envelope(
    params: Mapping[str, str],
    key: str,
    merchant_id: str,
    *,
    aes: bool = False,
    encoding: str = "latin-1",
) -> dict[str, str]:
    """The three parameters sent in clear: MerchantID, Len and Data."""
    plaintext = encode(params).encode(encoding, errors="replace")
    encrypt = crypto.aes_encrypt if aes else crypto.blowfish_encrypt
    data, length = encrypt(plaintext, key)
    return {"MerchantID": merchant_id, "Len": str(length), "Data": data}
