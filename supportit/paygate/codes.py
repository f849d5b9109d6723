"""Paygate's 8-character `Code`, read from its structure: outcome, check, parameter.

Support decides on `Code`, never on `Description` (whose wording changes). The first character is
the outcome; characters 2-4 name the check that failed; characters 5-8 the parameter it concerns.
"""

from __future__ import annotations

import re
from dataclasses import dataclass

from supportit.paygate.text import N_, Message, Translate, english

OUTCOMES = {
    "0": N_("success"),
    "2": N_("error"),
    "4": N_("fatal error"),
    "6": N_("pending"),
    "7": N_("3-D Secure step"),
}

CHECKS = {
    "001": N_("encryption"),
    "010": N_("missing"),
    "011": N_("format error"),
    "012": N_("invalid"),
    "013": N_("too short"),
    "014": N_("too long"),
    "015": N_("value missing"),
    "016": N_("value unknown or not allowed"),
    "017": N_("already present"),
    "018": N_("expired"),
    "019": N_("not allowed"),
}

PARAMETERS = {
    "0001": "PayID",
    "0002": "TransID",
    "0003": "MerchantID",
    "0005": "Amount",
    "0006": "Currency",
    "0007": "Data",
    "0008": "Len",
    "0032": "RefNr",
    "0043": "MerchantIDExt",
    "0044": "MAC",
    "1386": "PayType",
    "1463": "ActivationDelay",
}

_CODE = re.compile(r"^[0-9][0-9A-Z]{7}$")


@dataclass(frozen=True)
class CodeExplanation:
    code: str
    outcome: str  # the first character
    parts: tuple[Message, ...]  # outcome, then check and parameter when the code names them
    parameter: str | None  # as Paygate spells it, when known

    @property
    def failed(self) -> bool:
        return self.outcome in ("2", "4")

    @property
    def pending(self) -> bool:
        return self.outcome in ("6", "7")

    def describe(self, translate: Translate = english) -> str:
        return " · ".join(part.render(translate) for part in self.parts)

    render = describe  # so that a message can take the explanation as an argument


def _check(digits: str) -> str | None:
    if digits in CHECKS:
        return digits
    # Computop's reference writes the check as 010, 011...; the codes FLOA merchants forward (and
    # our own DESIGN example, 21000005 for a missing Amount) carry it one place left: 100, 110...
    # The two forms cannot collide, so both are read; anything else is a module number.
    if digits.endswith("0") and "0" + digits[:2] in CHECKS:
        return "0" + digits[:2]
    return None


def explain_code(code: str) -> CodeExplanation | None:
    """The reading of a `Code`, or None when it is not a digit then 7 digits or capitals."""
    code = code.strip().upper()
    if not _CODE.match(code):
        return None
    outcome = code[0]
    if outcome in OUTCOMES:
        parts = [Message(OUTCOMES[outcome])]
    else:
        parts = [Message(N_("unknown outcome %(digit)s"), {"digit": outcome})]
    if code == "00000000":
        return CodeExplanation(code, outcome, tuple(parts), None)
    check = _check(code[1:4])
    if check is not None:
        parts.append(Message(CHECKS[check]))
    elif code[1:4] != "000":
        parts.append(Message(N_("module %(module)s"), {"module": code[1:4]}))
    parameter = PARAMETERS.get(code[4:])
    if parameter is not None:
        parts.append(Message(parameter))
    elif code[4:] != "0000":
        parts.append(Message(N_("parameter %(number)s"), {"number": code[4:]}))
    return CodeExplanation(code, outcome, tuple(parts), parameter)
