"""The inspector: what a merchant sent to Paygate (or received from it), and what is wrong with it.

One function, `inspect`, takes whatever was pasted (a query string, a form body, an encrypted
`MerchantID=…&Len=…&Data=…`, a response or a notification) and returns a `Report`: the parameters,
the decoded JSON objects and findings. It never raises on bad input: whatever cannot be read is a
finding, because the person reading the report is helping a merchant fix their integration.
Keys are used, never copied into the report.
"""

from __future__ import annotations

import re
from dataclasses import dataclass, field
from datetime import date
from typing import Any

from supportit.paygate import crypto
from supportit.paygate.codes import CodeExplanation, explain_code
from supportit.paygate.objects import decode_object
from supportit.paygate.params import (
    CHARSET_NAMES,
    CHARSETS,
    COUNTRIES,
    CURRENCIES,
    JSON_OBJECTS,
    REQUEST,
    RESPONSE,
    Params,
    Spec,
    parse_pairs,
)
from supportit.paygate.text import N_, Message, Translate, english

ERROR, WARNING, INFO = "error", "warning", "info"
SEVERITIES = (ERROR, WARNING, INFO)

# A real request is a few kilobytes; beyond this the paste is not a request (and reading it
# whole would let one paste hold a web worker).
MAX_INPUT = 256 * 1024

_CONTROL = re.compile(r"[\x00-\x08\x0b\x0c\x0e-\x1f]")
_BEYOND_LATIN1 = re.compile(r"[^\x00-\xff]")
_NAME = re.compile(r"^[A-Za-z][A-Za-z0-9_.\-\[\]]{0,63}$")


@dataclass(frozen=True)
class Finding:
    severity: str
    field: str  # the parameter as Paygate spells it ("" for the paste as a whole)
    code: str
    message: Message
    path: str | None = None  # the JSON path inside an object

    def to_dict(self, translate: Translate = english) -> dict[str, str]:
        data = {
            "severity": self.severity,
            "field": self.field,
            "code": self.code,
            "message": self.message.render(translate),
        }
        if self.path is not None:
            data["path"] = self.path
        return data


@dataclass
class Report:
    kind: str = "request"  # "request" or "response" (a response and a notification look alike)
    params: dict[str, str] = field(default_factory=dict)
    objects: dict[str, Any] = field(default_factory=dict)
    unparsed: dict[str, str] = field(default_factory=dict)  # decoded objects that are not JSON
    findings: list[Finding] = field(default_factory=list)
    encrypted: bool = False
    decrypted: bool = False
    algorithm: str | None = None
    code: CodeExplanation | None = None

    @property
    def has_errors(self) -> bool:
        return any(finding.severity == ERROR for finding in self.findings)

    def count(self, severity: str) -> int:
        return sum(1 for finding in self.findings if finding.severity == severity)

    def field_severity(self, name: str) -> str | None:
        """The worst severity among the findings on one parameter (for highlighting a table)."""
        severities = {f.severity for f in self.findings if f.field.lower() == name.lower()}
        return next((s for s in SEVERITIES if s in severities), None)

    def sorted_findings(self) -> list[Finding]:
        return sorted(self.findings, key=lambda f: SEVERITIES.index(f.severity))

    def to_dict(self, translate: Translate = english) -> dict[str, Any]:
        data: dict[str, Any] = {
            "params": self.params,
            "objects": self.objects,
            "findings": [finding.to_dict(translate) for finding in self.sorted_findings()],
            "kind": self.kind,
        }
        if self.unparsed:
            data["unparsed"] = self.unparsed
        if self.encrypted:
            data["encryption"] = {"algorithm": self.algorithm, "decrypted": self.decrypted}
        if self.code is not None:
            data["code"] = {"value": self.code.code, "explanation": self.code.describe(translate)}
        return data


class _Inspection:
    def __init__(self, blowfish_key: str | bytes | None, hmac_key: str | bytes | None) -> None:
        self.report = Report()
        self.blowfish_key = blowfish_key or None
        self.hmac_key = hmac_key or None

    def add(self, severity: str, name: str, code: str, template: str, /, **args: Any) -> None:
        self.report.findings.append(Finding(severity, name, code, Message(template, args)))


