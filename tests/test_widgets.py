"""Form fields' attributes: written as WTForms writes them, by the faster `html_params`."""

from __future__ import annotations

import wtforms.widgets
from hypothesis import given
from hypothesis import strategies as st
from markupsafe import Markup
from wtforms import Form, SelectField, StringField, TextAreaField
from wtforms.fields.choices import SelectChoice
from wtforms.widgets import core

from supportit.web import widgets

# Keys as templates pass them (`class_`, `data_confirm`), and others a key could hold.
_KEYS = st.text(alphabet="abcdefgr_-<&\"'é", min_size=1, max_size=12)
_VALUES = st.one_of(
    st.booleans(),
    st.none(),
    st.integers(),
    st.text(max_size=30),
    st.text(max_size=30).map(Markup),  # already HTML: written as it is, quotes made safe
)


@given(st.dictionaries(_KEYS, _VALUES, max_size=6))
def test_attributes_are_written_as_wtforms_writes_them(attributes: dict[str, object]) -> None:
    ours = widgets.html_params(**attributes)
    assert isinstance(ours, Markup)
    assert ours == widgets.wtforms_html_params(**attributes)


def test_a_values_quotes_cannot_end_its_attribute() -> None:
    written = widgets.html_params(title='say "hi"', value=Markup('<b title="x">'), data_x_y=1)
    assert written == 'data-x-y="1" title="say &#34;hi&#34;" value="<b title=&quot;x&quot;>"'


class _Form(Form):
    name = StringField("Name")
    body = TextAreaField("Body")
    kind = SelectField(
        "Kind", choices=[SelectChoice("a", "A & B"), SelectChoice("b", 'B "quoted"')]
    )


def test_the_application_makes_every_widget_use_it(app) -> None:  # type: ignore[no-untyped-def]
    # create_app installed it (the `app` fixture): the module's function, the package's (for
    # labels) and the copies bound to Input and Button.
    assert core.html_params is widgets.html_params
    assert wtforms.widgets.html_params is widgets.html_params
    assert core.Input.html_params is widgets.html_params
    assert core.Button.html_params is widgets.html_params
    form = _Form(data={"name": 'O"Brien', "kind": "b"})
    assert form.name(class_="form-control") == (
        '<input class="form-control" id="name" name="name" type="text" value="O&#34;Brien">'
    )
    assert form.body.label() == '<label for="body">Body</label>'
    assert form.kind() == (
        '<select id="kind" name="kind"><option value="a">A &amp; B</option>'
        '<option selected value="b">B &#34;quoted&#34;</option></select>'
    )
