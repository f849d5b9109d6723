"""Parse raw mail bytes into what intake needs. Pure: no database, no Flask, never raises.

Mail in the wild is broken in every way (wrong charsets, truncated MIME, folded headers); each
helper falls back rather than fail, and records what it had to forgive in `defects`.
"""

from __future__ import annotations

import email
import email.header
import email.utils
import html as html_lib
import re
from dataclasses import dataclass, field
from email import policy
from email.message import Message

import nh3

from supportit.services.text import sanitize_html

_MSGID_RE = re.compile(r"<([^<>\s]{1,900})>")
_FALLBACK_CHARSETS = ("utf-8", "cp1252", "latin-1")
_LATIN_ALIASES = {
    "iso-8859-1", "iso-8859-15", "latin-1", "latin1", "us-ascii", "ascii", "cp1252",
    "windows-1252",
}  # fmt: skip

# Subjects of out-of-office and automatic replies, in French and English.
_AUTO_SUBJECT_RE = re.compile(
    r"^\s*(auto(matic)?[\s:_-]*(reply|response|antwort)|out of (the )?office|autoreply|"
    r"r[ée]ponse automatique|absence|absent(e)? du bureau|message d'absence|"
    r"r[ée]pondeur|je suis absent|i am out of|away from|vacation)",
    re.IGNORECASE,
)


@dataclass
class ParsedAttachment:
    filename: str
    content_type: str
    data: bytes
    inline: bool = False


@dataclass
class ParsedMail:
    message_id: str | None = None
    in_reply_to: list[str] = field(default_factory=list)
    references: list[str] = field(default_factory=list)
    subject: str = ""
    from_address: str | None = None
    from_name: str = ""
    reply_to: str | None = None
    to: list[str] = field(default_factory=list)
    cc: list[str] = field(default_factory=list)
    text: str = ""
    html: str | None = None  # sanitised
    attachments: list[ParsedAttachment] = field(default_factory=list)
    auto_reply_reason: str | None = None
    # Auto-reply reasons an allow-listed sender domain may override (mailing-list style headers).
    bulk_only: bool = False
    is_bounce: bool = False
    bounced_message_ids: list[str] = field(default_factory=list)
    supportit_loop: bool = False  # one of our own notifications coming back
    defects: list[str] = field(default_factory=list)

    @property
    def thread_ids(self) -> list[str]:
        """Message-IDs this mail answers, nearest first."""
        seen = dict.fromkeys([*self.in_reply_to, *reversed(self.references)])
        return list(seen)


def parse(raw: bytes) -> ParsedMail:
    result = ParsedMail()
    try:
        # compat32 keeps headers as the raw strings they arrived as: we decode them ourselves
        # (see `header`), and every part's Content-Type is read without building a parse tree.
        msg = email.message_from_bytes(raw, policy=policy.compat32)
    except Exception as error:  # the email package is lenient; this is the last resort
        result.defects.append(f"unparseable: {error}")
        return result
    result.defects.extend(type(d).__name__ for d in getattr(msg, "defects", []))
    _headers(msg, result)
    _classify(msg, result)
    _body(msg, result)
    return result


def header(msg: Message, name: str) -> str:
    """A header as text, RFC 2047 decoded; broken encodings decoded as best as possible.

    Read from the raw header rather than through the email package's header registry: the
    registry builds a parse tree for every access (most of the parser's time), and falls over
    on the malformed headers merchants' mail servers send anyway.
    """
    text = _raw_header(msg, name)
    if text is None:
        return ""
    if "=?" in text:
        text = _decode_raw_header(text)
    return " ".join(without_nul(text).split())


def without_nul(text: str) -> str:
    """NUL bytes carry nothing in mail text, and PostgreSQL refuses them in text columns."""
    return text.replace("\x00", "") if "\x00" in text else text


def _raw_header(msg: Message, name: str) -> str | None:
    """The first `name` header as the parser stored it, with raw 8-bit bytes decoded."""
    wanted = name.lower()
    value = next((v for k, v in msg.raw_items() if k.lower() == wanted), None)
    if value is None:
        return None
    value = str(value)
    if not value.isascii():
        # Unencoded 8-bit headers arrive as surrogate escapes: decode them as the text they are.
        value = decode_bytes(value.encode("utf-8", "surrogateescape"), None)
    return value


