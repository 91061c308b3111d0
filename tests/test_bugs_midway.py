"""A bug midway in work that is undone on failure (issue 15.7): the undo still runs, and the error says what it
did, not only that a bug happened.

* A set's write: the entries it created are deleted again, and the error the user sees says so and what
  stays; the bug's traceback goes to the log. Provoked in process, against the respx-mounted emulator: after
  the write's posts, patches and deletes landed, the step that follows them fails as a bug would.
* A seed of the emulator's state file: nothing of it is kept, and the error says so.
"""

from __future__ import annotations

import logging
from pathlib import Path
from typing import Any, NoReturn

import pytest

from pulumi_cloudflare_email_security.emulator import mock_cloudflare
from pulumi_cloudflare_email_security.emulator.backend import Backend
from pulumi_cloudflare_email_security.emulator.persistence import StateFile
from pulumi_cloudflare_email_security.emulator.seeding import SeedError, seed_state
from pulumi_cloudflare_email_security.registry import SET_PROVIDERS, SET_SETTINGS_TYPES
from pulumi_cloudflare_email_security.reporting import UnexpectedError
from pulumi_cloudflare_email_security.set_write import SetWrite
from pulumi_cloudflare_email_security.sets import SetProvider

from .conftest import ACCOUNT_ID
from .samples import API_CREATE_BODIES, changed_numbered_inputs, numbered_inputs


def checked(provider: SetProvider, declared: list[dict[str, Any]]) -> dict[str, Any]:
    result = provider.check({}, {"account_id": ACCOUNT_ID, "entries": declared})
    assert not result.failures
    return dict(result.inputs)


def a_bug(self: SetWrite) -> NoReturn:
    raise RuntimeError("a provoked bug")


@pytest.mark.parametrize("step", ["create", "update"])
@pytest.mark.parametrize("set_name", sorted(SET_PROVIDERS))
def test_a_bug_after_writes_landed_is_undone_and_the_error_says_so(
    set_name: str,
    step: str,
    cloudflare: mock_cloudflare,
    monkeypatch: pytest.MonkeyPatch,
    caplog: pytest.LogCaptureFixture,
) -> None:
    spec, provider = SET_SETTINGS_TYPES[set_name], SET_PROVIDERS[set_name]()
    type_name = spec.resource_name
    before = [numbered_inputs(type_name, n) for n in range(6)]
    outs: dict[str, Any] = {}
    if step == "update":
        outs = dict(provider.create(checked(provider, before)).outs)
    # two changed, two dropped (deleted), two kept as they are, and three new
    declared = [changed_numbered_inputs(type_name, n) for n in range(2)] + before[4:]
    declared += [numbered_inputs(type_name, n) for n in range(100, 103)]
    news = checked(provider, declared)
    monkeypatch.setattr(SetWrite, "_refuse_rivals", a_bug)  # runs after the writes, once entries were created

    with (
        caplog.at_level(logging.ERROR, logger="pulumi_cloudflare_email_security"),
        pytest.raises(UnexpectedError) as raised,
    ):
        if step == "create":
            provider.create(news)
        else:
            provider.update("set-id", outs, news)

    message = str(raised.value)
    assert "Unexpected RuntimeError" in message and "this is a bug" in message and "\n" not in message
    created = 3 if step == "update" else len(declared)
    assert f"{set_name}: the write stopped here; the {created} entries it had created were deleted again" in message
    if step == "update":
        assert "of its entries, 2 updated and 2 deleted before the failure stay so" in message
    left = {spec.key_of(e) for e in cloudflare.backend.entries(ACCOUNT_ID, spec.collection)}
    kept = before[:2] + before[4:] if step == "update" else []
    assert left == {spec.key_of(e) for e in kept}, "nothing the write created is left"
    assert any(
        "Traceback (most recent call last):" in r.getMessage() and "RuntimeError: a provoked bug" in r.getMessage()
        for r in caplog.records
    ), "the bug's traceback is in the log"


def test_a_bug_midway_in_a_seed_keeps_nothing_and_the_error_says_so(
    tmp_path: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    state = tmp_path / "state.json"
    seed_state(StateFile(state), ACCOUNT_ID, {"trusted_domains": [API_CREATE_BODIES["trusted_domains"]]})
    before = StateFile(state)
    with before.transaction():
        kept = before.backend.snapshot()
    create = Backend.create

    def create_then_fail(self: Backend, account_id: str, collection: str, body: Any) -> Any:
        if collection == "allow_policies":
            raise KeyError("a provoked bug")
        return create(self, account_id, collection, body)

    monkeypatch.setattr(Backend, "create", create_then_fail)
    seed = {"url_ignore_patterns": [API_CREATE_BODIES["url_ignore_patterns"]], "allow_policies": [{}]}
    with pytest.raises(SeedError) as raised:
        seed_state(StateFile(state), ACCOUNT_ID, seed)
    message = str(raised.value)
    assert message.startswith("allow_policies[0]: seeding stopped on an unexpected KeyError ('a provoked bug')")
    assert "nothing of the seed was kept" in message and "a bug of the emulator" in message
    after = StateFile(state)
    with after.transaction():
        assert after.backend.snapshot() == kept
