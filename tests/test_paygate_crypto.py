"""Paygate's encryption and MAC: the public vectors, round trips, and precise errors."""

from __future__ import annotations

import pytest
from hypothesis import given
from hypothesis import strategies as st

from supportit.paygate import crypto
from supportit.paygate.crypto import CryptoError


def test_public_blowfish_vector() -> None:
    data, length = crypto.blowfish_encrypt(b"plaintext", "password")
    assert (data.lower(), length) == ("14ec7a6da0fbb3e50a84b47302443328", 9)
    for case in (data.lower(), data.upper()):  # merchants send either case
        assert crypto.decrypt(case, "password", 9).plaintext == b"plaintext"


def test_public_hmac_vector() -> None:
    expected = "18B40402BBF3FEED824E9F762B412F1108C4D678B2A067425B99963CD68B1D6A"
    assert crypto.mac("password", "value") == expected
    assert crypto.mac_matches(expected, expected.lower())
    assert not crypto.mac_matches(expected, expected[:-1] + "B")
    assert not crypto.mac_matches(expected, None)


def test_request_and_response_macs_use_their_own_fields_in_any_case() -> None:
    params = {"payid": "", "TRANSID": "T1", "MerchantID": "M", "Amount": "55000", "currency": "EUR"}
    assert crypto.request_mac("k", params) == crypto.mac("k", "*T1*M*55000*EUR")
    response = {"PayID": "P1", "TransID": "T1", "mid": "M", "Status": "OK", "Code": "00000000"}
    assert crypto.response_mac("k", response) == crypto.mac("k", "P1*T1*M*OK*00000000")


def test_aes_variant_round_trips_with_its_iv() -> None:
    key = "0123456789abcdef"
    data, length = crypto.aes_encrypt(b"MerchantID=M&Amount=100", key, iv=bytes(range(16)))
    assert data.startswith("000102030405060708090A0B0C0D0E0F-")
    found = crypto.decrypt(data, key, length)
    assert (found.plaintext, found.algorithm) == (b"MerchantID=M&Amount=100", "aes")
    assert crypto.decrypt(data, key).plaintext == b"MerchantID=M&Amount=100"  # without Len


@given(
    st.binary(min_size=1, max_size=300),
    st.text(min_size=4, max_size=56).filter(lambda k: len(k.encode()) <= 56),
)
def test_blowfish_round_trip(plaintext: bytes, key: str) -> None:
    data, length = crypto.blowfish_encrypt(plaintext, key)
    assert crypto.decrypt(data, key, length).plaintext == plaintext


@given(st.binary(max_size=300), st.sampled_from(["k" * 16, "k" * 24, "k" * 32]))
def test_aes_round_trip(plaintext: bytes, key: str) -> None:
    data, length = crypto.aes_encrypt(plaintext, key)
    assert crypto.decrypt(data, key, length).plaintext == plaintext


@pytest.mark.parametrize(
    ("data", "key", "length", "code"),
    [
        ("14ec7a6da0fbb3e50a84b4730244332", "password", 9, "hex_odd_length"),
        ("14ec7a6da0fbb3e50a84b47302443zz8", "password", 9, "hex_invalid"),
        ("14ec7a6da0fbb3e50a84b473024433", "password", 9, "block_size"),
        ("14ec7a6da0fbb3e50a84b47302443328", "pwd", 9, "key_length"),
        ("14ec7a6da0fbb3e50a84b47302443328", "password", 17, "len_too_long"),
        ("14ec7a6da0fbb3e50a84b47302443328", "password", 3, "len_too_short"),
        ("", "password", None, "data_empty"),
        ("0011-00112233445566778899aabbccddeeff", "k" * 16, None, "iv_length"),
        ("00112233445566778899aabbccddeeff-0011", "k" * 16, None, "block_size"),
        (
            "00112233445566778899aabbccddeeff-00112233445566778899aabbccddeeff",
            "k" * 10,
            None,
            "key_length",
        ),
    ],
)
def test_undecryptable_data_says_why(data, key, length, code) -> None:
    with pytest.raises(CryptoError) as error:
        crypto.decrypt(data, key, length)
    assert error.value.code == code
    assert error.value.message


@given(st.text(max_size=200), st.integers(min_value=-5, max_value=500))
def test_anything_pasted_is_decrypted_or_refused_with_a_reason(data: str, length: int) -> None:
    try:
        crypto.decrypt(data, "password", length)
    except CryptoError as error:
        assert error.code and error.message
