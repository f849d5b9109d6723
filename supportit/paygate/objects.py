"""The Base64 JSON objects of a request, checked against the schemas Computop publishes (seed 001).

Each stage reports where it stopped: Base64 that does not decode, bytes that are not UTF-8, JSON
with a syntax error (line and column), then every schema violation with its JSON path.
"""

from __future__ import annotations

import base64
import binascii
import difflib
import json
from collections.abc import Callable
from dataclasses import dataclass, field
from functools import cache
from importlib import resources
from typing import Any

import fastjsonschema
from jsonschema import Draft7Validator
from jsonschema.exceptions import ValidationError

from supportit.paygate.params import COUNTRIES
from supportit.paygate.text import N_, Message

_MISSING = object()


@dataclass(frozen=True)
class ObjectIssue:
    severity: str
    code: str
    message: Message
    path: str = "$"


@dataclass
class DecodedObject:
    name: str
    value: Any = _MISSING  # the decoded JSON, when it parsed
    text: str | None = None  # the decoded text, when it is text (shown when it does not parse)
    issues: list[ObjectIssue] = field(default_factory=list)

    @property
    def parsed(self) -> bool:
        return self.value is not _MISSING


@cache
def _schema(name: str) -> dict[str, Any]:
    text = resources.files("supportit.paygate").joinpath(f"schemas/{name}.json").read_text("utf-8")
    return json.loads(text)


@cache
def validator(name: str) -> Draft7Validator:
    return Draft7Validator(_schema(name))


@cache
def _fast_check(name: str) -> Callable[[Any], Any]:
    # The same schema compiled to Python: most objects are valid, and proving it this way is
    # about 40 times cheaper than jsonschema's walk, which is kept for reporting violations.
    return fastjsonschema.compile(_schema(name))


def _valid(name: str, instance: Any) -> bool:
    try:
        _fast_check(name)(instance)
    except fastjsonschema.JsonSchemaException:
        return False
    return True


def decode_object(name: str, raw: str) -> DecodedObject:
    result = DecodedObject(name)
    compact = "".join(raw.split())
    try:
        # Some shops send the URL-safe alphabet or drop the padding; Paygate's decoder takes both.
        data = base64.b64decode(
            compact.replace("-", "+").replace("_", "/") + "=" * (-len(compact) % 4),
            validate=True,
        )
    except (binascii.Error, ValueError):
        bad = next((c for c in compact if not (c.isalnum() or c in "+/=-_")), None)
        if bad:
            message = Message(
                N_("%(name)s is not valid Base64: the character %(char)s is not part of it"),
                {"name": name, "char": repr(bad)},
            )
        else:
            message = Message(
                N_("%(name)s is not valid Base64: the text is cut (its length does not fit)"),
                {"name": name},
            )
        result.issues.append(ObjectIssue("error", "base64_invalid", message))
        return result
    try:
        text = data.decode("utf-8")
    except UnicodeDecodeError as exc:
        result.issues.append(
            ObjectIssue(
                "error",
                "json_encoding",
                Message(
                    N_("%(name)s decodes to bytes that are not UTF-8 (byte %(position)s)"),
                    {"name": name, "position": exc.start},
                ),
            )
        )
        return result
    result.text = text
    try:
        result.value = json.loads(text)
    except json.JSONDecodeError as exc:
        excerpt = text[max(0, exc.pos - 20) : exc.pos + 20]
        result.issues.append(
            ObjectIssue(
                "error",
                "json_syntax",
                Message(
                    N_(
                        "%(name)s is not valid JSON: %(error)s at line %(line)s, "
                        "column %(column)s, near «%(excerpt)s»"
                    ),
                    {
                        "name": name,
                        "error": _json_error(exc.msg),
                        "line": exc.lineno,
                        "column": exc.colno,
                        "excerpt": excerpt,
                    },
                ),
            )
        )
        return result
    _validate(result)
    return result


def _json_error(message: str) -> str:
    # The standard library's wording, kept in English: it names JSON's own terms.
    return message[0].lower() + message[1:] if message else message


