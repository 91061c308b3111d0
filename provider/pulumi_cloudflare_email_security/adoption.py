"""Finding existing entries: by id for adoption, and by natural key for adoption and after an ambiguous create."""

from __future__ import annotations

from collections.abc import Mapping
from datetime import datetime, timedelta, timezone
from typing import Any

from .client import CloudflareClient, settings_path
from .errors import InputError, NotFoundError
from .settings.base import ADOPT_EXISTING, ADOPT_ID, SettingsType


def describe_key(spec: SettingsType, inputs: Mapping[str, Any]) -> str:
    """The natural key of ``inputs``, for messages: ``pattern='a.example', pattern_type='DOMAIN'``."""
    return ", ".join(f"{k}={inputs.get(k)!r}" for k in spec.natural_key)


def _same_key(spec: SettingsType, entry: Mapping[str, Any], inputs: Mapping[str, Any]) -> bool:
    return all(spec.same_value(k, entry.get(k), entry, inputs.get(k), inputs) for k in spec.natural_key)


def find_by_key(
    client: CloudflareClient, spec: SettingsType, account_id: str, inputs: Mapping[str, Any]
) -> list[dict[str, Any]]:
    """Every entry of the account whose natural key equals that of ``inputs`` (all pages), in any letter
    case where the declaration says case does not matter."""
    filters = {k: inputs[k] for k in spec.key_filters}
    path = settings_path(account_id, spec.collection)
    found = [e for e in client.iter_list(path, filters) if _same_key(spec, e, inputs)]
    caseless = [r.field for r in spec.case_insensitive if r.field in filters and r.holds(inputs)]
    if not found and caseless:
        # The list filters match exactly: an entry stored in another case is only found without them.
        wider = {k: v for k, v in filters.items() if k not in caseless}
        found = [e for e in client.iter_list(path, wider) if _same_key(spec, e, inputs)]
    return found


CLOCK_SKEW = timedelta(minutes=2)
"""How far Cloudflare's clock may be behind ours when telling a just-created entry from an older one."""


def created_at(entry: Mapping[str, Any]) -> datetime | None:
    """When the API says ``entry`` was created (its ``created_at``), or ``None`` without a usable one."""
    try:
        created = datetime.fromisoformat(str(entry["created_at"]).replace("Z", "+00:00"))
    except (KeyError, ValueError):
        return None
    return created if created.tzinfo is not None else created.replace(tzinfo=timezone.utc)


def could_have_made(spec: SettingsType, entry: Mapping[str, Any], inputs: Mapping[str, Any], since: datetime) -> bool:
    """Whether a POST of ``inputs`` made at or after ``since`` could have left ``entry``: every declared field
    equal (up to order and case where they do not count), created since then (less the allowed clock skew;
    without a usable timestamp the fields alone decide)."""
    declared = spec.create_body(inputs)
    created = created_at(entry)
    return all(spec.same_value(k, entry.get(k), entry, v, declared) for k, v in declared.items()) and (
        created is None or created >= since - CLOCK_SKEW
    )


def find_landed(
    client: CloudflareClient, spec: SettingsType, account_id: str, inputs: Mapping[str, Any], since: datetime
) -> list[dict[str, Any]]:
    """Entries a POST of ``inputs`` made at or after ``since`` would have left (:func:`could_have_made`)."""
    return [
        entry for entry in find_by_key(client, spec, account_id, inputs) if could_have_made(spec, entry, inputs, since)
    ]


def fetch_for_adoption(client: CloudflareClient, spec: SettingsType, account_id: str, entry_id: str) -> dict[str, Any]:
    """GET the entry ``adopt_id`` names, refusing one that does not exist or cannot be managed."""
    try:
        entry = client.get(settings_path(account_id, spec.collection, entry_id))
    except NotFoundError:
        raise InputError(
            f"{ADOPT_ID}: there is no {spec.resource_name} with id {entry_id} in account {account_id}"
        ) from None
    refuse_unmanageable(spec, entry, ADOPT_ID)
    return entry


def refuse_another_identity(spec: SettingsType, entry: Mapping[str, Any], inputs: Mapping[str, Any]) -> None:
    """Refuse to adopt an entry whose create-only fields (a domain's name) differ from the declared ones:
    an update cannot change them, so the stack would record values the entry does not have."""
    for name in spec.replace_on:
        if name in spec.fields and not spec.same_value(name, entry.get(name), entry, inputs.get(name), inputs):
            raise InputError(
                f"{ADOPT_ID}: {spec.resource_name} {entry.get('id')} has {name} {entry.get(name)!r}, not the "
                f"declared {inputs.get(name)!r}, and {name} cannot be changed: adopt the entry with that {name}, "
                f"or remove {ADOPT_ID} to create a new one"
            )


def single_match(
    spec: SettingsType, account_id: str, inputs: Mapping[str, Any], matches: list[dict[str, Any]]
) -> dict[str, Any]:
    """The one entry ``adopt_existing`` found (as listed); zero or several matches are errors."""
    key = describe_key(spec, inputs)
    if not matches:
        raise InputError(
            f"{ADOPT_EXISTING}: no {spec.resource_name} with {key} exists in account {account_id}; "
            f"remove {ADOPT_EXISTING} to create it"
        )
    if len(matches) > 1:
        ids = ", ".join(str(m["id"]) for m in matches)
        raise InputError(
            f"{ADOPT_EXISTING}: {len(matches)} entries of {spec.resource_name} have {key} ({ids}); "
            f"name the one to adopt with {ADOPT_ID}"
        )
    return matches[0]


def refuse_existing(
    spec: SettingsType, account_id: str, inputs: Mapping[str, Any], found: list[dict[str, Any]]
) -> None:
    """Refuse to create an entry whose natural key the account already holds (``found``): a second entry
    would duplicate it. Says how to take the existing one over instead."""
    if not found:
        return
    key, ids = describe_key(spec, inputs), ", ".join(str(e.get("id")) for e in found)
    where = f"{spec.resource_name} with {key} already exists in account {account_id} ({ids})"
    blocked = [(e, spec.unmanageable_reason(e)) for e in found if spec.unmanageable_reason(e)]
    if blocked:
        entry, reason = blocked[0]
        raise InputError(
            f"{where}, and {entry.get('id')} cannot be managed: {reason}; nothing was written: remove it from the "
            "program"
        )
    take_over = f"{ADOPT_EXISTING}=True or {ADOPT_ID}={found[0].get('id')!r}" if len(found) == 1 else ADOPT_ID
    raise InputError(
        f"{where} and is not recorded for this resource: nothing was written; if nothing else manages it, set "
        f"{take_over} to take it over (destroying the resource then deletes it), or remove it from the program; "
        f"if another resource of this stack holds it and is being renamed or removed, use aliases, or remove it "
        f"in an earlier `pulumi up`"
    )


def refuse_unmanageable(spec: SettingsType, entry: Mapping[str, Any], field: str | None = None) -> None:
    """Raise when the API does not let this entry be changed (e.g. a directory-synced impersonation entry)."""
    reason = spec.unmanageable_reason(entry)
    if reason:
        prefix = f"{field}: " if field else ""
        raise InputError(f"{prefix}{spec.resource_name} {entry.get('id')} cannot be managed: {reason}")
