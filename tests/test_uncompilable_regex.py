"""A regular expression Python cannot compile is an input error everywhere, however ``re.compile`` refuses it.

``re.compile`` refuses some patterns with other errors than ``re.error``: ``a{4294967296}`` raises
``OverflowError``, 500 nested groups (1,001 characters, within the 1,024 allowed) ``RecursionError``,
``(?a)(?u)`` ``ValueError``. Each must be a field failure of Check (over gRPC, single resources and sets), a
400 from the emulator (over HTTP and in embedded mode), an entry ``cfes export`` skips with a one-line reason,
and a ``cfes seed`` that changes nothing and says why in one line.
"""

from __future__ import annotations

import itertools
import json
import re
from collections.abc import Iterator
from pathlib import Path
from typing import Any

import httpx
import pytest

from pulumi_cloudflare_email_security.emulator import EmulatorServer, StateFile, openapi
from pulumi_cloudflare_email_security.emulator.httpx_adapter import EmbeddedTransport
from pulumi_cloudflare_email_security.emulator.seeding import seed_state
from pulumi_cloudflare_email_security.registry import SET_SETTINGS_TYPES, SETTINGS_TYPES
from pulumi_cloudflare_email_security.transport import EMBEDDED_ORIGIN

from .conftest import ACCOUNT_ID, CANARY
from .protocol import ProviderProcess
from .samples import API_CREATE_BODIES, SAMPLE_INPUTS
from .test_cli import assert_one_line_error
from .test_export import cfes, cloudflare_env

HOSTILE = {
    "repeat count too large": "a{4294967296}",
    "repeat range too large": "(?:ab){2,4294967296}",
    "groups nested 500 deep": "(" * 500 + "a" + ")" * 500,
    "ASCII and UNICODE flags": "(?a)(?u)x",
    "a line break quoted by re": "(?<\nx)",
}
"""Patterns ``re.compile`` refuses, each in another way (the last with an ``re.error`` whose message holds the
pattern's own line break, which a one-line reason must not)."""

REGEX_FIELDS: dict[str, tuple[str, dict[str, Any]]] = {
    "AllowPolicy": ("pattern", {"is_regex": True, "pattern_type": "EMAIL"}),
    "BlockedSender": ("pattern", {"is_regex": True, "pattern_type": "EMAIL"}),
    "TrustedDomain": ("pattern", {"is_regex": True}),
    "ImpersonationRegistryEntry": ("email", {"is_email_regex": True}),
    "ContentPolicy": ("pattern", {}),
}
"""Each settings type with a regular expression: the field, and the inputs that make it one."""

EMULATOR_CHECKED = ("allow_policies", "block_senders", "trusted_domains", "content_policies")
"""The collections whose regular expressions the emulator compiles (it leaves impersonation entries' emails
unchecked, as it does their plain addresses)."""


@pytest.fixture(params=sorted(HOSTILE))
def hostile(request: pytest.FixtureRequest) -> str:
    """Each pattern of :data:`HOSTILE`, in turn."""
    pattern: str = HOSTILE[request.param]
    return pattern


def with_regex(type_name: str, pattern: str) -> dict[str, Any]:
    """The type's sample inputs, with ``pattern`` as its regular expression."""
    field, flags = REGEX_FIELDS[type_name]
    return {**SAMPLE_INPUTS[type_name], **flags, field: pattern}


def api_body(collection: str, pattern: str) -> dict[str, Any]:
    """A valid create body of ``collection`` with ``pattern`` as its regular expression."""
    flag = {} if collection == "content_policies" else {"is_regex": True}
    return {**API_CREATE_BODIES[collection], **flag, "pattern": pattern}


def refusal(reply: httpx.Response) -> str:
    """The one message of an API validation failure."""
    assert reply.status_code == 400, reply.text
    envelope = reply.json()
    assert envelope["success"] is False and len(envelope["errors"]) == 1, envelope
    message: str = envelope["errors"][0]["message"]
    return message


def test_the_hostile_patterns_are_refused_by_re_as_said(hostile: str) -> None:
    assert len(hostile) <= 1024, "within the length a pattern may have"
    if hostile == HOSTILE["a line break quoted by re"]:
        with pytest.raises(re.error, match="\n"):
            re.compile(hostile)
    else:
        with pytest.raises((OverflowError, RecursionError, ValueError)):
            re.compile(hostile)