def _decode_raw_header(text: str) -> str:
    try:
        parts = email.header.decode_header(text)
    except Exception:
        return text
    out = []
    for chunk, charset in parts:
        if isinstance(chunk, bytes):
            out.append(decode_bytes(chunk, charset))
        else:
            out.append(chunk)
    return "".join(out)


def message_ids(value: str) -> list[str]:
    return [f"<{m}>" for m in _MSGID_RE.findall(value or "")]


def _addresses(msg: Message, name: str) -> list[tuple[str, str]]:
    """(display name, lower-case address) pairs of an address header.

    The raw header is split first and names decoded after, so an encoded name holding a comma
    ("Dupont, Jean") cannot split one address in two.
    """
    raw = _raw_header(msg, name)
    if not raw:
        return []
    try:
        pairs = email.utils.getaddresses([" ".join(raw.split())])
    except Exception:
        return []
    return [
        (
            without_nul(_decode_raw_header(name) if "=?" in name else name),
            without_nul(addr.strip().lower()),
        )
        for name, addr in pairs
        if "@" in addr
    ]


def _headers(msg: Message, result: ParsedMail) -> None:
    ids = message_ids(header(msg, "Message-ID"))
    result.message_id = ids[0] if ids else None
    result.in_reply_to = message_ids(header(msg, "In-Reply-To"))
    result.references = message_ids(header(msg, "References"))
    result.subject = header(msg, "Subject")[:998]
    # The From address identifies the sender; Reply-To only says where answers should go.
    from_pairs = _addresses(msg, "From")
    if from_pairs:
        result.from_name, result.from_address = from_pairs[0][0], from_pairs[0][1][:254]
    reply_to = _addresses(msg, "Reply-To")
    result.reply_to = reply_to[0][1][:254] if reply_to else None
    result.to = [a for _, a in _addresses(msg, "To")]
    result.cc = [a for _, a in _addresses(msg, "Cc")]
    result.supportit_loop = bool(header(msg, "X-SupportIT"))


def _classify(msg: Message, result: ParsedMail) -> None:
    content_type = (msg.get_content_type() or "").lower()
    report_type = (msg.get_param("report-type") or "") if content_type == "multipart/report" else ""
    if content_type == "multipart/report" and str(report_type).lower() == "delivery-status":
        result.is_bounce = True
        result.bounced_message_ids = _bounced_ids(msg)
        return
    auto_submitted = header(msg, "Auto-Submitted").lower()
    if auto_submitted and auto_submitted != "no":
        result.auto_reply_reason = f"Auto-Submitted: {auto_submitted}"
    elif header(msg, "X-Autoreply") or header(msg, "X-Autorespond"):
        result.auto_reply_reason = "X-Autoreply"
    elif _AUTO_SUBJECT_RE.search(result.subject):
        result.auto_reply_reason = f"Subject: {result.subject}"[:300]
    elif header(msg, "Precedence").lower() in {"bulk", "junk", "list"}:
        result.auto_reply_reason = f"Precedence: {header(msg, 'Precedence').lower()}"
        result.bulk_only = True
    elif header(msg, "List-Id"):
        result.auto_reply_reason = "List-Id"
        result.bulk_only = True


def _bounced_ids(msg: Message) -> list[str]:
    ids: list[str] = []
    for part in msg.walk():
        kind = part.get_content_type()
        if kind in {"message/rfc822", "message/rfc822-headers", "text/rfc822-headers"}:
            payload = part.get_payload()
            if isinstance(payload, list) and payload:
                ids += message_ids(header(payload[0], "Message-ID"))
            else:
                raw = part.get_payload(decode=True) or b""
                match = re.search(rb"(?im)^message-id:\s*(<[^>]+>)", raw)
                if match:
                    ids.append(without_nul(match.group(1).decode("ascii", "replace")))
    return ids


def decode_bytes(data: bytes, charset: str | None) -> str:
    """Text in its declared charset, or in the charset it really is when the label lies."""
    declared = (charset or "").strip().strip('"').lower() or None
    if declared in _LATIN_ALIASES:
        # Mail labelled Latin-1 or ASCII that is valid UTF-8 with accents was mislabelled.
        try:
            text = data.decode("utf-8")
            if any(ord(c) > 127 for c in text):
                return text
        except UnicodeDecodeError:
            pass
        if declared in {"us-ascii", "ascii", "iso-8859-1", "latin-1", "latin1"}:
            declared = "cp1252"  # a superset in practice: Outlook's quotes and euro sign
    for candidate in (declared, *_FALLBACK_CHARSETS):
        if not candidate:
            continue
        try:
            return data.decode(candidate)
        except (LookupError, UnicodeDecodeError, ValueError):
            # ValueError: a label codecs cannot even look up (a NUL in it, say).
            continue
    return data.decode("utf-8", "replace")


