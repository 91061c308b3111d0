"""The official SDK agrees with the emulator: ``cloudflare`` (the version pinned in the test extras), with strict
response validation, drives every collection ``cfes emulator`` serves, as a real process on a loopback port.

One row of :data:`SDK_ROWS` per collection is all a new collection needs: its resource under
``client.email_security.settings`` and how to make its entries.
"""

from __future__ import annotations

import collections.abc
import inspect
import re
import typing
import uuid
from collections.abc import Callable, Iterator
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any

import cloudflare
import pytest

from pulumi_cloudflare_email_security.emulator import openapi, rules
from pulumi_cloudflare_email_security.emulator.listing import FILTER_FIELDS

from .conftest import CANARY
from .samples import API_EDITS, API_NAME_FIELD, numbered_body
from .test_cli import start_emulator, stop

SDK_CALL_OPTIONS = frozenset({"self", "account_id", "extra_headers", "extra_query", "extra_body", "timeout"})
BATCH_PARTS = ("deletes", "patches", "puts", "posts")


@dataclass(frozen=True)
class SdkRow:
    """How the SDK reaches one collection, and the entries the tests make in it."""

    resource: str
    """The attribute under ``client.email_security.settings``."""
    extra: Callable[[int], dict[str, Any]] = field(default=lambda n: {})
    """Fields added to the n-th entry's create body (e.g. a value for a list filter to find)."""

    def body(self, collection: str, n: int) -> dict[str, Any]:
        """The create body of the n-th entry."""
        return {**numbered_body(collection, n), **self.extra(n)}


SDK_ROWS: dict[str, SdkRow] = {
    "allow_policies": SdkRow("allow_policies"),
    "block_senders": SdkRow("block_senders"),
    "trusted_domains": SdkRow("trusted_domains"),
    "impersonation_registry": SdkRow("impersonation_registry"),
    "sending_domain_restrictions": SdkRow("sending_domain_restrictions"),
    "domains": SdkRow("domains", extra=lambda n: {"integration_id": str(uuid.UUID(int=n + 1))}),
    "url_ignore_patterns": SdkRow("url_ignore_patterns"),
    "content_policies": SdkRow("content_policies"),
}
COLLECTIONS = sorted(set(openapi.collections()) | set(SDK_ROWS))


@pytest.fixture(scope="module")
def emulator_url() -> Iterator[str]:
    """``cfes emulator`` on a free loopback port for this module, always stopped."""
    process, base_url = start_emulator()
    try:
        yield base_url
    finally:
        stop(process)


@pytest.fixture(scope="module")
def sdk(emulator_url: str) -> Iterator[cloudflare.Cloudflare]:
    client = cloudflare.Cloudflare(
        api_token=CANARY, base_url=emulator_url, max_retries=0, _strict_response_validation=True
    )
    with client:
        yield client


@pytest.fixture
def account() -> str:
    """A fresh account for each test, so tests share the emulator but never its entries."""
    return uuid.uuid4().hex


def served(collection: str) -> SdkRow:
    if collection not in openapi.collections():
        pytest.skip(f"the emulator does not serve {collection} yet")
    assert collection in SDK_ROWS, f"add a row for {collection} to SDK_ROWS"
    return SDK_ROWS[collection]


def resource_of(sdk: cloudflare.Cloudflare, row: SdkRow) -> Any:
    return getattr(sdk.email_security.settings, row.resource)


def fields_of(model: Any) -> dict[str, Any]:
    dumped: dict[str, Any] = model.model_dump(mode="json")
    return dumped


def assert_known_to_the_sdk(model: Any) -> None:
    assert not model.model_extra, f"the emulator answers fields the SDK does not know: {sorted(model.model_extra)}"


def create(resource: Any, row: SdkRow, collection: str, account: str, n: int) -> Any:
    body = row.body(collection, n)
    created = resource.create(account_id=account, **body)
    assert_known_to_the_sdk(created)
    assert {k: v for k, v in fields_of(created).items() if k in body} == body
    return created


def test_the_sdk_is_the_pinned_version() -> None:
    pyproject = (Path(__file__).parents[1] / "pyproject.toml").read_text(encoding="utf-8")
    pins = re.findall(r'"(cloudflare[^"]*)"', pyproject)
    assert pins == [f"cloudflare=={cloudflare.__version__}"], "the SDK agreement holds for the pinned SDK only"


def test_every_collection_has_a_row() -> None:
    assert set(openapi.collections()) <= set(SDK_ROWS)


