"""The Paygate inspector: seed 001's example, encrypted requests, answers, and anything pasted."""

from __future__ import annotations

import base64
import json
import re
from pathlib import Path

import pytest
from flask import Flask
from flask_babel import force_locale, gettext
from hypothesis import given, settings
from hypothesis import strategies as st

from supportit.paygate import crypto
from supportit.paygate.codes import explain_code
from supportit.paygate.inspect import MAX_INPUT, inspect
from supportit.paygate.params import parse_pairs
from supportit.paygate.report_text import render_text

SEED = (Path(__file__).parent / "fixtures" / "paygate" / "seed001_request.txt").read_text()
KEY, HMAC_KEY = "Bf7#kq2Lz9", "hmac-secret-for-tests"
PAYID = "0f4c3a2b9d8e7f6a5b4c3d2e1f0a9b8c"  # Paygate's PayIDs have 32 characters


def _object(text: str, name: str) -> str:
    return base64.b64decode(re.search(f"{name}=([^&]*)", text).group(1)).decode()


def _replace_object(text: str, name: str, value: str) -> str:
    encoded = base64.b64encode(value.encode()).decode()
    return re.sub(f"{name}=[^&]*", f"{name}={encoded}", text)


def seed_fixed() -> str:
    travel = _object(SEED, "TravelDetails").replace(
        ",travellerPassportList:", ',"travellerPassportList":'
    )
    product = _object(SEED, "ProductDetails").replace("categorie", "category")
    return _replace_object(
        _replace_object(SEED, "TravelDetails", travel), "ProductDetails", product
    )


def codes(report, severity: str | None = None) -> list[tuple[str, str]]:
    return [
        (f.field, f.code) for f in report.findings if severity is None or f.severity == severity
    ]


# --- Code-----------------------------------------------------------------------------------------


@pytest.mark.parametrize(
    ("code", "english"),
    [
        ("21000005", "error · missing · Amount"),  # DESIGN's reading
        ("20100005", "error · missing · Amount"),  # Computop's reference alignment
        ("21100006", "error · format error · Currency"),
        ("40010007", "fatal error · encryption · Data"),
        ("22060203", "error · module 206 · parameter 0203"),
        ("00000000", "success"),
        ("60000000", "pending"),
        ("2206014H", "error · module 206 · parameter 014H"),
    ],
)
def test_code_is_explained_from_its_structure(code: str, english: str) -> None:
    assert explain_code(code).describe() == english


def test_code_explanation_in_french(app: Flask) -> None:
    with app.test_request_context(), force_locale("fr"):
        assert explain_code("21000005").describe(gettext) == "erreur · manquant · Amount"


@pytest.mark.parametrize("code", ["", "2100000", "210000055", "21-00005", "abcdefgh"])
def test_malformed_codes_are_not_explained(code: str) -> None:
    assert explain_code(code) is None


# --- seed 001's example---------------------------------------------------------------------------


def test_seed_example_as_printed_has_errors_on_its_two_broken_objects() -> None:
    report = inspect(SEED)
    errors = codes(report, "error")
    assert errors == [
        ("TravelDetails", "json_syntax"),
        ("ProductDetails", "schema_additionalProperties"),
        ("ProductDetails", "schema_additionalProperties"),
        ("ProductDetails", "schema_additionalProperties"),
    ]
    syntax = next(f for f in report.findings if f.code == "json_syntax").message.render()
    assert "line 1, column 270" in syntax and "travellerPassportLis" in syntax
    product = [f for f in report.findings if f.field == "ProductDetails"]
    assert product[0].path == "$.categorie1"
    assert "did you mean “category1”" in product[0].message.render()
    assert "TravelDetails" not in report.objects  # it did not parse, but its text is shown
    assert ",travellerPassportList:[" in report.unparsed["TravelDetails"]
    assert report.objects["ProductDetails"] == {
        "categorie1": "premium",
        "categorie2": "premium",
        "categorie3": "premium",
    }


def test_country_codes_are_checked_at_any_depth_and_only_there() -> None:
    """Two letters under a key ending in "country" (in any case), in objects and lists nested
    at any depth; other values, and longer texts under such keys, are left alone."""
    from supportit.paygate.objects import decode_object

    value = {
        "billingCountry": "SP",
        "country": "FR",
        "countryName": "XX",
        "deliveryCountry": "Spain",
        "travellers": [{"passport": {"issuingCountry": "UK"}}, ["ZZ", {"COUNTRY": "DE"}]],
        "flightCountry": {"country": "QQ"},
    }
    raw = base64.b64encode(json.dumps(value).encode()).decode()
    decoded = decode_object("TravelDetails", raw)
    warned = sorted(issue.path for issue in decoded.issues if issue.code == "country")
    assert warned == [
        "$.billingCountry",
        "$.flightCountry.country",
        "$.travellers[0].passport.issuingCountry",
    ]