# --- Check, over gRPC ------------------------------------------------------------------------------------------


@pytest.fixture(scope="module")
def regex_sets(set_registered: dict[str, dict[str, Any]]) -> dict[str, dict[str, Any]]:
    """The inputs a real registration of each set class with a regular expression sends, by entry type."""
    by_type = {SET_SETTINGS_TYPES[name].resource_name: bag for name, bag in set_registered.items()}
    return {name: bag for name, bag in by_type.items() if name in REGEX_FIELDS}


def test_every_type_with_a_regular_expression_is_covered(regex_sets: dict[str, dict[str, Any]]) -> None:
    flagged = {name for name, spec in SETTINGS_TYPES.items() if any(f.endswith("regex") for f in spec.fields)}
    assert set(REGEX_FIELDS) == flagged | {"ContentPolicy"}
    assert set(regex_sets) == set(REGEX_FIELDS), "each has a set resource too"
    assert {SETTINGS_TYPES[name].collection for name in REGEX_FIELDS} - set(EMULATOR_CHECKED) == {
        "impersonation_registry"
    }


@pytest.mark.parametrize("type_name", sorted(REGEX_FIELDS))
def test_check_refuses_the_field_in_one_line(
    type_name: str, hostile: str, registered: dict[str, dict[str, Any]], provider: ProviderProcess
) -> None:
    field = REGEX_FIELDS[type_name][0]
    checked = provider.check(type_name, {**registered[type_name], **with_regex(type_name, hostile)})
    assert [prop for prop, _ in checked.failures] == [field]
    reason = checked.failures[0][1]
    assert reason.startswith(f"{field}: is not a valid regular expression in Python's re syntax ("), reason
    assert reason.isprintable() and len(reason) < 400, reason


@pytest.mark.parametrize("type_name", sorted(REGEX_FIELDS))
def test_a_set_check_refuses_the_entry_field_in_one_line(
    type_name: str, hostile: str, regex_sets: dict[str, dict[str, Any]], provider: ProviderProcess
) -> None:
    field = REGEX_FIELDS[type_name][0]
    good, bad = SAMPLE_INPUTS[type_name], with_regex(type_name, hostile)
    checked = provider.check(f"{type_name}-set", {**regex_sets[type_name], "entries": [good, bad]})
    assert [prop for prop, _ in checked.failures] == [f"entries[1].{field}"]
    reason = checked.failures[0][1]
    assert reason.startswith(f"entries[1].{field}: is not a valid regular expression"), reason
    assert reason.isprintable(), reason


# --- the emulator, over HTTP and embedded ---------------------------------------------------------------------


def url(collection: str, *rest: str) -> str:
    return "/".join([f"/accounts/{ACCOUNT_ID}/email-security/settings/{collection}", *rest])


@pytest.mark.parametrize("collection", EMULATOR_CHECKED)
def test_the_emulator_over_http_answers_400_naming_the_field(
    collection: str, hostile: str, emulator_server: EmulatorServer
) -> None:
    headers = {"Authorization": f"Bearer {CANARY}"}
    with httpx.Client(base_url=emulator_server.base_url, headers=headers) as http:
        message = refusal(http.post(url(collection), json=api_body(collection, hostile)))
        assert message.startswith("pattern: is not a valid regular expression") and message.isprintable(), message
        created = http.post(url(collection), json=API_CREATE_BODIES[collection])
        assert created.status_code == 201, created.text
        entry_id = created.json()["result"]["id"]
        edit = {key: value for key, value in api_body(collection, hostile).items() if key in ("pattern", "is_regex")}
        assert refusal(http.patch(url(collection, entry_id), json=edit)).startswith("pattern: ")
        batch_body = openapi.collections()[collection].batch_body
        if batch_body is not None:
            batch = {**{part: [] for part in batch_body["properties"]}, "posts": [api_body(collection, hostile)]}
            assert refusal(http.post(url(collection, "batch"), json=batch)).startswith("pattern: ")
    entries = emulator_server.router.backend.entries(ACCOUNT_ID, collection)
    assert [e["id"] for e in entries] == [entry_id]
    assert entries[0]["pattern"] == API_CREATE_BODIES[collection]["pattern"], "the refused edit changed nothing"


