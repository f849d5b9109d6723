"""Separating what a mail says from the history it quotes and the signature it carries.

The thread view shows the new part and folds the rest; the full text is always kept.
"""

from __future__ import annotations

import re

# Lines that start the quoted history in the mail clients merchants use, in French and English.
_HISTORY_STARTS = [
    re.compile(r"^\s*(le|on)\s.{0,200}(a écrit|wrote)\s*:\s*$", re.IGNORECASE),  # Gmail, Apple
    re.compile(r"^\s*-{2,}\s*(original message|message d'origine|forwarded message|"
               r"message transféré)\s*-{2,}\s*$", re.IGNORECASE),  # Outlook, Gmail forward
    re.compile(r"^\s*(de|from)\s*:\s.+$", re.IGNORECASE),  # Outlook header block
    re.compile(r"^\s*_{10,}\s*$"),  # Outlook's separator line
]  # fmt: skip
_SIGNATURE = re.compile(r"^-- ?$")


def split_quoted(text: str) -> tuple[str, str]:
    """(what is new, what is quoted or signature). The second part may be empty."""
    lines = text.splitlines()
    for index, line in enumerate(lines):
        if _SIGNATURE.match(line) or _starts_history(lines, index):
            new = "\n".join(lines[:index]).rstrip()
            if new:
                return new, "\n".join(lines[index:]).strip("\n")
    # Trailing "> " lines quote the previous message even without an attribution line.
    end = len(lines)
    while end > 0 and (lines[end - 1].startswith(">") or not lines[end - 1].strip()):
        end -= 1
    if end < len(lines) and end > 0 and any(line.startswith(">") for line in lines[end:]):
        return "\n".join(lines[:end]).rstrip(), "\n".join(lines[end:]).strip("\n")
    return text.strip(), ""


def _starts_history(lines: list[str], index: int) -> bool:
    line = lines[index]
    if not any(pattern.match(line) for pattern in _HISTORY_STARTS):
        return False
    if re.match(r"^\s*(de|from)\s*:", line, re.IGNORECASE):
        # An Outlook header block: "From:" followed within a few lines by Sent/Envoyé/Date.
        following = " ".join(lines[index + 1 : index + 4]).lower()
        return any(word in following for word in ("sent:", "envoyé :", "envoyé:", "date:"))
    return True
