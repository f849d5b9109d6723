"""The operator's documentation stays true to the code."""

from __future__ import annotations

import re

from supportit import PROJECT_ROOT

CONFIG = (PROJECT_ROOT / "supportit" / "config.py").read_text()
DEPLOY = (PROJECT_ROOT / "docs" / "deploy.md").read_text()


def _documented() -> set[str]:
    """Names in the reference table; `_PORT` after `SUPPORTIT_SMTP_HOST` is SMTP's port."""
    names: set[str] = set()
    for row in DEPLOY.splitlines():
        if not row.startswith("| `"):
            continue
        cell = row.split("|")[1]
        full = re.findall(r"`(SUPPORTIT_[A-Z_]+|PROMETHEUS_[A-Z_]+)`", cell)
        names.update(full)
        if full:
            parts = full[0].split("_")
            for suffix in re.findall(r"`(_[A-Z_]+)`", cell):
                names.update("_".join(parts[:n]) + suffix for n in range(2, len(parts)))
    return names


def test_every_setting_is_in_the_configuration_reference() -> None:
    read = {"SUPPORTIT_" + name for name in re.findall(r'env_\w+\(\s*env,\s*"([A-Z_]+)"', CONFIG)}
    assert len(read) > 60
    missing = read - _documented()
    assert not missing, f"docs/deploy.md does not document {sorted(missing)}"


def test_the_deploy_files_the_guide_names_exist() -> None:
    for path in re.findall(r"`(deploy/[\w./@-]+)`", DEPLOY):
        if "*" not in path:
            assert (PROJECT_ROOT / path).exists(), path
