"""Paygate parameters: reading `Key=Value&...` as merchants paste it, and the formats of seed 001.

Paygate reads parameter names in any case and in any order and may add new ones at any time, so
parsing keeps every pair as given (name spelling included) and lookups ignore case.
"""

from __future__ import annotations

import re
from dataclasses import dataclass
from functools import cached_property
from urllib.parse import unquote

from babel import Locale
from babel.numbers import list_currencies

from supportit.paygate.text import N_


@dataclass(frozen=True)
class Pair:
    name: str  # as the merchant spelled it
    value: str


@dataclass(frozen=True)
class Stray:
    """A piece of the paste that is not `Key=Value` (kept so the report can point at it)."""

    text: str


def parse_pairs(text: str) -> tuple[list[Pair], list[Stray]]:
    """Split a query string, form body or decrypted plaintext into pairs, in their order.

    A whole URL is accepted (the part after `?` is read). Values are split at the first `=` only,
    because Base64 objects end with `=`; `%XX` escapes are decoded but `+` is kept, since in a
    Base64 value it is data, not a space.
    """
    text = text.strip()
    if re.match(r"^https?://", text, re.IGNORECASE) and "?" in text:
        text = text.split("?", 1)[1]
    pairs: list[Pair] = []
    strays: list[Stray] = []
    # Line breaks separate pairs as `&` does (a paste of one pair per line). Plain `str.split`:
    # a regular expression took 45 µs for a 5 kB request, a tenth of the inspector's time.
    for piece in text.replace("\r", "&").replace("\n", "&").split("&"):
        piece = piece.strip()
        if not piece:
            continue
        name, sep, value = piece.partition("=")
        if not sep or not name.strip():
            strays.append(Stray(piece[:80]))
            continue
        pairs.append(Pair(name.strip(), _unescape(value)))
    return pairs, strays


def _unescape(value: str) -> str:
    if "%" not in value:
        return value
    try:
        return unquote(value, errors="strict")
    except UnicodeDecodeError:
        # Escapes of ISO-8859-1 bytes (%E9 for é), as older shops and Paygate itself send them.
        return unquote(value, encoding="latin-1")


class Params:
    """Case-insensitive view of the pairs (the first occurrence of a name wins)."""

    def __init__(self, pairs: list[Pair]) -> None:
        self.pairs = pairs
        self._by_name: dict[str, Pair] = {}
        for pair in pairs:
            self._by_name.setdefault(pair.name.lower(), pair)

    def get(self, name: str) -> str | None:
        pair = self._by_name.get(name.lower())
        return pair.value if pair else None

    def spelling(self, name: str) -> str | None:
        pair = self._by_name.get(name.lower())
        return pair.name if pair else None

    def __contains__(self, name: object) -> bool:
        return isinstance(name, str) and name.lower() in self._by_name

    def as_dict(self) -> dict[str, str]:
        return {pair.name: pair.value for pair in self._by_name.values()}

    def lowered(self) -> dict[str, str]:
        return {name: pair.value for name, pair in self._by_name.items()}


# --- formats -------------------------------------------------------------------------------------

_FORMAT = re.compile(r"^(a|as|n|an|ans|ns)(\.\.)?(\d+)$")

# What each data format of seed 001 lets through. Letters include accented ones (French names);
# "with special characters" means punctuation and spaces too. Control characters never pass.
CHARSETS = {
    "a": re.compile(r"^[^\W\d_]+$"),
    "as": re.compile(r"^[^\d\x00-\x1f\x7f]+$"),
    "n": re.compile(r"^[0-9]+$"),
    "an": re.compile(r"^[A-Za-z0-9]+$"),
    "ans": re.compile(r"^[^\x00-\x1f\x7f]+$"),
    "ns": re.compile(r"^[^A-Za-z\x00-\x1f\x7f]+$"),
}

CHARSET_NAMES = {
    "a": N_("letters only"),
    "as": N_("letters and special characters, no digits"),
    "n": N_("digits only"),
    "an": N_("letters and digits only"),
    "ans": N_("letters, digits and special characters"),
    "ns": N_("digits and special characters, no letters"),
}


