"""Form fields' HTML attributes, written as WTForms writes them but without its slow path.

WTForms' widgets write every attribute of a field (`name="body" id="body" rows="6"`) through
`html_params`, which builds each pair with `Markup.format`: markupsafe's escaping formatter is
written in Python and costs about 20 µs an attribute on a shared machine. The ticket page has
115 of them (its four forms, five lists of options, their hidden fields): 2 to 3 ms of a
22 ms page.

`html_params` here writes the same text with plain string joins, each key and value escaped as
markupsafe escapes them; `install` makes WTForms' widgets use it. A property test holds it equal
to WTForms' own for any attributes, so an upgrade of WTForms that changes the output shows.
"""

from __future__ import annotations

import wtforms.widgets
from markupsafe import Markup, escape
from wtforms.widgets import core

# WTForms' own, kept for the test that holds the two equal.
wtforms_html_params = core.html_params


def html_params(**kwargs: object) -> Markup:
    """`wtforms.widgets.html_params`: `key="value"` pairs sorted by key, `True` written as the
    bare key, `False` left out, `class_` and `for_` without their underscore, `data_*` and
    `aria_*` with hyphens."""
    params = []
    for key, value in sorted(kwargs.items()):
        if value is False:
            continue
        name = str(escape(core.clean_key(key)))
        if value is True:
            params.append(name)
        else:
            # escape() leaves Markup as it is, quotes included: a quote ends the attribute.
            params.append(f'{name}="{str(escape(value)).replace(chr(34), "&quot;")}"')
    return Markup(" ".join(params))


def install() -> None:
    """Make every WTForms widget write its attributes with `html_params`. Idempotent.

    The widgets read the module's function at each call (`Select`, `TextArea`, the option
    lists), labels read the package's, and `Input` (with its kinds) and `Button` hold a copy
    bound to their class when WTForms was imported: all are replaced."""
    core.html_params = wtforms.widgets.html_params = html_params
    for name in dir(core):
        widget = getattr(core, name)
        if isinstance(widget, type) and "html_params" in vars(widget):
            widget.html_params = staticmethod(html_params)
