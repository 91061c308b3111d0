"""Input checks: every rejection names the property and says what is allowed, before any API call.

Values that are not known yet (a preview of outputs of other resources) pass through unchecked.
"""

from __future__ import annotations

import re
from collections.abc import Mapping
from dataclasses import dataclass
from typing import Any

import pydantic

from ..credentials import no_account_message
from ..formats import ACCOUNT_ID_RE, account_id_problem, elided, escaped, shown, shown_name
from .base import (
    ACCOUNT_ID,
    ADOPT_EXISTING,
    ADOPT_ID,
    ADOPTED,
    PROVIDER_KEY,
    Bag,
    SettingsType,
    integral_floats_to_ints,
    is_unknown,
)

ADOPT_ID_RE = re.compile(r"\A(?:(?P<account>[0-9a-fA-F]{32})/)?(?P<id>[A-Za-z0-9-]{1,64})\Z")


@dataclass(frozen=True)
class Failure:
    """One input check failure: the property and a reason that names it and what is allowed."""

    property: str
    reason: str


def split_entry_id(value: str) -> tuple[str | None, str]:
    """An entry id, or a Terraform-style ``<account_id>/<id>``, as ``(account_id or None, id)``."""
    match = ADOPT_ID_RE.fullmatch(value)
    if match is None:
        return None, value
    return match["account"], match["id"]


def regex_problem(pattern: str) -> str | None:
    """Why ``pattern`` is not a regular expression Python's ``re`` compiles, or ``None`` when it compiles.

    Every way ``re.compile`` refuses a pattern is a reason, not only ``re.error``: a repetition count too
    large (``a{4294967296}``, ``OverflowError``), groups nested too deeply for the parser (``RecursionError``),
    clashing inline flags (``(?a)(?u)``, ``ValueError``). Python's syntax is close to, but not the same as, the
    engine Cloudflare matches with: a pattern that passes here may still be refused by the API, which then
    says why. The reason is one line: line breaks that ``re`` quotes from the pattern are escaped.
    """
    try:
        re.compile(pattern)
    except RecursionError:
        why = "its groups nest too deeply"
    except MemoryError:
        why = "it needs more memory than there is"
    except (re.error, OverflowError, ValueError) as exc:
        why = str(exc)
    else:
        return None
    return f"is not a valid regular expression in Python's re syntax ({elided(escaped(why), 160)})"


def check_inputs(spec: SettingsType, news: Mapping[str, Any]) -> tuple[Bag, list[Failure]]:
    """Validate and normalise a resource's inputs against its declaration."""
    bag = {k: v for k, v in news.items() if k != PROVIDER_KEY}
    for name in (*spec.computed, ADOPTED):
        if bag.get(name) is None:
            bag.pop(name, None)  # output placeholders registered by the resource class
    failures = _misplaced(spec, bag)
    failures += account_failures(bag.get(ACCOUNT_ID))
    failures += _provider_inputs(spec, bag)
    unknown = {k for k in spec.fields if is_unknown(bag.get(k))}
    data = {
        k: integral_floats_to_ints(v) for k, v in bag.items() if k in spec.fields and k not in unknown and v is not None
    }
    try:
        validated = spec.args_model.model_validate(data).model_dump(mode="json")
    except pydantic.ValidationError as exc:
        failures += [f for f in map(_from_pydantic, exc.errors()) if f.property not in unknown]
        return bag, failures
    for rule in spec.cross_checks:
        if not unknown.intersection(rule.fields):
            problem = rule.problem(validated)
            if problem:
                failures.append(Failure(rule.reported_on, f"{rule.reported_on}: {problem}"))
    controls = {k: bag.get(k) for k in (ACCOUNT_ID, *spec.options, *spec.adoption_inputs)}
    return {**controls, **validated, **{k: bag[k] for k in unknown}}, failures


def _misplaced(spec: SettingsType, bag: Mapping[str, Any]) -> list[Failure]:
    failures = []
    for name in bag:
        if name in spec.deprecated_inputs:
            replacement = spec.deprecated_inputs[name]
            failures.append(Failure(name, f"{name}: is deprecated and past its end of life; use {replacement} instead"))
        elif name not in spec.inputs:
            allowed, unknown = ", ".join(spec.inputs), shown_name(name)
            failures.append(
                Failure(unknown, f"{unknown}: is not an input of {spec.resource_name}; inputs are {allowed}")
            )
    return failures


def account_failures(value: Any) -> list[Failure]:
    """Why ``value`` is not a usable ``account_id`` input (none when it is, or is not known yet)."""
    if is_unknown(value):
        return []
    if value is None or value == "":
        return [Failure(ACCOUNT_ID, no_account_message())]
    problem = account_id_problem(value)
    return [Failure(ACCOUNT_ID, f"{ACCOUNT_ID}: {problem}")] if problem else []


def bool_failures(bag: Mapping[str, Any], names: tuple[str, ...]) -> list[Failure]:
    """Why the inputs ``names`` of ``bag`` that are given and known are not booleans."""
    return [
        Failure(name, f"{name}: must be true or false (got {shown(bag[name])})")
        for name in names
        if bag.get(name) is not None and not is_unknown(bag[name]) and not isinstance(bag[name], bool)
    ]


def _provider_inputs(spec: SettingsType, bag: Mapping[str, Any]) -> list[Failure]:
    failures = bool_failures(bag, (*spec.options, ADOPT_EXISTING))
    adopt_id, account = bag.get(ADOPT_ID), bag.get(ACCOUNT_ID)
    if adopt_id is not None and not is_unknown(adopt_id):
        match = ADOPT_ID_RE.fullmatch(adopt_id) if isinstance(adopt_id, str) else None
        if match is None:
            failures.append(
                Failure(ADOPT_ID, f"{ADOPT_ID}: must be an entry id, or <account_id>/<id> (got {shown(adopt_id)})")
            )
        elif (
            match["account"]
            and isinstance(account, str)
            and ACCOUNT_ID_RE.fullmatch(account)
            and match["account"].lower() != account.lower()
        ):
            failures.append(
                Failure(ADOPT_ID, f"{ADOPT_ID}: names account {match['account']}, but account_id is {account}")
            )
        if bag.get(ADOPT_EXISTING) is True:
            failures.append(Failure(ADOPT_ID, f"{ADOPT_ID}: set {ADOPT_ID} or {ADOPT_EXISTING}, not both"))
    return failures


def _from_pydantic(error: Any) -> Failure:
    name = str(error["loc"][0]) if error["loc"] else "inputs"
    where = ".".join(str(p) for p in error["loc"]) or name
    if error["type"] == "missing":
        return Failure(name, f"{where}: is required")
    message = str(error["msg"]).removeprefix("Value error, ")
    return Failure(name, f"{where}: {message} (got {shown(error['input'])})")
