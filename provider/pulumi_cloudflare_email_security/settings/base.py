"""The declaration of one settings type, and what follows from it: input checks, request bodies, diffs.

A settings type is data: its API collection, its pydantic model of the writable fields, which fields the
API computes, which force a replacement, its natural key and batch support. The generic provider engine
(:mod:`..engine`) serves every type from its declaration.
"""

from __future__ import annotations

from collections.abc import Callable, Mapping
from dataclasses import dataclass, field
from types import NoneType, UnionType
from typing import Any, Union, get_args, get_origin

import pydantic
from pulumi.output import Unknown
from pulumi.runtime import rpc

from ..formats import ACCOUNT_ID_RE

ACCOUNT_ID = "account_id"
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


def _accepts_none(annotation: Any) -> bool:
    return get_origin(annotation) in (Union, UnionType) and NoneType in get_args(annotation)


@dataclass(frozen=True)
class CrossCheck:
    """A rule over several fields; runs once they are all known and individually valid."""

    fields: tuple[str, ...]
    reported_on: str
    problem: Callable[[Mapping[str, Any]], str | None]


@dataclass(frozen=True)
class Failure:
    """One input check failure: the property and a reason that names it and what is allowed."""

    property: str
    reason: str


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
    batch_parts: tuple[str, ...] = ()
    deprecated_inputs: Mapping[str, str] = field(default_factory=dict)
    cross_checks: tuple[CrossCheck, ...] = ()

    @property
    def fields(self) -> tuple[str, ...]:
        """The writable API fields, in declaration order."""
        return tuple(self.args_model.model_fields)

    @property
    def inputs(self) -> tuple[str, ...]:
        """Every input of the resource: the account and the writable fields."""
        return (ACCOUNT_ID, *self.fields)

    @property
    def outputs(self) -> tuple[str, ...]:
        """Every output of the resource (its id aside)."""
        return (*self.inputs, *self.computed)

    def required(self, name: str) -> bool:
        """Whether an input must be given."""
        return name == ACCOUNT_ID or self.args_model.model_fields[name].is_required()

    def clearable(self, name: str) -> bool:
        """Whether leaving an optional field out clears it (sent as ``null``) rather than leaving it be."""
        info = self.args_model.model_fields.get(name)
        return info is not None and not info.is_required() and _accepts_none(info.annotation)

    # --- check -------------------------------------------------------------------------------------

    def check(self, news: Mapping[str, Any]) -> tuple[Bag, list[Failure]]:
        """Validate and normalise inputs; unknown values pass through unchecked."""
        bag = {k: v for k, v in news.items() if k != PROVIDER_KEY}
        for name in self.computed:
            if bag.get(name) is None:
                bag.pop(name, None)
        failures = self._misplaced_inputs(bag)
        failures += self._account_failures(bag.get(ACCOUNT_ID))
        unknown = {k for k in self.fields if is_unknown(bag.get(k))}
        data = {
            k: integral_floats_to_ints(v)
            for k, v in bag.items()
            if k in self.fields and k not in unknown and v is not None
        }
        try:
            validated = self.args_model.model_validate(data).model_dump(mode="json")
        except pydantic.ValidationError as exc:
            failures += [f for f in map(self._failure, exc.errors()) if f.property not in unknown]
            return bag, failures
        for rule in self.cross_checks:
            if not unknown.intersection(rule.fields):
                problem = rule.problem(validated)
                if problem:
                    failures.append(Failure(rule.reported_on, f"{rule.reported_on}: {problem}"))
        checked = {ACCOUNT_ID: bag.get(ACCOUNT_ID), **validated, **{k: bag[k] for k in unknown}}
        return checked, failures

    def _misplaced_inputs(self, bag: Mapping[str, Any]) -> list[Failure]:
        failures = []
        for name in bag:
            if name in self.deprecated_inputs:
                replacement = self.deprecated_inputs[name]
                failures.append(
                    Failure(name, f"{name}: is deprecated and past its end of life; use {replacement} instead")
                )
            elif name not in self.inputs:
                allowed = ", ".join(self.inputs)
                failures.append(Failure(name, f"{name}: is not an input of {self.resource_name}; inputs are {allowed}"))
        return failures

    @staticmethod
    def _account_failures(value: Any) -> list[Failure]:
        if is_unknown(value):
            return []
        what = "the Cloudflare account id, 32 hexadecimal characters"
        if value is None or value == "":
            return [Failure(ACCOUNT_ID, f"{ACCOUNT_ID}: is required: {what}")]
        if not isinstance(value, str) or not ACCOUNT_ID_RE.match(value):
            return [Failure(ACCOUNT_ID, f"{ACCOUNT_ID}: must be {what} (got {value!r})")]
        return []

    @staticmethod
    def _failure(error: Any) -> Failure:
        name = str(error["loc"][0]) if error["loc"] else "inputs"
        where = ".".join(str(p) for p in error["loc"]) or name
        if error["type"] == "missing":
            return Failure(name, f"{where}: is required")
        message = str(error["msg"]).removeprefix("Value error, ")
        return Failure(name, f"{where}: {message} (got {error['input']!r})")

    # --- requests and outputs ----------------------------------------------------------------------

    def create_body(self, inputs: Mapping[str, Any]) -> Bag:
        """The POST body for checked inputs: every field that has a value."""
        return {k: inputs[k] for k in self.fields if inputs.get(k) is not None}

    def update_body(self, inputs: Mapping[str, Any]) -> Bag:
        """The PATCH body: every declared value, and ``null`` for clearable fields left out."""
        return {k: inputs.get(k) for k in self.fields if inputs.get(k) is not None or self.clearable(k)}

    def outputs_after_write(self, inputs: Mapping[str, Any], entry: Mapping[str, Any]) -> Bag:
        """Outputs after a create or update: the inputs as declared, plus what the API computed."""
        declared = {k: inputs.get(k) for k in self.inputs}
        return {**declared, **{k: entry.get(k) for k in self.computed}}

    def outputs_from_entry(self, account_id: str, entry: Mapping[str, Any]) -> Bag:
        """Outputs that describe an entry as the API returned it."""
        return {ACCOUNT_ID: account_id, **{k: entry.get(k) for k in (*self.fields, *self.computed)}}

    def changed_inputs(self, olds: Mapping[str, Any], news: Mapping[str, Any]) -> list[str]:
        """The inputs whose declared value differs from the recorded output (unknowns count as changed)."""
        changed = []
        for name in self.inputs:
            new, old = news.get(name), olds.get(name)
            if is_unknown(new):
                changed.append(name)
            elif new is None and not self.required(name) and not self.clearable(name):
                continue  # an optional field the program leaves to the API
            elif integral_floats_to_ints(new) != integral_floats_to_ints(old):
                changed.append(name)
        return changed