def inspect(
    raw: str | bytes,
    blowfish_key: str | bytes | None = None,
    hmac_key: str | bytes | None = None,
) -> Report:
    """Inspect a pasted request, response or notification. Never raises on its content."""
    run = _Inspection(blowfish_key, hmac_key)
    text = _read_text(run, raw)
    if text is None:
        return run.report
    pairs, strays = parse_pairs(text)
    for stray in strays[:5]:
        run.add(
            WARNING,
            "",
            "not_a_parameter",
            N_("“%(text)s” is not a Key=Value pair and was ignored"),
            text=stray.text,
        )
    if not pairs:
        run.add(
            ERROR,
            "",
            "no_parameters",
            N_("Nothing here looks like Paygate parameters (Key=Value separated by &)"),
        )
        return run.report
    params = _check_names(run, Params(pairs))
    if "Data" in params:
        inner = _open_envelope(run, params)
        if inner is None:
            run.report.params = params.as_dict()
            return run.report
        params = inner
    run.report.params = params.as_dict()
    _check_latin1(run, params)
    if "Status" in params or "Code" in params:
        run.report.kind = "response"
        _check_response(run, params)
    else:
        _check_request(run, params)
    return run.report


def _read_text(run: _Inspection, raw: str | bytes) -> str | None:
    size = len(raw)
    if size > MAX_INPUT:
        run.add(
            ERROR,
            "",
            "too_large",
            N_(
                "The paste is %(size)s kB; a Paygate request is a few kB (at most %(limit)s "
                "kB are read). Paste only the request."
            ),
            size=size // 1024,
            limit=MAX_INPUT // 1024,
        )
        return None
    if isinstance(raw, bytes):
        try:
            text = raw.decode("utf-8")
        except UnicodeDecodeError:
            # Paygate and many shops write ISO-8859-1; every byte string decodes as it.
            text = raw.decode("latin-1")
    else:
        text = raw
    if not text.strip():
        run.add(ERROR, "", "empty", N_("Nothing was pasted"))
        return None
    controls = len(_CONTROL.findall(text)) if _CONTROL.search(text) else 0
    if controls:
        run.add(
            ERROR,
            "",
            "binary",
            N_(
                "The paste holds %(count)s control characters: it is binary data, not a "
                "request as text"
            ),
            count=controls,
        )
        return None
    return text


def _check_names(run: _Inspection, params: Params) -> Params:
    seen: dict[str, str] = {}
    for pair in params.pairs:
        if not _NAME.match(pair.name):
            run.add(
                ERROR,
                pair.name[:40],
                "name_invalid",
                N_("“%(name)s” is not a parameter name Paygate can read"),
                name=pair.name[:40],
            )
        lowered = pair.name.lower()
        if lowered in seen:
            run.add(
                ERROR,
                seen[lowered],
                "duplicate",
                N_(
                    "%(name)s is given twice (as “%(first)s” and “%(second)s”); Paygate "
                    "refuses a parameter that is already present"
                ),
                name=seen[lowered],
                first=seen[lowered],
                second=pair.name,
            )
        else:
            seen[lowered] = pair.name
    return params


def _open_envelope(run: _Inspection, outer: Params) -> Params | None:
    """Decrypt `Data` when a key was given; check `Len` against the plaintext."""
    report = run.report
    report.encrypted = True
    data = outer.get("Data") or ""
    length_text = (outer.get("Len") or "").strip()
    length: int | None = None
    if "Len" not in outer:
        run.add(
            ERROR,
            "Len",
            "missing",
            N_("Len is missing: Paygate needs the length of the plaintext to cut Data"),
        )
    elif not length_text.isdigit():
        run.add(
            ERROR,
            "Len",
            "format",
            N_("Len must be a whole number of characters, not “%(value)s”"),
            value=length_text[:20],
        )
    else:
        length = int(length_text)
    if "MerchantID" not in outer:
        run.add(
            ERROR,
            "MerchantID",
            "missing",
            N_("MerchantID is missing: it must be sent in clear beside Len and Data"),
        )
    try:
        shape = crypto.parse_data(data)
    except crypto.CryptoError as exc:
        _crypto_finding(run, exc)
        return None
    report.algorithm = shape.algorithm
    if run.blowfish_key is None:
        run.add(
            INFO,
            "Data",
            "encrypted",
            N_(
                "Data is encrypted (%(algorithm)s, %(size)s bytes); give the merchant's key "
                "to read it"
            ),
            algorithm=_ALGORITHMS[shape.algorithm],
            size=len(shape.body),
        )
        return None
    try:
        opened = crypto.decrypt(data, run.blowfish_key)
    except crypto.CryptoError as exc:
        _crypto_finding(run, exc)
        return None
    plaintext = opened.plaintext
    if not _looks_like_params(plaintext):
        run.add(
            ERROR,
            "Data",
            "wrong_key",
            N_(
                "Data decrypts to unreadable bytes: the key is not this merchant's, or Data "
                "was encrypted with another one"
            ),
        )
        return None
    report.decrypted = True
    if length is not None and length != len(plaintext):
        run.add(
            ERROR,
            "Len",
            "len_mismatch",
            N_(
                "Len is %(given)s but the plaintext has %(actual)s bytes: Paygate cuts the "
                "text at Len, so %(effect)s"
            ),
            given=length,
            actual=len(plaintext),
            effect=Message(N_("the end of the last parameter is lost"))
            if length < len(plaintext)
            else Message(N_("padding bytes are read as part of the last parameter")),
        )
    try:
        text = plaintext.decode("utf-8")
    except UnicodeDecodeError:
        text = plaintext.decode("latin-1")
    pairs, strays = parse_pairs(text)
    for stray in strays[:5]:
        run.add(
            WARNING,
            "Data",
            "not_a_parameter",
            N_("“%(text)s” in the plaintext is not a Key=Value pair"),
            text=stray.text,
        )
    inner = _check_names(run, Params(pairs))
    outer_id, inner_id = outer.get("MerchantID"), inner.get("MerchantID")
    if outer_id is not None and inner_id is not None and outer_id != inner_id:
        run.add(
            ERROR,
            "MerchantID",
            "merchant_mismatch",
            N_("MerchantID in clear (“%(outer)s”) differs from the one inside Data (“%(inner)s”)"),
            outer=outer_id,
            inner=inner_id,
        )
    if inner_id is None and outer_id is not None:
        pairs.insert(0, outer.pairs[[p.name.lower() for p in outer.pairs].index("merchantid")])
        inner = Params(pairs)
    return inner