@dataclass(frozen=True)
class Spec:
    name: str  # as Paygate spells it
    format: str  # seed 001's notation: "ans..30", "n..10", "a3", "bool", "dttm", "enum"
    values: tuple[str, ...] = ()  # allowed values, for enums
    kind: str = ""  # an extra check: "amount", "currency", "country", "date", "email", "url"

    # Read for each value of each request inspected: worked out once per parameter.
    @cached_property
    def charset(self) -> str | None:
        match = _FORMAT.match(self.format)
        return match.group(1) if match else None

    @cached_property
    def length(self) -> tuple[int, bool] | None:
        """(length, fixed) for `a3` / `ans..30` formats."""
        match = _FORMAT.match(self.format)
        return (int(match.group(3)), match.group(2) is None) if match else None


def _specs(*specs: Spec) -> dict[str, Spec]:
    return {spec.name.lower(): spec for spec in specs}


_URL = "ans..256"

# The FLOA Pay request parameters (authorisation, capture, credit, reverse) and the result
# parameters, with their formats as Computop documents them for FLOA Pay.
REQUEST = _specs(
    Spec("MerchantID", "ans..30"),
    Spec("TransID", "ans..64"),
    Spec("PayID", "an32"),
    Spec("RefNr", "ans..30"),
    Spec("Amount", "n..10", kind="amount"),
    Spec("Currency", "a3", kind="currency"),
    Spec("MAC", "an64"),
    Spec("URLSuccess", _URL, kind="url"),
    Spec("URLFailure", _URL, kind="url"),
    Spec("URLNotify", _URL, kind="url"),
    Spec("URLBack", _URL, kind="url"),
    Spec("Homepage", _URL, kind="url"),
    Spec("Response", "enum", values=("encrypt",)),
    Spec("ReqID", "ans..32"),
    Spec("OrderDesc", "ans..768"),
    Spec("UserData", "ans..1024"),
    Spec("Date", "ns..10"),
    Spec("ActivationDelay", "n..3"),
    Spec("MerchantIDExt", "ans..30"),
    Spec("PayType", "an..10"),
    Spec("Language", "as..5"),
    Spec("CustomerID", "ans..64"),
    Spec("Salutation", "as..10"),
    Spec("LastName", "as..50"),
    Spec("FirstName", "as..50"),
    Spec("MaidenName", "as..50"),
    Spec("DateOfBirth", "ns10", kind="date"),
    Spec("PlaceOfBirth", "ans..50"),
    Spec("MobileNr", "ns..20"),
    Spec("Email", "ans..100", kind="email"),
    Spec("AddrStreet", "ans..50"),
    Spec("AddrStreet2", "ans..50"),
    Spec("AddrZIP", "ans..10"),
    Spec("AddrCity", "ans..50"),
    Spec("AddrCountryCode", "a2", kind="country"),
    Spec("PersonID", "an..20"),
    Spec("Channel", "a..20"),
    Spec("DeliveryChannel", "an..20"),
    Spec("NumberArticles", "n..3"),
    Spec("Fee", "n..10", kind="amount"),
    Spec("Discount", "n..10", kind="amount"),
    Spec("shAmount", "n..10", kind="amount"),
    Spec("sdFirstName", "as..50"),
    Spec("sdLastName", "as..50"),
    Spec("sdStreet", "ans..50"),
    Spec("sdStreet2", "ans..50"),
    Spec("sdCity", "ans..50"),
    Spec("sdZip", "ans..10"),
    Spec("sdCountryCode", "a2", kind="country"),
    Spec("Capture", "ans..6"),
    Spec("Reason", "ans..1024"),
)

RESPONSE = _specs(
    Spec("mid", "ans..30"),
    Spec("MerchantID", "ans..30"),
    Spec("PayID", "an32"),
    Spec("XID", "an32"),
    Spec("TransID", "ans..64"),
    Spec("RefNr", "ans..30"),
    Spec("Status", "ans..50"),
    Spec("Code", "an8"),
    Spec("Description", "ans..1024"),
    Spec("MAC", "an64"),
    Spec("UserData", "ans..1024"),
    Spec("Amount", "n..10", kind="amount"),
    Spec("Currency", "a3", kind="currency"),
)

JSON_OBJECTS = (
    "CustomerHistory",
    "TravelDetails",
    "StayDetails",
    "ProductDetails",
    "AdditionalFields",
)

CURRENCIES = frozenset(list_currencies())
COUNTRIES = frozenset(
    code for code in Locale("en").territories if len(code) == 2 and code.isalpha()
)
