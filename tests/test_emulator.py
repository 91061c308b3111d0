"""The emulator against the spec, for every collection: CRUD, validation, auth, paging, filters, batch."""

from __future__ import annotations

import re
import uuid
from typing import Any

import httpx
import pytest

from pulumi_cloudflare_email_security.emulator import EmulatorServer, StateFile, mock_cloudflare, openapi
from pulumi_cloudflare_email_security.emulator.routes import Router

from .conftest import ACCOUNT_ID, CANARY
from .samples import API_CREATE_BODIES, API_EDITS, API_NAME_FIELD, numbered_body

COLLECTIONS = sorted(openapi.collections())
BATCHED = [c for c in COLLECTIONS if openapi.collections()[c].batch_body is not None]
BASE = "https://api.cloudflare.com/client/v4"
TIMESTAMP = re.compile(r"^\d{4}-\d\d-\d\dT\d\d:\d\d:\d\d\.\d+Z$")


@pytest.fixture
def api() -> Any:
    with mock_cloudflare() as cf:
        cf.http = httpx.Client(base_url=BASE, headers={"Authorization": f"Bearer {CANARY}"})
        yield cf


def url(collection: str, *rest: str) -> str:
    return "/".join([f"/accounts/{ACCOUNT_ID}/email-security/settings/{collection}", *rest])


def create(api: Any, collection: str, body: dict[str, Any]) -> dict[str, Any]:
    reply = api.http.post(url(collection), json=body)
    assert reply.status_code == 201, reply.text
    result: dict[str, Any] = reply.json()["result"]
    return result


def failure(reply: httpx.Response, status: int) -> list[str]:
    assert reply.status_code == status, reply.text
    envelope = reply.json()
    assert envelope["success"] is False and envelope["result"] is None
    assert all(isinstance(e["code"], int) and e["code"] >= 1000 for e in envelope["errors"])
    return [e["message"] for e in envelope["errors"]]


def test_every_collection_of_the_spec_has_samples() -> None:
    assert sorted(API_CREATE_BODIES) == COLLECTIONS


@pytest.mark.parametrize("collection", COLLECTIONS)
def test_crud_round_trip(api: Any, collection: str) -> None:
    entry = create(api, collection, API_CREATE_BODIES[collection])
    uuid.UUID(entry["id"])
    properties = openapi.collections()[collection].entry_properties
    for stamp in ("created_at", "modified_at", "last_modified"):
        if stamp in properties:  # the deprecated last_modified is absent from collections newer than it
            assert TIMESTAMP.match(entry[stamp])
    for field, value in API_CREATE_BODIES[collection].items():
        assert entry[field] == value
    assert set(entry) >= set(openapi.collections()[collection].entry_properties) - {"authorization", "emails_processed"}

    got = api.http.get(url(collection, entry["id"])).json()
    assert got["success"] is True and got["result"] == entry

    edited = api.http.patch(url(collection, entry["id"]), json=API_EDITS[collection]).json()["result"]
    for field, value in API_EDITS[collection].items():
        assert edited[field] == value
    assert edited["created_at"] == entry["created_at"] and edited["modified_at"] >= entry["modified_at"]

    deleted = api.http.delete(url(collection, entry["id"])).json()
    assert deleted["result"] == {"id": entry["id"]}
    failure(api.http.get(url(collection, entry["id"])), 404)
    failure(api.http.delete(url(collection, entry["id"])), 404)


@pytest.mark.parametrize("collection", COLLECTIONS)
def test_required_fields_and_unknown_fields(api: Any, collection: str) -> None:
    schema = openapi.resolve(openapi.collections()[collection].collection_bodies["post"] or {})
    required = schema.get("required", [])
    messages = failure(api.http.post(url(collection), json={}), 400)
    for field in required:
        assert f"{field}: is required" in messages
    read_only = {**API_CREATE_BODIES[collection], "id": str(uuid.uuid4())}
    assert failure(api.http.post(url(collection), json=read_only), 400)
    assert failure(api.http.patch(url(collection, str(uuid.uuid4())), json={}), 404)