_ALGORITHMS = {"blowfish": "Blowfish-ECB", "aes": "AES-CBC"}


def _looks_like_params(plaintext: bytes) -> bool:
    head = plaintext[:64]
    return b"=" in plaintext and all(byte >= 32 or byte in (9, 10, 13) for byte in head)


def _crypto_finding(run: _Inspection, exc: crypto.CryptoError) -> None:
    name = "Len" if exc.code.startswith("len_") else "Data"
    templates = {
        "hex_odd_length": N_("Data has an odd number of hex digits: it was cut or mistyped"),
        "hex_invalid": N_("Data is not hexadecimal: it must hold only 0-9 and A-F"),
        "block_size": N_("Data does not hold whole cipher blocks: it was cut"),
        "key_length": N_(
            "The key has the wrong size for this cipher (Blowfish: 4 to 56 bytes, "
            "AES: 16, 24 or 32)"
        ),
        "iv_length": N_("The AES IV before the dash must be 16 bytes (32 hex digits)"),
        "data_empty": N_("Data is empty"),
    }
    run.add(
        ERROR,
        "" if exc.code == "key_length" else name,
        exc.code,
        templates.get(exc.code, N_("Data cannot be decrypted: %(detail)s")),
        detail=exc.message,
    )


def _check_latin1(run: _Inspection, params: Params) -> None:
    for pair in params.pairs:
        found = _BEYOND_LATIN1.search(pair.value)
        outside = found.group() if found else None
        if outside is not None:
            run.add(
                WARNING,
                pair.name,
                "not_latin1",
                N_(
                    "%(name)s holds “%(char)s”, which ISO-8859-1 cannot write: Paygate will "
                    "show it garbled"
                ),
                name=pair.name,
                char=outside,
            )


_MANDATORY = ("MerchantID", "Amount", "Currency")


def _check_request(run: _Inspection, params: Params) -> None:
    server_to_server = "PayID" in params
    for name in _MANDATORY:
        if name not in params:
            run.add(
                ERROR,
                name,
                "missing",
                N_("%(name)s is mandatory and missing: Paygate refuses the request"),
                name=name,
            )
    recommended = ["TransID", "MAC"]
    if not server_to_server:
        recommended += ["URLSuccess", "URLFailure", "URLNotify"]
    reasons = {
        "TransID": N_(
            "TransID is missing: without it the payment cannot be told apart from "
            "the merchant's other payments"
        ),
        "MAC": N_(
            "MAC is missing: Paygate refuses an unsigned request once HMAC is enforced "
            "for the merchant"
        ),
        "URLSuccess": N_(
            "URLSuccess is missing: the customer is not brought back to the shop after paying"
        ),
        "URLFailure": N_(
            "URLFailure is missing: the customer is not brought back to the shop after a refusal"
        ),
        "URLNotify": N_(
            "URLNotify is missing: the shop will not be notified of the payment's result"
        ),
    }
    for name in recommended:
        if name not in params:
            run.add(WARNING, name, "recommended", reasons[name])
    for pair in params.pairs:
        key = pair.name.lower()
        spec = REQUEST.get(key)
        if key in _OBJECT_NAMES:
            _check_object(run, _OBJECT_NAMES[key], pair.value)
        elif spec is not None:
            _check_value(run, spec, pair.name, pair.value, mandatory=spec.name in _MANDATORY)
        elif key not in ("len", "data"):
            run.add(
                INFO,
                pair.name,
                "unknown_parameter",
                N_("%(name)s is not a FLOA Pay parameter; Paygate ignores it"),
                name=pair.name,
            )
    _check_amounts(run, params)
    _check_mac(run, params, response=False)


