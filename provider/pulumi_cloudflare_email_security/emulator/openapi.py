"""The settings API as the emulator sees it, read from Cloudflare's own OpenAPI document.

``openapi.json`` beside this module is Cloudflare's published schema for the Email Security settings
operations, kept exactly as published. The API has moved on since: each later change lives in its own file
under ``overlay/`` (applied in name order), an RFC 6902 JSON Patch with the source that shows the change.
:func:`document` is the published document with every overlay applied: today's API. Routes, list
filters, sort fields and request validation are all derived from it, so the emulator accepts and refuses
what today's API does, and the next API change is one more overlay file.
"""

from __future__ import annotations

import json
import re
from dataclasses import dataclass
from functools import cache
from importlib import resources
from typing import Any

import jsonpatch
import jsonpointer
from openapi_schema_validator import OAS30Validator, OAS30WriteValidator, oas30_format_checker

SETTINGS_PREFIX = "/accounts/{account_id}/email-security/settings/"
PAGING_PARAMS = frozenset({"page", "per_page", "search", "order", "direction"})

Schema = dict[str, Any]


@dataclass(frozen=True)
class CollectionApi:
    """What the spec declares for one settings collection."""

    name: str
    id_param: str
    entry_schema: str
    collection_bodies: dict[str, Schema | None]
    item_bodies: dict[str, Schema | None]
    batch_body: Schema | None
    list_filters: dict[str, Schema]
    order_fields: tuple[str, ...]

    @property
    def entry_properties(self) -> dict[str, Schema]:
        """The properties of one entry as the API returns it."""
        return properties_of(document()["components"]["schemas"][self.entry_schema])


@dataclass(frozen=True)
class ApiChange:
    """One change to the API after the published document: what changed, the evidence, and the patch."""

    name: str
    summary: str
    source: str
    patch: tuple[Schema, ...]


@cache
def published_document() -> Schema:
    """The OpenAPI document as Cloudflare published it."""
    text = resources.files(__package__).joinpath("openapi.json").read_text(encoding="utf-8")
    loaded: Schema = json.loads(text)
    return loaded


@cache
def api_changes() -> tuple[ApiChange, ...]:
    """The overlay: every change since the published document, in the order it is applied."""
    folder = resources.files(__package__).joinpath("overlay")
    changes = []
    for item in sorted(folder.iterdir(), key=lambda entry: entry.name):
        if not item.name.endswith(".json"):
            continue
        loaded = json.loads(item.read_text(encoding="utf-8"))
        changes.append(
            ApiChange(item.name.removesuffix(".json"), loaded["summary"], loaded["source"], tuple(loaded["patch"]))
        )
    return tuple(changes)


@cache
def document() -> Schema:
    """Today's API: the published OpenAPI document with every change of the overlay applied."""
    current = published_document()
    for change in api_changes():
        try:
            current = jsonpatch.apply_patch(current, list(change.patch))
        except (jsonpatch.JsonPatchException, jsonpointer.JsonPointerException) as exc:
            raise ValueError(f"API overlay {change.name} does not apply: {exc}") from exc
    return current


def resolve(schema: Schema) -> Schema:
    """Follow ``$ref`` links until a schema with content is reached."""
    while "$ref" in schema:
        name = schema["$ref"].rsplit("/", 1)[-1]
        ref_kind = schema["$ref"].split("/")[2]
        schema = document()["components"][ref_kind][name]
    return schema


def flatten(schema: Schema) -> Schema:
    """A schema with its ``$ref`` and ``allOf`` parts merged into one (for simple parameter schemas)."""
    schema = resolve(schema)
    merged: Schema = {}
    for part in schema.get("allOf", []):
        merged.update(flatten(part))
    merged.update({k: v for k, v in schema.items() if k != "allOf"})
    return merged


def properties_of(schema: Schema) -> dict[str, Schema]:
    """All properties of a schema, merging ``allOf`` parts."""
    schema = resolve(schema)
    props: dict[str, Schema] = {}
    for part in schema.get("allOf", []):
        props.update(properties_of(part))
    props.update({k: resolve(v) for k, v in schema.get("properties", {}).items()})
    return props


def _body_schema(operation: Schema) -> Schema | None:
    body = operation.get("requestBody", {}).get("content", {}).get("application/json", {})
    schema: Schema | None = body.get("schema")
    return schema


def _result_ref(operation: Schema) -> str:
    schema = operation["responses"]["200"]["content"]["application/json"]["schema"]
    for part in schema.get("allOf", []):
        result = part.get("properties", {}).get("result")
        if result and "$ref" in result:
            ref: str = result["$ref"]
            return ref.rsplit("/", 1)[-1]
    raise LookupError("operation has no result schema")


@cache
def collections() -> dict[str, CollectionApi]:
    """Every settings collection the spec declares, by API name (``allow_policies``, ...)."""
    paths: dict[str, Schema] = document()["paths"]
    found: dict[str, CollectionApi] = {}
    for path, ops in paths.items():
        tail = path.removeprefix(SETTINGS_PREFIX)
        if "/" in tail:
            continue
        item_path = next(p for p in paths if re.fullmatch(re.escape(path) + r"/\{[a-z_]+\}", p))
        id_param = item_path.rsplit("{", 1)[1].rstrip("}")
        listing = ops["get"]
        params = [resolve(p) for p in listing.get("parameters", [])]
        order = next((p for p in params if p["name"] == "order"), None)
        batch = paths.get(path + "/batch", {}).get("post")
        found[tail] = CollectionApi(
            name=tail,
            id_param=id_param,
            entry_schema=_result_ref(paths[item_path]["get"]),
            collection_bodies={m: _body_schema(op) for m, op in ops.items() if m != "parameters"},
            item_bodies={m: _body_schema(op) for m, op in paths[item_path].items() if m != "parameters"},
            batch_body=_body_schema(batch) if batch else None,
            list_filters={p["name"]: flatten(p["schema"]) for p in params if p["name"] not in PAGING_PARAMS},
            order_fields=tuple(order["schema"]["enum"]) if order else (),
        )
    return found


def schema_errors(schema: Schema, instance: Any, *, writing: bool = True) -> list[str]:
    """Messages for every way ``instance`` breaks ``schema``, each naming the field."""
    root = {**schema, "components": document()["components"]}
    kind = OAS30WriteValidator if writing else OAS30Validator
    validator = kind(root, format_checker=oas30_format_checker)
    messages = []
    for error in sorted(validator.iter_errors(instance), key=lambda e: list(map(str, e.absolute_path))):
        where = ".".join(str(p) for p in error.absolute_path)
        if error.validator == "required":
            missing = error.message.split("'")[1]
            where = f"{where}.{missing}" if where else missing
            messages.append(f"{where}: is required")
        else:
            messages.append(f"{where or 'body'}: {error.message}")
    return messages