def _part_text(part: Message) -> str:
    try:
        data = part.get_payload(decode=True)
    except Exception:
        data = None
    if data is None:
        payload = part.get_payload()
        return payload if isinstance(payload, str) else ""
    return decode_bytes(data, part.get_content_charset())


def _filename(part: Message) -> str | None:
    try:
        name = part.get_filename()
    except Exception:
        name = None
    if name and "=?" in name:
        name = _decode_raw_header(name)
    return name


def _body(msg: Message, result: ParsedMail) -> None:
    text_parts: list[str] = []
    html_parts: list[str] = []
    forwarded_texts: list[str] = []
    for part in _walk(msg):
        kind = part.get_content_type()
        disposition = (part.get_content_disposition() or "").lower()
        name = _filename(part)
        if kind == "message/rfc822":
            forwarded_texts.append(_forwarded(part, result))
            continue
        if kind.startswith("multipart/"):
            continue
        if kind in {"text/plain", "text/html"} and disposition != "attachment" and not name:
            (text_parts if kind == "text/plain" else html_parts).append(_part_text(part))
            continue
        if result.is_bounce and kind in {"message/delivery-status", "text/rfc822-headers"}:
            continue
        try:
            data = part.get_payload(decode=True) or b""
        except Exception:
            data = b""
            result.defects.append("undecodable attachment")
        result.attachments.append(
            ParsedAttachment(
                filename=without_nul(name or "") or f"attachment{_guess_extension(kind)}",
                content_type=kind,
                data=data,
                inline=disposition == "inline" or bool(part.get("Content-ID")),
            )
        )
    if html_parts:
        result.html = sanitize_html("\n".join(html_parts))
    if text_parts:
        result.text = "\n\n".join(t.strip("\n") for t in text_parts).strip()
    elif html_parts:
        result.text = html_to_text("\n".join(html_parts))
    # A forwarded message's own text follows: it is usually what the merchant wants us to read.
    result.text = without_nul("\n\n".join(t for t in [result.text, *forwarded_texts] if t))
    if result.html:
        result.html = without_nul(result.html)


def _walk(msg: Message):  # type: ignore[no-untyped-def]
    """Like Message.walk, but does not descend into forwarded messages (kept whole)."""
    yield msg
    if msg.is_multipart() and msg.get_content_type() != "message/rfc822":
        payload = msg.get_payload()
        if isinstance(payload, list):
            for sub in payload:
                if isinstance(sub, Message):
                    yield from _walk(sub)


def _forwarded(part: Message, result: ParsedMail) -> str:
    payload = part.get_payload()
    inner = payload[0] if isinstance(payload, list) and payload else None
    subject = header(inner, "Subject") if isinstance(inner, Message) else ""
    try:
        data = inner.as_bytes(policy=policy.SMTP) if isinstance(inner, Message) else b""
    except Exception:
        data = bytes(str(inner), "utf-8", "replace") if inner is not None else b""
        result.defects.append("forwarded message re-serialised loosely")
    name = re.sub(r"[^\w .-]+", "_", subject).strip()[:80] or "forwarded-message"
    result.attachments.append(ParsedAttachment(f"{name}.eml", "message/rfc822", data))
    if not isinstance(inner, Message):
        return ""
    inner_result = ParsedMail()
    _body(inner, inner_result)
    return inner_result.text


def _guess_extension(content_type: str) -> str:
    import mimetypes

    return mimetypes.guess_extension(content_type) or ".bin"


_BLOCK_END_RE = re.compile(r"(?i)<\s*(br\s*/?|/p|/div|/tr|/li|/h[1-6]|/blockquote)\s*>")


def html_to_text(html: str) -> str:
    """Readable text from HTML mail: block ends become line breaks, tags and scripts go."""
    html = re.sub(r"(?is)<(script|style|head)\b.*?</\1\s*>", "", html)
    marked = _BLOCK_END_RE.sub("\n", html)
    text = html_lib.unescape(nh3.clean(marked, tags=set()))
    lines = [" ".join(line.split()) for line in text.splitlines()]
    return re.sub(r"\n{3,}", "\n\n", "\n".join(lines)).strip()