@pytest.fixture
def embedded(tmp_path: Path) -> Iterator[httpx.Client]:
    """A client of the emulator in embedded mode, persisted to ``tmp_path / "state.json"``."""
    with httpx.Client(
        transport=EmbeddedTransport(tmp_path / "state.json"),
        base_url=EMBEDDED_ORIGIN,
        headers={"Authorization": f"Bearer {CANARY}"},
    ) as client:
        yield client


@pytest.mark.parametrize("collection", EMULATOR_CHECKED)
def test_the_embedded_emulator_answers_400_and_keeps_nothing(
    collection: str, hostile: str, embedded: httpx.Client
) -> None:
    message = refusal(embedded.post(url(collection), json=api_body(collection, hostile)))
    assert message.startswith("pattern: is not a valid regular expression") and message.isprintable(), message
    assert embedded.get(url(collection)).json()["result"] == []


def test_a_hard_but_compilable_pattern_is_accepted(
    registered: dict[str, dict[str, Any]], provider: ProviderProcess, emulator_server: EmulatorServer
) -> None:
    pattern = "(?:a{1,65536}){65536}"  # large repeats of large repeats: Python compiles it
    assert provider.check("ContentPolicy", {**registered["ContentPolicy"], "pattern": pattern}).failures == []
    created = emulator_server.router.backend.create(
        ACCOUNT_ID, "content_policies", api_body("content_policies", pattern)
    )
    assert created["pattern"] == pattern


# --- cfes export and cfes seed --------------------------------------------------------------------------------


def test_export_skips_each_entry_with_a_one_line_reason(
    hostile: str, emulator_server: EmulatorServer, tmp_path: Path
) -> None:
    backend = emulator_server.router.backend
    kept = backend.create(ACCOUNT_ID, "trusted_domains", API_CREATE_BODIES["trusted_domains"])
    refused: dict[str, str] = {}
    for type_name in REGEX_FIELDS:
        spec = SETTINGS_TYPES[type_name]
        # As the API may hold it: Cloudflare's regex engine is not Python's.
        entry = backend.seed(ACCOUNT_ID, spec.collection, spec.create_body(with_regex(type_name, hostile)))
        refused[entry["id"]] = type_name
    out = tmp_path / "out"
    env = cloudflare_env(emulator_server.base_url)
    done = cfes("export", "--account-id", ACCOUNT_ID, "--output", out, env=env)
    assert done.returncode == 0, done.stderr
    assert "Traceback" not in done.stderr
    lines = done.stderr.splitlines()
    header = lines.index(f"Skipped {len(refused)} entries (listed as comments in the output):")
    listed = list(itertools.takewhile(lambda line: line.startswith("  "), lines[header + 1 :]))
    assert len(listed) == len(refused), "each reason on one line of its own"
    for entry_id, type_name in refused.items():
        field = REGEX_FIELDS[type_name][0]
        line = next(line for line in listed if line.startswith(f"  {type_name} {entry_id} ("))
        assert f"a program cannot declare it as it is: {field}: is not a valid regular expression" in line, line
        assert line.isprintable() and line.endswith(")"), line
    program = (out / "__main__.py").read_text()
    compile(program, "__main__.py", "exec")  # a line break in a comment would make the rest of it code
    assert f'adopt_id="{kept["id"]}"' in program
    for entry_id in refused:
        assert f'adopt_id="{entry_id}"' not in program
        assert program.count(entry_id) == 1, "named once, in its comment"


@pytest.mark.parametrize("collection", EMULATOR_CHECKED)
def test_seed_changes_nothing_and_names_the_entry_and_field(collection: str, hostile: str, tmp_path: Path) -> None:
    state = tmp_path / "state.json"
    seed_state(StateFile(state), ACCOUNT_ID, {"url_ignore_patterns": [API_CREATE_BODIES["url_ignore_patterns"]]})
    before = state.read_bytes()
    seed_file = tmp_path / "seed.json"
    document = {
        "url_ignore_patterns": [{"pattern": "https://first.example/*"}],
        collection: [API_CREATE_BODIES[collection], api_body(collection, hostile)],
    }
    seed_file.write_text(json.dumps(document))
    done = cfes("seed", seed_file, "--state", state, "--account-id", ACCOUNT_ID)
    assert_one_line_error(done, str(seed_file), f"{collection}[1] was refused: pattern: is not a valid regular")
    assert done.stderr.strip().endswith("; nothing was added"), done.stderr
    assert state.read_bytes() == before
