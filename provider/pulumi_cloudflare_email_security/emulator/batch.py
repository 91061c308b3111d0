"""``POST …/batch``: every part is validated before any is applied, so a batch succeeds whole or not at all."""

from __future__ import annotations

import copy
from typing import TYPE_CHECKING, Any

from . import openapi
from .failures import ApiFailure

if TYPE_CHECKING:
    from .backend import Backend, Entry

PARTS = ("deletes", "patches", "puts", "posts")
ID_SCHEMA: openapi.Schema = {
    "type": "object",
    "required": ["id"],
    "properties": {"id": {"type": "string", "format": "uuid"}},
}


def _item_errors(schema: openapi.Schema, item: Any, where: str, *, needs_id: bool) -> list[str]:
    """Errors of one item. Its ``id`` is checked apart: the spec's item schemas contradict themselves on it
    (read-only, or excluded by ``additionalProperties: false``, yet required)."""
    if not isinstance(item, dict):
        return [f"{where}: must be an object"]
    errors = []
    if needs_id:
        errors += [f"{where}.{m}" for m in openapi.schema_errors(ID_SCHEMA, {"id": item.get("id")}, writing=False)]
    body = {k: v for k, v in item.items() if k != "id"}
    errors += [f"{where}.{m}" for m in openapi.schema_errors(schema, body) if not m.startswith("id:")]
    return errors


def _replaced_fields(schema: openapi.Schema) -> list[str]:
    """The fields a ``puts`` item replaces: its writable properties (``id`` only names the entry)."""
    return [k for k, v in openapi.properties_of(schema).items() if k != "id" and not v.get("readOnly")]


def run_batch(backend: Backend, account_id: str, collection: str, body: Any) -> dict[str, list[Any]]:
    """Check the whole batch, then apply deletes, patches, puts and posts; return the API's result."""
    api = openapi.collections()[collection]
    if api.batch_body is None:
        raise ApiFailure(405, [(7001, f"{collection} has no batch endpoint")])
    item_schemas = api.batch_body["properties"]
    envelope = {
        **api.batch_body,
        "properties": {name: {**part, "items": {}} for name, part in item_schemas.items()},
    }
    errors = openapi.schema_errors(envelope, body, writing=False)
    if errors:
        raise ApiFailure.invalid(*errors)
    parts = {name: body.get(name, []) for name in PARTS}
    for name in item_schemas:
        schema = {} if name == "deletes" else item_schemas[name]["items"]
        for index, item in enumerate(parts[name]):
            errors += _item_errors(schema, item, f"{name}.{index}", needs_id=name != "posts")
    if errors:
        raise ApiFailure.invalid(*errors)

    planned_deletes = [str(item["id"]) for item in parts["deletes"]]
    for entry_id in planned_deletes:
        backend.find_entry(account_id, collection, entry_id)
    changed: list[tuple[str, Entry]] = []
    for name in ("patches", "puts"):
        reset = _replaced_fields(item_schemas[name]["items"]) if name in item_schemas and name == "puts" else []
        for item in parts[name]:
            fields = {k: v for k, v in item.items() if k != "id"}
            merged = backend.prepare_change(account_id, collection, str(item["id"]), fields, reset=reset)
            changed.append((name, merged))
    created = [backend.prepare_create(account_id, collection, item) for item in parts["posts"]]

    result: dict[str, list[Any]] = {name: [] for name in PARTS if name in item_schemas}
    for entry_id in planned_deletes:
        result["deletes"].append(backend.delete(account_id, collection, entry_id))
    for name, merged in changed:
        result[name].append(backend.commit_change(account_id, collection, merged))
    for entry in created:
        backend.insert_entry(account_id, collection, entry)
        result["posts"].append(copy.deepcopy(entry))
    return result
