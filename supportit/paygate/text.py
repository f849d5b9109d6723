"""Translatable text without Flask: messages are marked here and translated by whoever shows them.

The protocol library stays free of Flask, so it cannot call Flask-Babel. Each message is an
English template marked with `N_` (so `pybabel extract` collects it) plus its arguments; the page
passes Flask-Babel's `gettext` to `Message.render`, the CLI renders English.
"""

from __future__ import annotations

from collections.abc import Callable, Mapping
from dataclasses import dataclass, field
from typing import Any

Translate = Callable[[str], str]


def N_(text: str) -> str:
    return text


def english(text: str) -> str:
    return text


@dataclass(frozen=True)
class Message:
    template: str  # English, `%(name)s` placeholders
    args: Mapping[str, Any] = field(default_factory=dict)

    def render(self, translate: Translate = english) -> str:
        text = translate(self.template)
        if not self.args:
            return text
        # An argument may itself be translatable (a Message, a Code's explanation).
        return text % {
            key: value.render(translate) if hasattr(value, "render") else value
            for key, value in self.args.items()
        }