@pytest.mark.parametrize("collection", COLLECTIONS)
def test_create_get_edit_delete(sdk: cloudflare.Cloudflare, account: str, collection: str) -> None:
    row = served(collection)
    resource = resource_of(sdk, row)
    created = create(resource, row, collection, account, 0)
    got = resource.get(created.id, account_id=account)
    assert_known_to_the_sdk(got)
    assert fields_of(got) == fields_of(created)
    edited = resource.edit(created.id, account_id=account, **API_EDITS[collection])
    assert_known_to_the_sdk(edited)
    assert {k: v for k, v in fields_of(edited).items() if k in API_EDITS[collection]} == API_EDITS[collection]
    assert edited.created_at == created.created_at and edited.modified_at >= created.modified_at
    assert resource.delete(created.id, account_id=account).id == created.id
    with pytest.raises(cloudflare.NotFoundError):
        resource.get(created.id, account_id=account)


def _literals(annotation: Any) -> list[Any]:
    if typing.get_origin(annotation) is typing.Literal:
        return list(typing.get_args(annotation))
    return [value for arg in typing.get_args(annotation) for value in _literals(arg)]


def _is_sequence(annotation: Any) -> bool:
    origin = typing.get_origin(annotation)
    if origin in (collections.abc.Sequence, list):
        return True
    return any(_is_sequence(arg) for arg in typing.get_args(annotation))


def _list_ids(resource: Any, account: str, **params: Any) -> list[str]:
    listed = list(resource.list(account_id=account, **params))
    for entry in listed:
        assert_known_to_the_sdk(entry)
    return [entry.id for entry in listed]


@pytest.mark.parametrize("collection", COLLECTIONS)
def test_list_with_every_parameter_the_sdk_has(sdk: cloudflare.Cloudflare, account: str, collection: str) -> None:
    row = served(collection)
    resource = resource_of(sdk, row)
    entries = [fields_of(create(resource, row, collection, account, n)) for n in range(3)]
    ids = [entry["id"] for entry in entries]
    hints = typing.get_type_hints(resource.list)
    params = [p for p in inspect.signature(resource.list).parameters if p not in SDK_CALL_OPTIONS]
    assert _list_ids(resource, account) == ids
    for name in params:
        if name == "page":
            assert _list_ids(resource, account, page=2, per_page=2) == ids[2:]
        elif name == "per_page":
            assert _list_ids(resource, account, per_page=1) == ids  # the SDK pages through to the end
        elif name in ("order", "direction"):
            # Numbered entries ascend in every field they can be ordered by.
            for value in _literals(hints[name]):
                expected = ids[::-1] if value == "desc" else ids
                assert _list_ids(resource, account, **{name: value}) == expected, (name, value)
        elif name == "search":
            wanted = entries[1][API_NAME_FIELD[collection]]
            assert _list_ids(resource, account, search=wanted) == [ids[1]]
        else:
            key = FILTER_FIELDS.get(name, name)
            value = entries[1][key]
            assert value is not None, f"give {collection}'s entries a {key} in SDK_ROWS, to filter on"
            if isinstance(value, list) and not _is_sequence(hints[name]):
                value = value[0]
            sent = [value] if _is_sequence(hints[name]) else value
            matching = [e["id"] for e in entries if e[key] == value or (isinstance(e[key], list) and value in e[key])]
            assert _list_ids(resource, account, **{name: sent}) == matching, name
    unasked = set(openapi.collections()[collection].list_filters) - set(params)
    assert not unasked, f"the emulator filters on what the SDK cannot send: {sorted(unasked)}"