@pytest.mark.parametrize("collection", COLLECTIONS)
def test_edit_validates_against_the_spec(api: Any, collection: str) -> None:
    entry = create(api, collection, API_CREATE_BODIES[collection])
    update_schema = openapi.resolve(openapi.collections()[collection].item_bodies["patch"] or {})
    empty = api.http.patch(url(collection, entry["id"]), json={})
    if update_schema.get("minProperties"):
        assert any("non-empty" in m or "few properties" in m for m in failure(empty, 400))
    else:
        assert empty.status_code == 200
    comments = openapi.properties_of(update_schema).get("comments")
    if comments and comments.get("maxLength"):
        too_long = api.http.patch(url(collection, entry["id"]), json={"comments": "x" * (comments["maxLength"] + 1)})
        assert any(m.startswith("comments:") for m in failure(too_long, 400))


@pytest.mark.parametrize("collection", ["allow_policies", "block_senders"])
@pytest.mark.parametrize(
    ("pattern", "pattern_type", "is_regex"),
    [
        ("not-an-email", "EMAIL", False),
        ("user@@example.com", "EMAIL", False),
        ("not a domain", "DOMAIN", False),
        ("10.0.0.0/8", "IP", False),
        ("fe80::1", "IP", False),
        ("::ffff:192.168.0.1", "IP", False),
        ("999.1.1.1", "IP", False),
        ("(unclosed", "EMAIL", True),
        ("user@example.com", "UNKNOWN", False),
    ],
)
def test_pattern_rules(api: Any, collection: str, pattern: str, pattern_type: str, is_regex: bool) -> None:
    body = {**API_CREATE_BODIES[collection], "pattern": pattern, "pattern_type": pattern_type, "is_regex": is_regex}
    messages = failure(api.http.post(url(collection), json=body), 400)
    assert any(m.startswith(("pattern:", "pattern_type:")) for m in messages)
    entry = create(api, collection, API_CREATE_BODIES[collection])
    assert failure(
        api.http.patch(
            url(collection, entry["id"]), json={"pattern": pattern, "pattern_type": pattern_type, "is_regex": is_regex}
        ),
        400,
    )


def test_enums_and_ranges(api: Any) -> None:
    domain = {**API_CREATE_BODIES["domains"], "regions": ["MARS"], "lookback_hops": 21}
    messages = failure(api.http.post(url("domains"), json=domain), 400)
    assert any(m.startswith("regions.0:") for m in messages)
    assert any(m.startswith("lookback_hops:") for m in messages)


def test_directory_synced_impersonation_entries_are_read_only(api: Any) -> None:
    synced = api.backend.seed(
        ACCOUNT_ID,
        "impersonation_registry",
        {**API_CREATE_BODIES["impersonation_registry"], "provenance": "SNOOPY-OFFICE_365"},
    )
    messages = failure(api.http.patch(url("impersonation_registry", synced["id"]), json={"name": "x"}), 400)
    assert "synced from a directory" in messages[0]


def test_a_domain_is_protected_once(api: Any) -> None:
    create(api, "domains", API_CREATE_BODIES["domains"])
    assert "already protected" in failure(api.http.post(url("domains"), json=API_CREATE_BODIES["domains"]), 409)[0]


@pytest.mark.parametrize(
    "headers",
    [{}, {"Authorization": "Bearer "}, {"X-Auth-Email": "a@b.example"}, {"Authorization": "Basic abc"}],
)
def test_requests_without_credentials_are_refused(headers: dict[str, str]) -> None:
    with mock_cloudflare():
        reply = httpx.get(BASE + url("allow_policies"), headers=headers)
    assert failure(reply, 401)


def test_email_and_key_are_accepted_unless_tokens_are_restricted() -> None:
    by_key = {"X-Auth-Email": "a@b.example", "X-Auth-Key": "k"}
    with mock_cloudflare():
        assert httpx.get(BASE + url("allow_policies"), headers=by_key).status_code == 200
    with mock_cloudflare(accepted_tokens={"good"}):
        assert failure(httpx.get(BASE + url("allow_policies"), headers=by_key), 403)
        assert failure(httpx.get(BASE + url("allow_policies"), headers={"Authorization": "Bearer bad"}), 403)
        assert httpx.get(BASE + url("allow_policies"), headers={"Authorization": "Bearer good"}).status_code == 200


