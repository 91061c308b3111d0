"""What only content policies have: a pattern that is always a regular expression, and targets that are a
non-empty set of the parts of an email; in the provider's check, in the emulator, and in the lookup."""

from __future__ import annotations

from typing import Any

import pytest

import pulumi_cloudflare_email_security as email_security
from pulumi_cloudflare_email_security.emulator import Backend, mock_cloudflare
from pulumi_cloudflare_email_security.emulator.failures import ApiFailure
from pulumi_cloudflare_email_security.registry import SETTINGS_TYPES
from pulumi_cloudflare_email_security.settings.checking import check_inputs

from .conftest import ACCOUNT_ID
from .samples import API_CREATE_BODIES, SAMPLE_INPUTS

SPEC = SETTINGS_TYPES["ContentPolicy"]
COLLECTION = "content_policies"


def failures_of(**changes: Any) -> dict[str, str]:
    bag = {"account_id": ACCOUNT_ID, **SAMPLE_INPUTS["ContentPolicy"], **changes}
    return {f.property: f.reason for f in check_inputs(SPEC, bag)[1]}


@pytest.mark.parametrize(
    "pattern", [r"(?i)\bwire\s+transfer\b", "invoice", r"^RE: .{0,20}payment$", r"(?P<amount>\$\d+)"]
)
def test_patterns_that_compile_are_accepted(pattern: str) -> None:
    assert failures_of(pattern=pattern) == {}


@pytest.mark.parametrize("pattern", ["(unclosed", "[z-a]", "*invalid", "\\", "(?P<x>a)(?P<x>b)"])
def test_a_pattern_that_does_not_compile_is_refused_naming_the_dialect(pattern: str) -> None:
    reason = failures_of(pattern=pattern)["pattern"]
    assert reason.startswith("pattern: is not a valid regular expression in Python's re syntax"), reason


@pytest.mark.parametrize("field", ["name", "pattern"])
def test_name_and_pattern_cannot_be_empty(field: str) -> None:
    assert "at least 1 character" in failures_of(**{field: ""})[field]


@pytest.mark.parametrize("targets", [["SUBJECT"], ["BODY"], ["BODY", "SUBJECT"]])
def test_targets_are_a_set_of_the_parts_of_an_email(targets: list[str]) -> None:
    assert failures_of(targets=targets) == {}


@pytest.mark.parametrize(
    ("targets", "says"),
    [
        ([], "at least 1 item"),
        (["BODY", "BODY"], "must list each value once: item 1 'BODY' repeats item 0"),
        (["HEADER"], "'SUBJECT' or 'BODY'"),
        (["subject"], "'SUBJECT' or 'BODY'"),
        ("SUBJECT", "valid list"),
    ],
)
def test_targets_that_are_not_such_a_set_are_refused(targets: Any, says: str) -> None:
    reason = failures_of(targets=targets)["targets"]
    assert reason.startswith("targets") and says in reason, reason


def test_notes_are_cleared_by_leaving_them_out() -> None:
    inputs = {k: v for k, v in SAMPLE_INPUTS["ContentPolicy"].items() if k != "notes"}
    checked, failures = check_inputs(SPEC, {"account_id": ACCOUNT_ID, **inputs})
    assert failures == []
    assert SPEC.update_body(checked)["notes"] is None
    assert "notes" not in SPEC.create_body(checked)


# --- the emulator refuses what the API refuses -----------------------------------------------------------------


@pytest.mark.parametrize(
    ("change", "message"),
    [
        ({"pattern": "(unclosed"}, "pattern: is not a valid regular expression"),
        ({"targets": []}, "targets: must list at least one value"),
        ({"targets": ["SUBJECT", "SUBJECT"]}, "targets: must list each value once"),
        ({"targets": ["HEADER"]}, "targets.0:"),
        ({"enabled": "yes"}, "enabled:"),
    ],
)
def test_the_emulator_refuses_bad_writes_everywhere(change: dict[str, Any], message: str) -> None:
    backend = Backend()
    with pytest.raises(ApiFailure) as created:
        backend.create(ACCOUNT_ID, COLLECTION, {**API_CREATE_BODIES[COLLECTION], **change})
    assert any(text.startswith(message) for _, text in created.value.errors), created.value.errors

    entry = backend.create(ACCOUNT_ID, COLLECTION, API_CREATE_BODIES[COLLECTION])
    with pytest.raises(ApiFailure) as edited:
        backend.edit(ACCOUNT_ID, COLLECTION, entry["id"], change)
    assert any(message in text for _, text in edited.value.errors), edited.value.errors

    bad_post = {**API_CREATE_BODIES[COLLECTION], "name": "another", **change}
    batch = {"deletes": [{"id": entry["id"]}], "patches": [], "puts": [], "posts": [bad_post]}
    with pytest.raises(ApiFailure):
        backend.batch(ACCOUNT_ID, COLLECTION, batch)
    assert backend.entries(ACCOUNT_ID, COLLECTION) == [backend.get(ACCOUNT_ID, COLLECTION, entry["id"])]


def test_the_emulator_takes_what_check_takes() -> None:
    checked, failures = check_inputs(SPEC, {"account_id": ACCOUNT_ID, **SAMPLE_INPUTS["ContentPolicy"]})
    assert failures == []
    entry = Backend().create(ACCOUNT_ID, COLLECTION, SPEC.create_body(checked))
    assert {k: entry[k] for k in SPEC.fields} == {k: checked[k] for k in SPEC.fields}


# --- the lookup ---------------------------------------------------------------------------------------------


def test_the_lookup_filters_by_exact_name_and_enabled_and_sorts_by_name(cloudflare: mock_cloudflare) -> None:
    policies = [
        ("Wire transfer", r"(?i)wire\s+transfer", True, ["SUBJECT"]),
        ("Gift cards", r"(?i)gift\s*cards?", False, ["BODY", "SUBJECT"]),
        ("Wire transfer (body)", r"(?i)wire\s+transfer", True, ["BODY"]),
    ]
    for name, pattern, enabled, targets in policies:
        cloudflare.backend.create(
            ACCOUNT_ID, COLLECTION, {"name": name, "pattern": pattern, "enabled": enabled, "targets": targets}
        )
    exact = email_security.list_content_policies(ACCOUNT_ID, name="Wire transfer")
    assert [(p.name, p.targets) for p in exact] == [("Wire transfer", ["SUBJECT"])]
    assert all(type(p) is email_security.ContentPolicyInfo for p in exact)
    assert [p.name for p in email_security.list_content_policies(ACCOUNT_ID, enabled=False)] == ["Gift cards"]
    by_name = email_security.list_content_policies(ACCOUNT_ID, order="name", direction="desc")
    assert [p.name for p in by_name] == ["Wire transfer (body)", "Wire transfer", "Gift cards"]
    assert [p.name for p in email_security.list_content_policies(ACCOUNT_ID, search="GIFT")] == ["Gift cards"]
    assert cloudflare.requests[0].url.params["name"] == "Wire transfer"
    assert cloudflare.requests[1].url.params["enabled"] == "false"
