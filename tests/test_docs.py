"""The README documents what the code has: every resource's inputs and every lookup."""

from __future__ import annotations

import re
from pathlib import Path

import pulumi_cloudflare_email_security as email_security
from pulumi_cloudflare_email_security.registry import SETTINGS_TYPES

README = (Path(__file__).resolve().parent.parent / "README.md").read_text()
COMMON = {"account_id", "adopt_id", "adopt_existing"}


def section(title: str) -> str:
    match = re.search(rf"^### `{title}`\n(.*?)(?=^##)", README, re.S | re.M)
    assert match, f"README has no section for {title}"
    return match.group(1)


def test_every_resource_input_is_documented(settings_type_name: str) -> None:
    text = section(settings_type_name)
    spec = SETTINGS_TYPES[settings_type_name]
    for name in set(spec.inputs) - COMMON:
        assert f"| `{name}` |" in text, f"{settings_type_name}.{name} is not in its README table"
    for name in set(spec.computed) - {"created_at", "modified_at"}:
        assert f"`{name}`" in text, f"{settings_type_name} output {name} is not documented"
    assert f"`{spec.collection}`" in text


def test_every_lookup_is_documented() -> None:
    lookups = [n for n in email_security.__all__ if n.startswith("list_")]
    assert len(lookups) == len(SETTINGS_TYPES)
    for name in lookups:
        assert f"| `{name}` |" in README, name
