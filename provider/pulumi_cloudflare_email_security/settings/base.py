"""The declaration of one settings type, and what follows from it: request bodies, outputs, diffs.

A settings type is data: its API collection, its pydantic model of the writable fields, which fields the
API computes, which force a replacement, its natural key and batch support, and which values mean the same
whatever their order or letter case. The generic provider engine (:mod:`..engine`) serves every type from
its declaration; :mod:`.checking` validates inputs against it.
"""

from __future__ import annotations

from collections.abc import Callable, Mapping
from dataclasses import dataclass, field
from typing import Any

import pydantic
from pulumi.output import Unknown
from pulumi.runtime import rpc

from ..formats import escaped

ACCOUNT_ID = "account_id"
ADOPT_ID = "adopt_id"
ADOPT_EXISTING = "adopt_existing"
ADOPTED = "adopted"
PROVIDER_KEY = "__provider"
UNKNOWN: str = rpc.UNKNOWN

Bag = dict[str, Any]


def is_unknown(value: Any) -> bool:
    """Whether a value, or anything inside it, is not known yet (a preview of a value to come).

    The engine sends unknowns as a sentinel string, which the SDK turns into ``Unknown`` objects.
    """
    if isinstance(value, Unknown):
        return True
    if isinstance(value, str):
        return value == UNKNOWN
    if isinstance(value, list | tuple):
        return any(is_unknown(v) for v in value)
    if isinstance(value, dict):
        return any(is_unknown(v) for v in value.values())
    return False


def integral_floats_to_ints(value: Any) -> Any:
    """Numbers arrive from the engine as floats (protobuf ``Struct``); the API's numbers are integers."""
    if isinstance(value, float) and value.is_integer():
        return int(value)
    if isinstance(value, list):
        return [integral_floats_to_ints(v) for v in value]
    return value


@dataclass(frozen=True)
class CrossCheck:
    """A rule over several fields; runs once they are all known and individually valid."""

    fields: tuple[str, ...]
    reported_on: str
    problem: Callable[[Mapping[str, Any]], str | None]


@dataclass(frozen=True)
class CaseInsensitive:
    """A field whose value (for a list, each item) is a domain name or an email address, so its letter case
    carries no meaning and the API may answer in another case than the program declared.

    ``unless`` names a boolean field that, when true, makes the value a regular expression (case then
    counts); ``only_if`` is a field and the values of it for which the rule holds (e.g. ``pattern_type`` EMAIL
    or DOMAIN). The rule does not hold while either is not known yet.
    """

    field: str
    unless: str | None = None
    only_if: tuple[str, tuple[str, ...]] | None = None

    def holds(self, values: Mapping[str, Any]) -> bool:
        """Whether ``values`` (an entry, or a resource's inputs or outputs) make this field case-insensitive."""
        if self.unless is not None:
            flag = values.get(self.unless)
            if flag or is_unknown(flag):
                return False
        if self.only_if is not None:
            name, allowed = self.only_if
            if values.get(name) not in allowed:
                return False
        return True


def _lowered(value: Any) -> Any:
    # str.lower, not casefold: DNS names are case-insensitive in ASCII only ("ß" is not "ss").
    if isinstance(value, str):
        return value.lower()
    if isinstance(value, list):
        return [_lowered(v) for v in value]
    return value