def test_unknown_routes_and_methods(api: Any) -> None:
    assert failure(api.http.get(f"/accounts/{ACCOUNT_ID}/email-security/nothing"), 404) == ["No route for the URI"]
    assert failure(api.http.put(url("allow_policies", str(uuid.uuid4())), json={"a": 1}), 405)
    assert failure(api.http.get(url("allow_policies") + "?per_page=1001"), 400)
    assert failure(api.http.get(url("allow_policies") + "?page=0"), 400)
    assert failure(api.http.post(url("allow_policies"), content=b"{not json"), 400)


@pytest.mark.parametrize("collection", COLLECTIONS)
def test_paging_to_the_end(api: Any, collection: str) -> None:
    for n in range(7):
        create(api, collection, numbered_body(collection, n))
    seen = []
    for page in (1, 2, 3, 4):
        reply = api.http.get(url(collection), params={"page": page, "per_page": 3}).json()
        info = reply["result_info"]
        assert (info["page"], info["per_page"], info["total_count"]) == (page, 3, 7)
        assert info["count"] == len(reply["result"])
        seen += [e["id"] for e in reply["result"]]
    assert len(seen) == len(set(seen)) == 7  # page 4 is empty, past the last page
    default = api.http.get(url(collection)).json()
    assert default["result_info"]["per_page"] == 20


@pytest.mark.parametrize("collection", [c for c in COLLECTIONS if openapi.collections()[c].order_fields])
def test_sorting(api: Any, collection: str) -> None:
    for n in (2, 0, 1):
        create(api, collection, numbered_body(collection, n))
    field = API_NAME_FIELD[collection]
    order = field if field in openapi.collections()[collection].order_fields else "created_at"
    for direction in ("asc", "desc"):
        result = api.http.get(url(collection), params={"order": order, "direction": direction}).json()["result"]
        values = [e[order] for e in result]
        assert values == sorted(values, reverse=direction == "desc")
    assert failure(api.http.get(url(collection), params={"order": "nonsense"}), 400)


@pytest.mark.parametrize("collection", [c for c in COLLECTIONS if c != "url_ignore_patterns"])
def test_search(api: Any, collection: str) -> None:
    for n in range(3):
        create(api, collection, numbered_body(collection, n))
    needle = str(numbered_body(collection, 1)[API_NAME_FIELD[collection]])
    result = api.http.get(url(collection), params={"search": needle.upper()}).json()["result"]
    assert [e[API_NAME_FIELD[collection]] for e in result] == [needle]


def test_filters_follow_the_spec(api: Any) -> None:
    create(api, "allow_policies", API_CREATE_BODIES["allow_policies"])
    create(
        api,
        "allow_policies",
        {
            **API_CREATE_BODIES["allow_policies"],
            "pattern": "b.example",
            "pattern_type": "DOMAIN",
            "is_trusted_sender": False,
        },
    )
    listed = lambda **q: [e["pattern"] for e in api.http.get(url("allow_policies"), params=q).json()["result"]]  # noqa: E731
    assert listed(pattern_type="DOMAIN") == ["b.example"]
    assert listed(is_trusted_sender="true") == ["sender@partner.example"]
    assert listed(pattern="b.example", is_trusted_sender="false") == ["b.example"]
    assert failure(api.http.get(url("allow_policies"), params={"is_trusted_sender": "yes"}), 400)
    assert failure(api.http.get(url("allow_policies"), params={"pattern_type": "NOPE"}), 400)

    create(api, "domains", API_CREATE_BODIES["domains"])
    create(
        api, "domains", {**API_CREATE_BODIES["domains"], "domain": "other.example", "allowed_delivery_modes": ["BCC"]}
    )
    domains = lambda q: [e["domain"] for e in api.http.get(url("domains"), params=q).json()["result"]]  # noqa: E731
    assert domains([("domain", "corp.example"), ("domain", "other.example")]) == ["corp.example", "other.example"]
    assert domains({"allowed_delivery_mode": "BCC"}) == ["other.example"]
    assert domains({"status": "pending"}) == ["corp.example", "other.example"]