@pytest.mark.parametrize("collection", COLLECTIONS)
def test_batch(sdk: cloudflare.Cloudflare, account: str, collection: str) -> None:
    row = served(collection)
    resource = resource_of(sdk, row)
    api = openapi.collections()[collection]
    if not hasattr(resource, "batch"):
        kept = " (the emulator keeps the July spec's endpoint: overlays 07, 08)" if api.batch_body else ""
        pytest.skip(f"the SDK has no batch method for {collection}{kept}")
    assert api.batch_body is not None
    parts = api.batch_body["properties"]
    assert set(parts) == set(BATCH_PARTS)
    deleted, patched, replaced = (create(resource, row, collection, account, n) for n in range(3))
    put_fields = openapi.properties_of(parts["puts"]["items"])
    replacement = {k: v for k, v in row.body(collection, 9).items() if k in put_fields and k != "id"}
    posted_body = row.body(collection, 3)
    result = resource.batch(
        account_id=account,
        deletes=[{"id": deleted.id}],
        patches=[{"id": patched.id, **API_EDITS[collection]}],
        puts=[{"id": replaced.id, **replacement}],
        posts=[posted_body],
    )
    assert [d.id for d in result.deletes] == [deleted.id]
    assert [p.id for p in result.patches] == [patched.id] and [p.id for p in result.puts] == [replaced.id]
    for model in (*result.patches, *result.puts, *result.posts):
        assert_known_to_the_sdk(model)
    assert {k: v for k, v in fields_of(result.patches[0]).items() if k in API_EDITS[collection]} == API_EDITS[
        collection
    ]
    put = fields_of(result.puts[0])
    assert {k: v for k, v in put.items() if k in replacement} == replacement
    assert put["created_at"] == fields_of(replaced)["created_at"]
    assert {k: v for k, v in fields_of(result.posts[0]).items() if k in posted_body} == posted_body
    remaining = _list_ids(resource, account)
    assert remaining == [patched.id, replaced.id, result.posts[0].id]


# --- what the newer API changed, through the SDK (overlay rows) ----------------------------------------------


def test_domain_status_is_upper_case_and_filters(sdk: cloudflare.Cloudflare, account: str) -> None:
    domains = sdk.email_security.settings.domains
    created = domains.create(account_id=account, **SDK_ROWS["domains"].body("domains", 0))
    assert created.status == rules.CREATE_DEFAULTS["domains"]["status"] == "PENDING"
    assert [d.id for d in domains.list(account_id=account, status="PENDING")] == [created.id]
    assert list(domains.list(account_id=account, status="ACTIVE")) == []


@pytest.mark.parametrize("lookback_hops", ["left out", None])
def test_a_domain_put_may_leave_lookback_hops_out(sdk: cloudflare.Cloudflare, account: str, lookback_hops: Any) -> None:
    domains = sdk.email_security.settings.domains
    created = domains.create(account_id=account, **{**SDK_ROWS["domains"].body("domains", 0), "lookback_hops": 7})
    body: dict[str, Any] = {"allowed_delivery_modes": ["BCC"], "drop_dispositions": [], "ip_restrictions": []}
    if lookback_hops != "left out":
        body["lookback_hops"] = lookback_hops
    replaced = domains.update(created.id, account_id=account, regions=["US"], **body)
    assert replaced.lookback_hops == rules.CREATE_DEFAULTS["domains"]["lookback_hops"]
    assert replaced.domain == created.domain and replaced.allowed_delivery_modes == ["BCC"]


def test_the_deprecated_bulk_delete_sends_no_body_and_unprotects_nothing(
    sdk: cloudflare.Cloudflare, account: str
) -> None:
    domains = sdk.email_security.settings.domains
    created = domains.create(account_id=account, **SDK_ROWS["domains"].body("domains", 0))
    with pytest.warns(DeprecationWarning):
        assert list(domains.bulk_delete(account_id=account)) == []
    assert [d.id for d in domains.list(account_id=account)] == [created.id]


def test_impersonation_provenance_may_be_null(sdk: cloudflare.Cloudflare, account: str) -> None:
    registry = sdk.email_security.settings.impersonation_registry
    body = SDK_ROWS["impersonation_registry"].body("impersonation_registry", 0)
    created = registry.create(account_id=account, provenance=None, **body)
    assert created.provenance == rules.DIRECTORY_INTERNAL
    assert registry.edit(created.id, account_id=account, provenance=None).provenance == rules.DIRECTORY_INTERNAL


@pytest.mark.parametrize("collection", ["allow_policies", "block_senders"])
@pytest.mark.parametrize(("pattern", "accepted"), [("2606:4700:4700::/48", True), ("::ffff:10.0.0.1", False)])
def test_ipv6_patterns(sdk: cloudflare.Cloudflare, account: str, collection: str, pattern: str, accepted: bool) -> None:
    resource = resource_of(sdk, SDK_ROWS[collection])
    body = {**SDK_ROWS[collection].body(collection, 0), "pattern": pattern, "pattern_type": "IP", "is_regex": False}
    if accepted:
        assert resource.create(account_id=account, **body).pattern == pattern
    else:
        with pytest.raises(cloudflare.BadRequestError, match=re.escape("pattern: must be a public IP address")):
            resource.create(account_id=account, **body)