# The JSON objects' names by their lower case: names are matched without case, as Paygate does.
_OBJECT_NAMES = {name.lower(): name for name in JSON_OBJECTS}


def _check_object(run: _Inspection, name: str, raw: str) -> None:
    decoded = decode_object(name, raw)
    if decoded.parsed:
        run.report.objects[name] = decoded.value
    elif decoded.text is not None:
        run.report.unparsed[name] = decoded.text
    for issue in decoded.issues:
        run.report.findings.append(
            Finding(
                issue.severity,
                name,
                issue.code,
                issue.message,
                issue.path if decoded.parsed else None,
            )
        )


def _check_value(run: _Inspection, spec: Spec, given: str, value: str, mandatory: bool) -> None:
    name = spec.name
    if value == "":
        run.add(
            ERROR if mandatory else WARNING,
            name,
            "empty",
            N_("%(name)s is present but empty"),
            name=name,
        )
        return
    if spec.format == "enum":
        if value.lower() not in (v.lower() for v in spec.values):
            run.add(
                ERROR,
                name,
                "enum",
                N_("%(name)s is “%(value)s”; allowed: %(allowed)s"),
                name=name,
                value=_short(value),
                allowed=", ".join(spec.values),
            )
        return
    charset, length = spec.charset, spec.length
    if charset is not None and not _charset_ok(charset, value):
        if spec.kind == "amount":
            run.add(
                ERROR,
                name,
                "format_amount",
                N_(
                    "%(name)s is “%(value)s”: amounts are whole numbers in the smallest unit "
                    "(55000 for 550.00 EUR), without separator or sign"
                ),
                name=name,
                value=_short(value),
            )
        else:
            run.add(
                ERROR,
                name,
                "format",
                N_("%(name)s is “%(value)s”, but its format %(format)s allows %(charset)s"),
                name=name,
                value=_short(value),
                format=spec.format,
                charset=Message(CHARSET_NAMES[charset]),
            )
    if length is not None:
        limit, fixed = length
        if fixed and len(value) != limit:
            run.add(
                ERROR,
                name,
                "length",
                N_(
                    "%(name)s has %(length)s characters; its format %(format)s wants exactly "
                    "%(limit)s"
                ),
                name=name,
                length=len(value),
                format=spec.format,
                limit=limit,
            )
        elif len(value) > limit:
            run.add(
                ERROR,
                name,
                "too_long",
                N_(
                    "%(name)s has %(length)s characters; its format %(format)s allows at most "
                    "%(limit)s"
                ),
                name=name,
                length=len(value),
                format=spec.format,
                limit=limit,
            )
    _check_kind(run, spec, value)


def _charset_ok(charset: str, value: str) -> bool:
    return bool(CHARSETS[charset].match(value))


def _check_kind(run: _Inspection, spec: Spec, value: str) -> None:
    name = spec.name
    if spec.kind == "currency" and value.upper() not in CURRENCIES:
        run.add(
            ERROR,
            name,
            "currency",
            N_("%(name)s “%(value)s” is not an ISO 4217 currency code (EUR, for example)"),
            name=name,
            value=_short(value),
        )
    elif spec.kind == "currency" and value != value.upper():
        run.add(
            WARNING,
            name,
            "currency_case",
            N_("%(name)s is written “%(value)s”; ISO 4217 codes are upper case"),
            name=name,
            value=value,
        )
    elif spec.kind == "country" and value.upper() not in COUNTRIES:
        run.add(
            ERROR,
            name,
            "country",
            N_("%(name)s “%(value)s” is not an ISO 3166 country code (FR, for example)"),
            name=name,
            value=_short(value),
        )
    elif spec.kind == "date" and not _is_date(value):
        run.add(
            ERROR,
            name,
            "date",
            N_("%(name)s is “%(value)s”; the expected form is YYYY-MM-DD (1991-10-22)"),
            name=name,
            value=_short(value),
        )
    elif spec.kind == "email" and not re.match(r"^[^@\s]+@[^@\s]+\.[^@\s]+$", value):
        run.add(
            ERROR,
            name,
            "email",
            N_("%(name)s “%(value)s” is not an e-mail address"),
            name=name,
            value=_short(value),
        )
    elif spec.kind == "url" and not re.match(r"^https?://", value, re.IGNORECASE):
        run.add(
            ERROR,
            name,
            "url",
            N_("%(name)s must be a full http(s) address, not “%(value)s”"),
            name=name,
            value=_short(value),
        )
    elif spec.kind == "url" and value.lower().startswith("http://"):
        run.add(
            WARNING,
            name,
            "url_http",
            N_("%(name)s uses http://; browsers warn customers sent back to it"),
            name=name,
        )