def _validate(result: DecodedObject) -> None:
    instance = result.value
    prefix = "$"
    if (
        result.name == "AdditionalFields"
        and isinstance(instance, dict)
        and len(instance) == 1
        and isinstance(next(iter(instance.values())), list)
        and next(iter(instance)).lower() == "additionalfields"
    ):
        # Computop's own example wraps the array in {"additionalFields": [...]}; Paygate takes it.
        result.issues.append(
            ObjectIssue(
                "warning",
                "json_wrapper",
                Message(
                    N_(
                        'AdditionalFields wraps its array in an object {"%(key)s": [...]}; '
                        "the schema describes the bare array, which is what to send"
                    ),
                    {"key": next(iter(instance))},
                ),
            )
        )
        prefix = f"$.{next(iter(instance))}"
        instance = next(iter(instance.values()))
    errors = (
        []
        if _valid(result.name, instance)
        else sorted(validator(result.name).iter_errors(instance), key=lambda e: list(e.path))
    )
    for error in errors:
        result.issues.extend(_schema_issues(result.name, error, prefix))
    _check_countries(result, instance, prefix)


def _check_countries(result: DecodedObject, value: Any, path: str) -> None:
    """The schemas only ask for two letters; "SP" for Spain (ES) passes them and confuses FLOA."""
    # Only containers are walked into, and a path is written only for them: the objects of a
    # request hold a few hundred values, and this runs for every request inspected.
    if isinstance(value, dict):
        for key, item in value.items():
            if isinstance(item, str):
                if (
                    len(item) == 2
                    and key.lower().endswith("country")
                    and item.upper() not in COUNTRIES
                ):
                    where = f"{path}.{key}"
                    message = Message(
                        N_("%(path)s: “%(value)s” is not an ISO 3166 country code"),
                        {"path": where, "value": item},
                    )
                    result.issues.append(ObjectIssue("warning", "country", message, where))
            elif isinstance(item, dict | list):
                _check_countries(result, item, f"{path}.{key}")
    elif isinstance(value, list):
        for index, item in enumerate(value):
            if isinstance(item, dict | list):
                _check_countries(result, item, f"{path}[{index}]")


def _path(prefix: str, error: ValidationError) -> str:
    return prefix + error.json_path[1:]


def _schema_issues(name: str, error: ValidationError, prefix: str) -> list[ObjectIssue]:
    path = _path(prefix, error)
    validator_name = str(error.validator)
    code = f"schema_{validator_name}"
    if validator_name == "additionalProperties" and isinstance(error.instance, dict):
        known = list((error.schema.get("properties") or {}).keys())
        issues = []
        for key in error.instance:
            if key in known:
                continue
            guess = difflib.get_close_matches(key, known, n=1, cutoff=0.6)
            if guess:
                message = Message(
                    N_(
                        "%(path)s: the property “%(key)s” is not in the %(name)s schema; "
                        "did you mean “%(guess)s”?"
                    ),
                    {"path": f"{path}.{key}", "key": key, "name": name, "guess": guess[0]},
                )
            else:
                message = Message(
                    N_("%(path)s: the property “%(key)s” is not in the %(name)s schema"),
                    {"path": f"{path}.{key}", "key": key, "name": name},
                )
            issues.append(ObjectIssue("error", code, message, f"{path}.{key}"))
        return issues
    args: dict[str, Any] = {"path": path, "value": _short(error.instance)}
    if validator_name == "type":
        expected = error.validator_value
        args["expected"] = " or ".join(expected) if isinstance(expected, list) else expected
        template = N_("%(path)s: %(value)s should be of type %(expected)s")
    elif validator_name in ("maxLength", "minLength"):
        args["limit"] = error.validator_value
        args["length"] = len(error.instance) if isinstance(error.instance, str) else "?"
        template = (
            N_("%(path)s: %(value)s has %(length)s characters, at most %(limit)s allowed")
            if validator_name == "maxLength"
            else N_("%(path)s: %(value)s has %(length)s characters, at least %(limit)s needed")
        )
    elif validator_name == "enum":
        args["allowed"] = ", ".join(json.dumps(value) for value in error.validator_value)
        template = N_("%(path)s: %(value)s is not one of the allowed values (%(allowed)s)")
    elif validator_name == "maxItems":
        args["limit"] = error.validator_value
        args["count"] = len(error.instance) if isinstance(error.instance, list) else "?"
        template = N_("%(path)s: %(count)s items, at most %(limit)s allowed")
    else:
        args["detail"] = error.message
        template = N_("%(path)s: %(detail)s")
    return [ObjectIssue("error", code, Message(template, args), path)]


def _short(value: Any) -> str:
    text = json.dumps(value, ensure_ascii=False)
    return text if len(text) <= 40 else text[:37] + "…"
