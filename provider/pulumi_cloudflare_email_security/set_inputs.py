"""A set resource's inputs and outputs: checking every entry, the diff by natural key, and the entries
recorded in the state. The writes are :mod:`.set_write`'s; the provider is :mod:`.sets`'s."""

from __future__ import annotations

from collections.abc import Mapping
from typing import Any

from pulumi.dynamic import (
    DiffResult,
)

from .adoption import describe_key
from .formats import shown, shown_name
from .settings.base import (
    ACCOUNT_ID,
    ADOPT_EXISTING,
    PROVIDER_KEY,
    Bag,
    SettingsType,
    is_unknown,
)
from .settings.checking import Failure, account_failures, bool_failures, check_inputs

ENTRIES = "entries"
COUNT = "count"
EXCLUSIVE = "exclusive"
ENTRY_ID = "id"
DRIFT_IDS = "drift_ids"
"""An output: the ids among ``entries`` that an exclusive set found at refresh without declaring them."""
SET_INPUTS = (ACCOUNT_ID, ENTRIES, EXCLUSIVE, ADOPT_EXISTING)
"""Every input of a set resource."""

Entry = dict[str, Any]
Key = tuple[Any, ...]


# --- check ---------------------------------------------------------------------------------------------


def check_set(spec: SettingsType, set_name: str, news: Mapping[str, Any]) -> tuple[Bag, list[Failure]]:
    """Validate a set's inputs: each entry by the single resource's rules, named by position and field
    (``entries[3].pattern: …``), and each natural key declared once. Unknown values pass unchecked."""
    bag = {k: v for k, v in news.items() if k != PROVIDER_KEY}
    for output in (COUNT, DRIFT_IDS):
        if bag.get(output) is None:
            bag.pop(output, None)  # the output placeholders the resource class registers
    failures = []
    for name in bag:
        if name not in SET_INPUTS:
            unknown = shown_name(name)
            failures.append(
                Failure(unknown, f"{unknown}: is not an input of {set_name}; inputs are {', '.join(SET_INPUTS)}")
            )
    failures += account_failures(bag.get(ACCOUNT_ID))
    failures += bool_failures(bag, (EXCLUSIVE, ADOPT_EXISTING))
    entries, entry_failures = check_entries(spec, bag.get(ENTRIES))
    inputs = {
        ACCOUNT_ID: bag.get(ACCOUNT_ID),
        ENTRIES: entries,
        EXCLUSIVE: False if bag.get(EXCLUSIVE) is None else bag[EXCLUSIVE],
        ADOPT_EXISTING: False if bag.get(ADOPT_EXISTING) is None else bag[ADOPT_EXISTING],
    }
    return inputs, failures + entry_failures


def check_entries(spec: SettingsType, entries: Any) -> tuple[Any, list[Failure]]:
    """The checked entries (each with every field of the type) and the failures, by position and field."""
    if entries is None:
        return [], [Failure(ENTRIES, f"{ENTRIES}: is required: a list of {spec.resource_name} entries (may be empty)")]
    if not isinstance(entries, list):
        if is_unknown(entries):
            return entries, []
        what = f"a list of {spec.resource_name} entries, each a mapping of field names to values"
        return entries, [Failure(ENTRIES, f"{ENTRIES}: must be {what} (got {shown(entries)})")]
    checked: list[Any] = []
    failures: list[Failure] = []
    first_at: dict[Key, int] = {}
    for index, entry in enumerate(entries):
        where = f"{ENTRIES}[{index}]"
        if not isinstance(entry, dict):
            checked.append(entry)
            if not is_unknown(entry):
                got = shown(entry)
                failures.append(Failure(where, f"{where}: must be a mapping of field names to values (got {got})"))
            continue
        values, problems = _check_entry(spec, where, entry)
        checked.append(values)
        failures += problems
        if problems or any(is_unknown(values.get(k)) for k in spec.natural_key):
            continue
        first = first_at.setdefault(spec.key_of(values), index)
        if first != index:
            failures.append(
                Failure(
                    where,
                    f"{where}: declares the same {spec.resource_name} as {ENTRIES}[{first}] "
                    f"({describe_key(spec, values)}): declare each entry once",
                )
            )
    return checked, failures