def test_seed_example_fixed_has_no_error_and_warns_about_what_it_omits() -> None:
    report = inspect(seed_fixed())
    assert not report.has_errors, codes(report, "error")
    warnings = codes(report, "warning")
    assert ("TransID", "recommended") in warnings and ("URLNotify", "recommended") in warnings
    assert ("AdditionalFields", "json_wrapper") in warnings  # Computop's own wrapper is tolerated
    assert ("TravelDetails", "country") in warnings  # "SP" is not Spain's ISO code
    assert set(report.objects) == {
        "CustomerHistory",
        "TravelDetails",
        "StayDetails",
        "ProductDetails",
        "AdditionalFields",
    }
    assert report.params["merchantid"] == "BNP_DEMO_AXEPTA"  # the merchant's spelling is kept
    assert report.params["URLSuccess"].endswith("/reference/présentation")


def test_wrapped_additional_fields_are_still_validated_inside() -> None:
    items = [{"index": 1, "value": "v", "fieldType": "N"}] * 21
    report = inspect(
        _replace_object(seed_fixed(), "AdditionalFields", json.dumps({"additionalFields": items}))
    )
    finding = next(f for f in report.findings if f.code == "schema_maxItems")
    assert finding.path == "$.additionalFields"
    assert "21 items, at most 20" in finding.message.render()


def test_schema_violations_carry_their_json_path() -> None:
    travel = json.loads(_object(seed_fixed(), "TravelDetails"))
    travel["travelClass"] = "Luxury"
    travel["travellerPassportList"][1]["issuanceCountry"] = "DEU"
    travel["ticketCount"] = "2"
    report = inspect(_replace_object(seed_fixed(), "TravelDetails", json.dumps(travel)))
    found = {f.path: f.message.render() for f in report.findings if f.field == "TravelDetails"}
    assert "is not one of the allowed values" in found["$.travelClass"]
    assert "at most 2 allowed" in found["$.travellerPassportList[1].issuanceCountry"]
    assert "should be of type integer or null" in found["$.ticketCount"]


def test_objects_that_do_not_decode_say_why() -> None:
    report = inspect(seed_fixed().replace("StayDetails=eyJ", "StayDetails=e*J"))
    assert ("StayDetails", "base64_invalid") in codes(report, "error")
    report = inspect(_replace_object(seed_fixed(), "StayDetails", '{"company": "BNB",}'))
    assert ("StayDetails", "json_syntax") in codes(report, "error")


# --- parameters-----------------------------------------------------------------------------------


def test_formats_and_mandatory_parameters() -> None:
    report = inspect(
        "Amount=550.00&Currency=EURO&AddrCountryCode=FRA&DateOfBirth=22/10/1991"
        "&Email=nobody&URLNotify=/notify&TransID=T1&transid=T2&LastName=D0e&Colour=blue"
    )
    errors = codes(report, "error")
    for expected in [
        ("MerchantID", "missing"),
        ("Amount", "format_amount"),
        ("Currency", "length"),
        ("Currency", "currency"),
        ("AddrCountryCode", "length"),
        ("DateOfBirth", "date"),
        ("Email", "email"),
        ("URLNotify", "url"),
        ("TransID", "duplicate"),
        ("LastName", "format"),
    ]:
        assert expected in errors, expected
    assert ("Colour", "unknown_parameter") in codes(report, "info")
    amount = next(f for f in report.findings if f.code == "format_amount").message.render()
    assert "smallest unit" in amount


def test_names_in_any_case_and_a_full_url() -> None:
    report = inspect(
        "https://www.computop-paygate.com/floapay.aspx?MERCHANTID=M1&amount=100&currency=EUR"
        "&TransID=T&MAC="
        + "A" * 64
        + "&URLSuccess=https://s&URLFailure=https://f&URLNotify=https://n"
    )
    assert not report.has_errors and not codes(report, "warning")
    assert report.params["MERCHANTID"] == "M1"


# --- encryption and MAC---------------------------------------------------------------------------


def _envelope(plain: str, key: str = KEY, aes: bool = False, length: int | None = None) -> str:
    encrypt = crypto.aes_encrypt if aes else crypto.blowfish_encrypt
    data, real_length = encrypt(plain.encode(), key)
    return f"MerchantID=M1&Len={real_length if length is None else length}&Data={data}"


PLAIN = "MerchantID=M1&TransID=T1&Amount=100&Currency=EUR&URLNotify=https://shop/n"


