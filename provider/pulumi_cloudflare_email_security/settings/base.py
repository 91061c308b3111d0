"""The declaration of one settings type, and what follows from it: request bodies, outputs, diffs.

A settings type is data: its API collection, its pydantic model of the writable fields, which fields the
API computes, which force a replacement, its natural key and batch support. The generic provider engine
(:mod:`..engine`) serves every type from its declaration; :mod:`.checking` validates inputs against it.
"""

from __future__ import annotations

from collections.abc import Callable, Mapping
from dataclasses import dataclass, field
from typing import Any

import pydantic
from pulumi.output import Unknown
from pulumi.runtime import rpc

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

    # --- requests and outputs ----------------------------------------------------------------------

    def create_body(self, inputs: Mapping[str, Any]) -> Bag:
        """The POST body for checked inputs: every field that has a value."""
        return {k: integral_floats_to_ints(inputs[k]) for k in self.fields if inputs.get(k) is not None}

    def update_body(self, inputs: Mapping[str, Any]) -> Bag:
        """The PATCH body: every declared value, and ``null`` for clearable fields left out."""
        return {
            k: integral_floats_to_ints(inputs.get(k))
            for k in self.fields
            if inputs.get(k) is not None or self.clearable(k)
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
        adoption record are kept from ``recorded``."""
        kept = {k: recorded.get(k) for k in (ACCOUNT_ID, *self.options, *self.adoption_inputs, ADOPTED)}
        return {**kept, **{k: entry.get(k) for k in (*self.fields, *self.computed)}}

    def changed_inputs(self, olds: Mapping[str, Any], news: Mapping[str, Any]) -> list[str]:
        """The inputs whose declared value differs from the recorded output (unknowns count as changed).

        Adoption inputs only matter on create, so they never count as a change.
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
            elif integral_floats_to_ints(new) != integral_floats_to_ints(old):
                changed.append(name)
        return changed