def _is_date(value: str) -> bool:
    try:
        date.fromisoformat(value)
    except ValueError:
        return False
    return bool(re.match(r"^\d{4}-\d{2}-\d{2}$", value))


def _check_amounts(run: _Inspection, params: Params) -> None:
    amount = params.get("Amount")
    if amount is not None and amount.isdigit() and int(amount) == 0:
        run.add(WARNING, "Amount", "amount_zero", N_("Amount is 0: FLOA Pay refuses it"))


def _check_mac(run: _Inspection, params: Params, response: bool) -> None:
    given = params.get("MAC")
    if run.hmac_key is None:
        if given:
            run.add(
                INFO,
                "MAC",
                "mac_unchecked",
                N_("MAC is present; give the merchant's HMAC key to check it"),
            )
        return
    if given is None:
        if response:
            run.add(
                WARNING,
                "MAC",
                "recommended",
                N_("MAC is missing: this answer cannot be proven to come from Paygate"),
            )
        return
    lowered = params.lowered()
    if response:
        expected = crypto.response_mac(run.hmac_key, lowered)
        fields = ("PayID", "TransID", "MerchantID", "Status", "Code")
    else:
        expected = crypto.request_mac(run.hmac_key, lowered)
        fields = ("PayID", "TransID", "MerchantID", "Amount", "Currency")
    if crypto.mac_matches(expected, given):
        run.add(INFO, "MAC", "mac_ok", N_("MAC is correct"))
        return
    signed = "*".join(
        (params.get(name) or (params.get("mid") if name == "MerchantID" else "") or "")
        for name in fields
    )
    run.add(
        ERROR,
        "MAC",
        "mac_mismatch",
        N_(
            "MAC does not match: the HMAC-SHA256 of “%(signed)s” (%(formula)s, empty "
            "fields left empty) with this merchant's key gives another value. Check the "
            "order of the fields and the key."
        ),
        signed=_short(signed, 120),
        formula="*".join(fields),
    )


def _check_response(run: _Inspection, params: Params) -> None:
    code = params.get("Code")
    explanation = explain_code(code) if code is not None else None
    if code is None:
        run.add(
            WARNING,
            "Code",
            "missing",
            N_("Code is missing: decide on Code, never on Status or Description"),
        )
    elif explanation is None:
        run.add(
            ERROR,
            "Code",
            "code_format",
            N_("Code “%(value)s” is not a Paygate code (8 digits or capitals, the first a digit)"),
            value=_short(code),
        )
    else:
        run.report.code = explanation
        severity = ERROR if explanation.failed else INFO
        run.add(
            severity,
            explanation.parameter or "Code",
            "code",
            N_("Code %(code)s: %(explanation)s"),
            code=explanation.code,
            explanation=explanation,
        )
        status = (params.get("Status") or "").upper()
        if explanation.failed and status in ("OK", "AUTHORIZED", "AUTHORIZE_REQUEST"):
            run.add(
                WARNING,
                "Status",
                "status_code_mismatch",
                N_("Status says %(status)s but Code %(code)s is a failure: trust Code"),
                status=status,
                code=explanation.code,
            )
    if "Status" not in params:
        run.add(WARNING, "Status", "missing", N_("Status is missing"))
    if "PayID" not in params:
        run.add(
            WARNING,
            "PayID",
            "missing",
            N_("PayID is missing: the payment cannot be looked up at Paygate without it"),
        )
    for pair in params.pairs:
        spec = RESPONSE.get(pair.name.lower())
        if spec is not None and spec.name not in ("Code",):
            _check_value(run, spec, pair.name, pair.value, mandatory=False)
    _check_mac(run, params, response=True)


def _short(value: str, limit: int = 40) -> str:
    return value if len(value) <= limit else value[: limit - 1] + "…"