def test_encrypted_request_is_read_with_the_key_and_checked() -> None:
    signed = PLAIN + "&MAC=" + crypto.mac(HMAC_KEY, "", "T1", "M1", "100", "EUR")
    report = inspect(_envelope(signed), blowfish_key=KEY, hmac_key=HMAC_KEY)
    assert report.decrypted and report.algorithm == "blowfish"
    assert report.params["Amount"] == "100"
    assert ("MAC", "mac_ok") in codes(report, "info")
    assert not report.has_errors
    assert KEY not in json.dumps(report.to_dict()) and HMAC_KEY not in render_text(report)


def test_aes_variant_is_recognised() -> None:
    report = inspect(_envelope(PLAIN, key="k" * 16, aes=True), blowfish_key="k" * 16)
    assert report.decrypted and report.algorithm == "aes"


def test_without_a_key_the_envelope_is_described_not_failed() -> None:
    report = inspect(_envelope(PLAIN))
    assert not report.has_errors and ("Data", "encrypted") in codes(report, "info")


@pytest.mark.parametrize(
    ("paste", "field", "code"),
    [
        (_envelope(PLAIN, length=40), "Len", "len_mismatch"),
        (_envelope(PLAIN, length=len(PLAIN) + 3), "Len", "len_mismatch"),
        (_envelope(PLAIN)[:-1], "Data", "hex_odd_length"),
        (_envelope(PLAIN)[:-2], "Data", "block_size"),
        (_envelope(PLAIN).replace("Data=", "Data=ZZ"), "Data", "hex_invalid"),
        (_envelope(PLAIN, key="another-key"), "Data", "wrong_key"),
        (_envelope(PLAIN).replace("Len=", "Len=x"), "Len", "format"),
        (
            _envelope(PLAIN).replace("MerchantID=M1&", "MerchantID=M2&"),
            "MerchantID",
            "merchant_mismatch",
        ),
    ],
)
def test_envelope_faults_are_precise(paste: str, field: str, code: str) -> None:
    assert (field, code) in codes(inspect(paste, blowfish_key=KEY), "error")


def test_wrong_mac_shows_what_was_signed() -> None:
    report = inspect(PLAIN + "&MAC=" + "0" * 64, hmac_key=HMAC_KEY)
    finding = next(f for f in report.findings if f.code == "mac_mismatch")
    assert "“*T1*M1*100*EUR”" in finding.message.render()


# --- responses and notifications------------------------------------------------------------------


def test_response_in_any_case_and_order_keeps_unknown_parameters() -> None:
    mac = crypto.mac(HMAC_KEY, PAYID, "T1", "M1", "FAILED", "21000005")
    paste = f"code=21000005&STATUS=FAILED&mid=M1&PayID={PAYID}&TransID=T1&NewThing=42&mac={mac}"
    report = inspect(paste, hmac_key=HMAC_KEY)
    assert report.kind == "response"
    assert report.params["NewThing"] == "42" and report.params["code"] == "21000005"
    assert report.code.describe() == "error · missing · Amount"
    assert ("Amount", "code") in codes(report, "error")  # the finding points at the parameter
    assert ("MAC", "mac_ok") in codes(report, "info")
    tampered = inspect(paste.replace("FAILED", "OK"), hmac_key=HMAC_KEY)
    assert ("MAC", "mac_mismatch") in codes(tampered, "error")
    assert ("Status", "status_code_mismatch") in codes(tampered, "warning")


def test_encrypted_notification_is_decrypted_and_explained() -> None:
    plain = f"mid=M1&PayID={PAYID}&TransID=T1&Status=OK&Code=00000000"
    plain += "&MAC=" + crypto.mac(HMAC_KEY, PAYID, "T1", "M1", "OK", "00000000")
    report = inspect(_envelope(plain), blowfish_key=KEY, hmac_key=HMAC_KEY)
    assert report.kind == "response" and not report.has_errors
    assert report.code.describe() == "success"


# --- bad input------------------------------------------------------------------------------------


@pytest.mark.parametrize(
    ("raw", "code"),
    [
        ("", "empty"),
        ("   \n", "empty"),
        (b"\x00\x01\x02\xff\xfe binary", "binary"),
        ("just some words a merchant wrote", "no_parameters"),
        (b"A" * (MAX_INPUT + 1), "too_large"),
    ],
)
def test_unreadable_pastes_get_one_precise_finding(raw, code: str) -> None:
    report = inspect(raw)
    assert codes(report, "error") == [("", code)]


def test_text_outside_latin1_is_flagged() -> None:
    report = inspect("MerchantID=M1&Amount=100&Currency=EUR&LastName=王")
    assert ("LastName", "not_latin1") in codes(report, "warning")