def _check_entry(spec: SettingsType, where: str, entry: Mapping[str, Any]) -> tuple[Bag, list[Failure]]:
    allowed = {*spec.fields, *spec.deprecated_inputs}
    failures = []
    for name in entry:
        if name not in allowed:
            path = f"{where}.{shown_name(name)}"
            fields = ", ".join(spec.fields)
            failures.append(Failure(path, f"{path}: is not a field of {spec.resource_name}; fields are {fields}"))
    values, problems = check_inputs(spec, {k: v for k, v in entry.items() if k in allowed})
    # An entry carries no account_id: the set's is checked once, above.
    failures += [Failure(f"{where}.{p.property}", f"{where}.{p.reason}") for p in problems if p.property != ACCOUNT_ID]
    return {k: values.get(k) for k in spec.fields}, failures


# --- diff and outputs ----------------------------------------------------------------------------------


def diff_set(spec: SettingsType, olds: Mapping[str, Any], news: Mapping[str, Any]) -> DiffResult:
    """Compare declared inputs with recorded outputs: entries by natural key in any order (each field by the
    type's order and case rules); a new account replaces the set."""
    changed = []
    new_account = news.get(ACCOUNT_ID)
    if is_unknown(new_account) or new_account != olds.get(ACCOUNT_ID):
        changed.append(ACCOUNT_ID)
    exclusive = news.get(EXCLUSIVE)
    if is_unknown(exclusive) or bool(exclusive) != bool(olds.get(EXCLUSIVE)):
        changed.append(EXCLUSIVE)
    if entries_differ(spec, olds.get(ENTRIES), news.get(ENTRIES)):
        changed.append(ENTRIES)
    replaces = [ACCOUNT_ID] if ACCOUNT_ID in changed else []  # a set's only create-only input
    return DiffResult(changes=bool(changed), replaces=replaces, delete_before_replace=False)


def entries_differ(spec: SettingsType, recorded: Any, declared: Any) -> bool:
    """Whether the declared entries differ from the recorded ones (an unknown value anywhere counts)."""
    if not isinstance(declared, list) or is_unknown(declared):
        return True
    olds = [e for e in recorded or [] if isinstance(e, dict)]
    if len(olds) != len(declared):
        return True
    by_key: dict[Key, list[Entry]] = {}
    for old in olds:
        by_key.setdefault(spec.key_of(old), []).append(old)
    for entry in declared:
        matches = by_key.pop(spec.key_of(entry), [])
        if len(matches) != 1 or spec.changed_inputs(matches[0], entry):
            return True
    return bool(by_key)


def entry_after_write(spec: SettingsType, declared: Mapping[str, Any], entry: Mapping[str, Any]) -> Entry:
    """One entry's outputs after a write: its id, the declared values (the API's for fields the program
    leaves to it), and what the API computed."""
    outputs = spec.outputs_after_write(declared, entry, adopted=False)
    return {ENTRY_ID: str(entry[ENTRY_ID]), **{k: outputs[k] for k in (*spec.fields, *spec.computed)}}


def entry_as_read(spec: SettingsType, recorded: Mapping[str, Any], entry: Mapping[str, Any]) -> Entry:
    """One entry's outputs as the API has it, keeping recorded values that differ only in order or case."""
    outputs = spec.outputs_from_entry(recorded, entry)
    return {ENTRY_ID: str(entry[ENTRY_ID]), **{k: outputs[k] for k in (*spec.fields, *spec.computed)}}


def recorded_ids(entries: Any) -> list[str]:
    """The entry ids recorded in a set's outputs."""
    return [str(e[ENTRY_ID]) for e in entries or [] if isinstance(e, dict) and e.get(ENTRY_ID)]


def owned_ids(spec: SettingsType, olds: Mapping[str, Any], news: Mapping[str, Any]) -> list[str]:
    """The recorded entries that an update may write and delete as the set's own.

    Drift that an exclusive set recorded at refresh (entries it found without declaring them) is the set's
    only while it stays exclusive: when ``exclusive`` goes off, those entries are dropped from the set, never
    deleted. A state recorded before drift was marked cannot tell drift apart, so then only the recorded
    entries whose key is still declared count as the set's, and entries removed in the same change stay.
    """
    recorded = [e for e in olds.get(ENTRIES) or [] if isinstance(e, dict) and e.get(ENTRY_ID)]
    if news.get(EXCLUSIVE) or not olds.get(EXCLUSIVE):
        return [str(e[ENTRY_ID]) for e in recorded]
    drift = olds.get(DRIFT_IDS)
    if isinstance(drift, list):
        dropped = {str(i) for i in drift}
        return [str(e[ENTRY_ID]) for e in recorded if str(e[ENTRY_ID]) not in dropped]
    declared = {spec.key_of(e) for e in news.get(ENTRIES) or [] if isinstance(e, dict)}
    return [str(e[ENTRY_ID]) for e in recorded if spec.key_of(e) in declared]
