"""The inspector's report as plain text, for a terminal or an internal note on a ticket."""

from __future__ import annotations

import json

from supportit.paygate.inspect import ERROR, INFO, WARNING, Report
from supportit.paygate.text import N_, Message, Translate, english

_LABELS = {ERROR: N_("ERROR"), WARNING: N_("WARNING"), INFO: N_("info")}
_KINDS = {"request": N_("Request"), "response": N_("Response or notification")}


def summary(report: Report, translate: Translate = english) -> str:
    return Message(
        N_("%(kind)s · %(params)s parameters · %(errors)s errors, %(warnings)s warnings"),
        {
            "kind": Message(_KINDS[report.kind]),
            "params": len(report.params),
            "errors": report.count(ERROR),
            "warnings": report.count(WARNING),
        },
    ).render(translate)


def render_text(report: Report, translate: Translate = english, values: bool = True) -> str:
    lines = [summary(report, translate)]
    if report.encrypted:
        state = N_("decrypted") if report.decrypted else N_("not decrypted")
        lines.append(f"Data: {report.algorithm or '?'}, {translate(state)}")
    if report.code is not None:
        lines.append(f"Code {report.code.code}: {report.code.describe(translate)}")
    lines.append("")
    for finding in report.sorted_findings():
        label = translate(_LABELS[finding.severity])
        where = finding.field or "-"
        lines.append(f"{label:8} {where:18} {finding.message.render(translate)}")
    if values and report.params:
        lines += ["", translate(N_("Parameters")) + ":"]
        width = min(24, max(len(name) for name in report.params))
        for name, value in report.params.items():
            shown = value if len(value) <= 90 else value[:89] + "…"
            lines.append(f"  {name:{width}} = {shown}")
    for name, value in report.objects.items():
        lines += ["", f"{name}:", json.dumps(value, ensure_ascii=False, indent=2)]
    for name, text in report.unparsed.items():
        lines += ["", f"{name} ({translate(N_('not valid JSON'))}):", text]
    return "\n".join(lines)