@dataclass(frozen=True)
class SettingsType:
    """Everything the engine needs to know about one settings type."""

    resource_name: str
    collection: str
    id_param: str
    args_model: type[pydantic.BaseModel]
    computed: tuple[str, ...] = ("created_at", "modified_at")
    api_managed: tuple[str, ...] = ()
    """Fields the API accepts on writes but this package leaves to Cloudflare (reported as outputs)."""
    replace_on: tuple[str, ...] = (ACCOUNT_ID,)
    natural_key: tuple[str, ...] = ()
    """The fields that identify an entry in its account: for adoption, and after an ambiguous create."""
    key_filters: tuple[str, ...] = ()
    """The natural-key fields the list endpoint can filter on exactly (the rest is matched locally)."""
    clear_when_omitted: tuple[str, ...] = ("comments",)
    """Optional fields that a program clears by leaving them out; others left out are the API's to set."""
    batch_parts: tuple[str, ...] = ()
    deprecated_inputs: Mapping[str, str] = field(default_factory=dict)
    cross_checks: tuple[CrossCheck, ...] = ()
    options: tuple[str, ...] = ()
    """Boolean inputs that steer the provider and are never sent to the API."""
    adopt_by_key_on_create: bool = False
    """Create takes over an existing entry with the same natural key instead of failing on it."""
    release_adopted_unless: str | None = None
    """Destroying an adopted entry only forgets it, unless this option is true."""
    unmanageable: Callable[[Mapping[str, Any]], str | None] | None = None
    """Why an existing entry cannot be managed (``None`` when it can)."""
    unordered: tuple[str, ...] = ()
    """List fields that are sets: the API may answer in another order (or without duplicates)."""
    case_insensitive: tuple[CaseInsensitive, ...] = ()
    """Fields that are domain names or email addresses: the API may answer in another letter case."""

    def unmanageable_reason(self, entry: Mapping[str, Any]) -> str | None:
        """Why an existing entry cannot be managed, or ``None`` when it can.

        The reason quotes the API's values (a provenance), so it is escaped for a terminal here, for every type.
        """
        reason = self.unmanageable(entry) if self.unmanageable else None
        return None if reason is None else escaped(reason)

    @property
    def fields(self) -> tuple[str, ...]:
        """The writable API fields a program manages, in declaration order."""
        return tuple(self.args_model.model_fields)

    @property
    def adoption_inputs(self) -> tuple[str, ...]:
        """The inputs that say which existing entry to take over on create."""
        return (ADOPT_ID, ADOPT_EXISTING)

    @property
    def inputs(self) -> tuple[str, ...]:
        """Every input of the resource."""
        return (ACCOUNT_ID, *self.fields, *self.options, *self.adoption_inputs)

    @property
    def outputs(self) -> tuple[str, ...]:
        """Every output of the resource (its id aside)."""
        return (*self.inputs, *self.computed, ADOPTED)

    def required(self, name: str) -> bool:
        """Whether an input must be given."""
        info = self.args_model.model_fields.get(name)
        return name == ACCOUNT_ID or (info is not None and info.is_required())

    def clearable(self, name: str) -> bool:
        """Whether leaving an optional field out clears it (sent as ``null``) rather than leaving it be."""
        return name in self.clear_when_omitted

    def same_value(self, name: str, a: Any, a_values: Mapping[str, Any], b: Any, b_values: Mapping[str, Any]) -> bool:
        """Whether two values of field ``name`` mean the same, each taken with the rest of its entry or bag
        (``a_values``, ``b_values``): set-like lists in any order, and domain names and email addresses in
        any letter case where a :class:`CaseInsensitive` rule holds for both."""
        a, b = integral_floats_to_ints(a), integral_floats_to_ints(b)
        if any(rule.field == name and rule.holds(a_values) and rule.holds(b_values) for rule in self.case_insensitive):
            a, b = _lowered(a), _lowered(b)
        if name in self.unordered and isinstance(a, list) and isinstance(b, list):
            return {repr(v) for v in a} == {repr(v) for v in b}
        return bool(a == b)

    def key_of(self, values: Mapping[str, Any]) -> tuple[Any, ...]:
        """The natural key of an entry (or of declared values) as a hashable value, so that entries can be
        matched by dictionary lookup rather than pairwise.

        Equal keys mean :meth:`same_value` holds for every natural-key field. Each part records whether a
        :class:`CaseInsensitive` rule holds, because case only stops counting when it holds for both sides;
        so a value written identically that is a regex on one side only (where the regex flag is not itself
        part of the key) makes two different keys, where :meth:`same_value` would call the values the same.
        """
        parts: list[tuple[bool, Any]] = []
        for name in self.natural_key:
            value = integral_floats_to_ints(values.get(name))
            caseless = any(rule.field == name and rule.holds(values) for rule in self.case_insensitive)
            if caseless:
                value = _lowered(value)
            if isinstance(value, list):
                items = (repr(v) for v in value)
                value = frozenset(items) if name in self.unordered else tuple(items)
            parts.append((caseless, value))
        return tuple(parts)

    # --- requests and outputs ----------------------------------------------------------------------

    def create_body(self, inputs: Mapping[str, Any]) -> Bag:
        """The POST body for checked inputs: every field that has a value."""
        return {k: integral_floats_to_ints(inputs[k]) for k in self.fields if inputs.get(k) is not None}

    def update_body(self, inputs: Mapping[str, Any]) -> Bag:
        """The PATCH body: every declared value, and ``null`` for clearable fields left out.

        Fields in :attr:`replace_on` are never sent: they cannot change in place, and a PATCH body may not
        carry them (a domain's ``domain``).
        """
        return {
            k: integral_floats_to_ints(inputs.get(k))
            for k in self.fields
            if k not in self.replace_on and (inputs.get(k) is not None or self.clearable(k))
        }

    def outputs_after_write(self, inputs: Mapping[str, Any], entry: Mapping[str, Any], *, adopted: bool) -> Bag:
        """Outputs after a create or update: the inputs as declared (the API's values for fields the
        program leaves to it), plus what the API computed."""
        declared = {k: integral_floats_to_ints(inputs.get(k)) for k in self.inputs}
        for name in self.fields:
            if declared[name] is None and not self.clearable(name):
                declared[name] = entry.get(name)
        return {**declared, **{k: entry.get(k) for k in self.computed}, ADOPTED: adopted}

    def outputs_from_entry(self, recorded: Mapping[str, Any], entry: Mapping[str, Any]) -> Bag:
        """Outputs that describe an entry as the API returned it; the provider's own inputs and the
        adoption record are kept from ``recorded``.

        A field whose value the API changed only in order or letter case (see :meth:`same_value`) keeps its
        recorded value, so that outputs do not flap and the next diff against the program stays quiet.
        """
        kept = {k: recorded.get(k) for k in (ACCOUNT_ID, *self.options, *self.adoption_inputs, ADOPTED)}
        fields = {}
        for name in self.fields:
            old, new = recorded.get(name), entry.get(name)
            fields[name] = old if old != new and self.same_value(name, old, recorded, new, entry) else new
        return {**kept, **fields, **{k: entry.get(k) for k in self.computed}}

    def changed_inputs(self, olds: Mapping[str, Any], news: Mapping[str, Any]) -> list[str]:
        """The inputs whose declared value differs from the recorded output (unknowns count as changed).

        Values equal up to order or letter case where the declaration allows it are no change (see
        :meth:`same_value`). Adoption inputs only matter on create, so they never count as a change.
        """
        changed = []
        for name in (ACCOUNT_ID, *self.fields, *self.options):
            new, old = news.get(name), olds.get(name)
            if is_unknown(new):
                changed.append(name)
            elif name in self.options:
                if bool(new) != bool(old):
                    changed.append(name)
            elif new is None and not self.required(name) and not self.clearable(name):
                continue  # left to the API (or an option left at its default)
            elif not self.same_value(name, old, olds, new, news):
                changed.append(name)
        return changed
