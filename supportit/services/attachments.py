"""Storing uploaded files by content hash under the instance folder."""

from __future__ import annotations

import mimetypes
import re
import unicodedata
from dataclasses import dataclass
from pathlib import Path

from flask import current_app

from supportit.i18n import lazy_gettext as _l
from supportit.models import Attachment, Message, Ticket, User
from supportit.services import blobs
from supportit.services.errors import InvalidUpload


@dataclass(frozen=True)
class Upload:
    """A file as received from a form, a mail or the API, before it is stored."""

    filename: str
    data: bytes


_UNSAFE_CHARS = re.compile(r'[\x00-\x1f\x7f"\\/:*?<>|]+')


def clean_filename(name: str) -> str:
    """A display name safe in a Content-Disposition header and on any file system."""
    name = unicodedata.normalize("NFC", name).replace("\\", "/").rsplit("/", 1)[-1]
    name = _UNSAFE_CHARS.sub("_", name).strip(" .")
    if not name:
        return "attachment"
    if len(name) > 200:
        stem, dot, ext = name.rpartition(".")
        name = (stem[: 200 - len(ext) - 1] + dot + ext) if dot and len(ext) <= 10 else name[:200]
    return name


def content_type_for(filename: str) -> str:
    # The client's declared type is not trusted: it only decides how a browser would open it.
    guessed, _ = mimetypes.guess_type(filename)
    return guessed or "application/octet-stream"


def validate(uploads: list[Upload]) -> None:
    limit = current_app.config["ATTACHMENT_MAX_BYTES"]
    count_limit = current_app.config["ATTACHMENTS_PER_MESSAGE"]
    if len(uploads) > count_limit:
        raise InvalidUpload(
            _l("At most %(count)d files per message.", count=count_limit), field="attachments"
        )
    for upload in uploads:
        if not upload.data:
            raise InvalidUpload(
                _l("The file %(name)s is empty.", name=clean_filename(upload.filename)),
                field="attachments",
            )
        if len(upload.data) > limit:
            raise InvalidUpload(
                _l(
                    "The file %(name)s is larger than %(size)d MB.",
                    name=clean_filename(upload.filename),
                    size=limit // (1024 * 1024),
                ),
                field="attachments",
            )


def storage_path(sha256: str) -> Path:
    return blobs.path_for(current_app.config["ATTACHMENT_DIR"], sha256)


def store(
    upload: Upload, *, ticket: Ticket, message: Message | None, uploader: User | None
) -> Attachment:
    """Write the bytes (once per content) and return the row to add to the session.

    The file is written before the row is committed, so a row never points to a missing file;
    a failed commit leaves at most an unreferenced file, which is harmless.
    """
    digest = blobs.write(current_app.config["ATTACHMENT_DIR"], upload.data)
    name = clean_filename(upload.filename)
    return Attachment(
        ticket=ticket,
        message=message,
        uploaded_by_id=uploader.id if uploader else None,
        filename=name,
        content_type=content_type_for(name),
        size=len(upload.data),
        sha256=digest,
    )