def test_latin1_bytes_are_read() -> None:
    report = inspect("MerchantID=M1&Amount=100&Currency=EUR&AddrCity=Orléans".encode("latin-1"))
    assert report.params["AddrCity"] == "Orléans"


@settings(max_examples=200, deadline=None)
@given(st.one_of(st.binary(max_size=400), st.text(max_size=400)))
def test_anything_pasted_gives_a_report_never_an_exception(raw) -> None:
    report = inspect(raw, blowfish_key=KEY, hmac_key=HMAC_KEY)
    json.dumps(report.to_dict())
    render_text(report)


def _pairs_as_first_written(text: str) -> tuple[list[tuple[str, str]], list[str]]:
    """The splitting as first written, with a regular expression (no `%` escapes here)."""
    pairs, strays = [], []
    for piece in re.split(r"[&\r\n]+", text.strip()):
        piece = piece.strip()
        if not piece:
            continue
        name, sep, value = piece.partition("=")
        if not sep or not name.strip():
            strays.append(piece[:80])
        else:
            pairs.append((name.strip(), value))
    return pairs, strays


@given(st.text(alphabet="&=\r\n \tAaé+/", max_size=60))
def test_pairs_are_split_at_every_run_of_ampersands_and_line_breaks(text: str) -> None:
    # Plain string splits replaced the regular expression (ten times faster on a 5 kB request):
    # the same pairs and strays, in the same order.
    pairs, strays = parse_pairs(text)
    found = ([(pair.name, pair.value) for pair in pairs], [stray.text for stray in strays])
    assert found == _pairs_as_first_written(text)


@settings(max_examples=100, deadline=None)
@given(st.text(alphabet="0123456789abcdefABCDEF-xyz", max_size=120), st.integers(-5, 500))
def test_arbitrary_data_and_len_never_crash(data: str, length: int) -> None:
    inspect(f"MerchantID=M1&Len={length}&Data={data}", blowfish_key=KEY)


# --- the command line-----------------------------------------------------------------------------


def test_cli_json_contract_and_exit_status(app: Flask, tmp_path: Path) -> None:
    runner = app.test_cli_runner()
    broken = tmp_path / "broken.txt"
    broken.write_text(SEED)
    result = runner.invoke(args=["paygate", "inspect", "--file", str(broken), "--format", "json"])
    assert result.exit_code == 1
    report = json.loads(result.output)
    assert set(report) >= {"params", "objects", "findings"}
    assert set(report["findings"][0]) >= {"severity", "field", "code", "message"}
    assert report["findings"][0]["field"] == "TravelDetails"

    result = runner.invoke(args=["paygate", "inspect", "--file", "-"], input=seed_fixed())
    assert result.exit_code == 0 and "Request · 44 parameters · 0 errors" in result.output

    missing = runner.invoke(args=["paygate", "inspect", "--file", str(tmp_path / "none")])
    assert missing.exit_code == 2


def test_cli_takes_keys_from_the_environment(app: Flask) -> None:
    result = app.test_cli_runner().invoke(
        args=["paygate", "inspect", "--file", "-", "--format", "json"],
        input=_envelope(PLAIN),
        env={"PAYGATE_BLOWFISH_KEY": KEY},
    )
    assert json.loads(result.output)["params"]["TransID"] == "T1"
    assert KEY not in result.output


def test_findings_read_in_french(app: Flask) -> None:
    report = inspect(SEED)
    with app.test_request_context(), force_locale("fr"):
        found = {f.code: f.message.render(gettext) for f in report.findings}
        text = render_text(report, gettext)
    assert found["json_syntax"].startswith("TravelDetails n'est pas du JSON valide")
    assert "vouliez-vous dire « category3 »" in found["schema_additionalProperties"]
    assert text.startswith("Requête · 44 paramètres · 4 erreurs, 4 avertissements")


_JSON = st.recursive(
    st.none() | st.booleans() | st.integers(-5, 5) | st.text(max_size=20),
    lambda children: (
        st.lists(children, max_size=3)
        | st.dictionaries(
            st.sampled_from(
                [
                    "company",
                    "nightNumber",
                    "travelClass",
                    "ownTicket",
                    "index",
                    "travellerPassportList",
                    "issuanceCountry",
                    "category1",
                    "other",
                ]
            ),
            children,
            max_size=4,
        )
    ),
    max_leaves=8,
)


@settings(max_examples=300, deadline=None)
@given(
    st.sampled_from(
        ["CustomerHistory", "TravelDetails", "StayDetails", "ProductDetails", "AdditionalFields"]
    ),
    _JSON,
)
def test_fast_path_and_jsonschema_agree(name: str, value) -> None:
    from supportit.paygate.objects import _valid, validator

    assert _valid(name, value) == validator(name).is_valid(value)