@pytest.mark.parametrize("collection", BATCHED)
def test_batch_applies_all_or_nothing(api: Any, collection: str) -> None:
    first = create(api, collection, numbered_body(collection, 0))
    second = create(api, collection, numbered_body(collection, 1))
    parts = openapi.collections()[collection].batch_body["properties"]  # type: ignore[index]
    body: dict[str, list[Any]] = {name: [] for name in parts}
    body["deletes"] = [{"id": first["id"]}]
    if "posts" in parts:
        body["posts"] = [numbered_body(collection, 2)]
        body["patches"] = [{"id": second["id"], **API_EDITS[collection]}]
    result = api.http.post(url(collection, "batch"), json=body).json()["result"]
    assert result["deletes"] == [{"id": first["id"]}]
    remaining = {e["id"]: e for e in api.backend.entries(ACCOUNT_ID, collection)}
    assert first["id"] not in remaining
    if "posts" in parts:
        assert len(result["posts"]) == 1 and result["posts"][0]["id"] in remaining
        for field, value in API_EDITS[collection].items():
            assert remaining[second["id"]][field] == value

    before = api.backend.entries(ACCOUNT_ID, collection)
    broken = {**body, "deletes": [{"id": second["id"]}, {"id": str(uuid.uuid4())}]}
    assert failure(api.http.post(url(collection, "batch"), json=broken), 404)
    assert api.backend.entries(ACCOUNT_ID, collection) == before
    assert failure(api.http.post(url(collection, "batch"), json={"deletes": [{"id": "not-a-uuid"}]}), 400)


def test_sending_domain_restrictions_batch_only_deletes(api: Any) -> None:
    entry = create(api, "sending_domain_restrictions", API_CREATE_BODIES["sending_domain_restrictions"])
    reply = api.http.post(url("sending_domain_restrictions", "batch"), json={"deletes": [{"id": entry["id"]}]})
    assert reply.json()["result"] == {"deletes": [{"id": entry["id"]}]}
    assert failure(
        api.http.post(
            url("impersonation_registry", "batch"), json={"deletes": [], "patches": [], "puts": [], "posts": []}
        ),
        405,
    )


def test_domain_extras(api: Any) -> None:
    domain = create(api, "domains", API_CREATE_BODIES["domains"])
    verification = api.http.get(url("domains", domain["id"], "verification")).json()["result"]
    assert set(verification) == {"status", "txt_record_name", "txt_record_value", "last_checked_at"}
    replaced = api.http.put(
        url("domains", domain["id"]),
        json={
            "allowed_delivery_modes": ["BCC"],
            "drop_dispositions": [],
            "ip_restrictions": [],
            "lookback_hops": 2,
            "regions": ["US"],
        },
    ).json()["result"]
    assert (replaced["allowed_delivery_modes"], replaced["lookback_hops"]) == (["BCC"], 2)
    assert replaced["transport"] is None and replaced["domain"] == "corp.example"  # PUT resets what it omits
    other = create(api, "domains", {**API_CREATE_BODIES["domains"], "domain": "two.example"})
    bulk = api.http.request("DELETE", url("domains"), json=[{"id": domain["id"]}, {"id": other["id"]}]).json()
    assert bulk["result"] == [{"id": domain["id"]}, {"id": other["id"]}]


def test_state_file_persists_across_processes_and_restarts(tmp_path: Any) -> None:
    path = tmp_path / "state.json"
    first = StateFile(path)
    router = Router(first.backend, around=first.transaction)
    headers = {"authorization": "Bearer t"}
    reply = router.handle("POST", url("url_ignore_patterns"), [], headers, b'{"pattern": "https://a.example/*"}')
    assert reply.status == 201 and path.exists()
    second = StateFile(path)
    listed = Router(second.backend, around=second.transaction).handle(
        "GET", url("url_ignore_patterns"), [], headers, b""
    )
    assert [e["pattern"] for e in (listed.body or {})["result"]] == ["https://a.example/*"]


def test_http_server_answers_only_under_the_api_prefix(emulator_server: EmulatorServer) -> None:
    # The official SDK against the server: tests/test_sdk_agreement.py.
    outside_the_api = emulator_server.base_url.replace("/client/v4", "") + url("allow_policies")
    assert failure(httpx.get(outside_the_api, headers={"Authorization": "Bearer x"}), 404) == ["No route for the URI"]
