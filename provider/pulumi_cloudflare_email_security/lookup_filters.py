"""The lookups' filters, read from their signatures: what ``cfes list`` offers as options, and checks.

Each ``list_*`` function of :mod:`.lookups` returns the entries of one API collection (its return type
names the entry model, :data:`.entries.ENTRY_MODELS` the collection) and takes that collection's filters
as keyword arguments, typed: a flag (``bool``), a value (``str``, or one of a ``Literal``'s values) or
several values (``list[str]``). A lookup added there is offered here without new code.
"""

from __future__ import annotations

import inspect
import types
import typing
from collections.abc import Callable
from dataclasses import dataclass, field
from typing import Any, Literal, get_args, get_origin, get_type_hints

from . import lookups
from .entries import ENTRY_MODELS, EntryInfo
from .settings.base import ACCOUNT_ID

Lookup = Callable[..., list[EntryInfo]]
Kind = Literal["flag", "value", "values"]


@dataclass(frozen=True)
class Filter:
    """One filter name across the lookups that take it."""

    name: str
    kind: Kind
    choices: dict[str, tuple[str, ...] | None] = field(default_factory=dict)
    """The values each collection that takes the filter allows (``None``: any)."""

    @property
    def option(self) -> str:
        """The command-line option: ``--pattern-type``."""
        return "--" + self.name.replace("_", "-")

    def value_for(self, collection: str, value: Any) -> Any:
        """``value`` as the lookup of ``collection`` takes it: a choice in its own letter case (``--status
        active`` is ``ACTIVE``). A filter the lookup does not take, or a value it does not allow, raises
        :class:`ValueError` saying so."""
        if collection not in self.choices:
            takers = ", ".join(sorted(self.choices))
            raise ValueError(f"{self.option} does not filter {collection} (it filters {takers})")
        allowed = self.choices[collection]
        if allowed is None or not isinstance(value, str | list):
            return value
        by_case = {choice.lower(): choice for choice in allowed}
        chosen = [by_case.get(str(v).lower()) for v in (value if isinstance(value, list) else [value])]
        for given, choice in zip(value if isinstance(value, list) else [value], chosen, strict=True):
            if choice is None:
                raise ValueError(f"{self.option} {given!r} is not one of {', '.join(allowed)} for {collection}")
        return chosen if isinstance(value, list) else chosen[0]


def _unwrapped(hint: Any) -> Any:
    """``X`` of ``X | None``."""
    if get_origin(hint) in (typing.Union, types.UnionType):
        (hint,) = [arg for arg in get_args(hint) if arg is not type(None)]
    return hint


def _kind_and_choices(hint: Any) -> tuple[Kind, tuple[str, ...] | None]:
    hint = _unwrapped(hint)
    if hint is bool:
        return "flag", None
    if get_origin(hint) is list:
        return "values", None
    if get_origin(hint) is Literal:
        return "value", tuple(str(v) for v in get_args(hint))
    return "value", None


def _collection_of(function: Callable[..., Any]) -> str | None:
    returned = get_type_hints(function).get("return")
    if get_origin(returned) is not list:
        return None
    (model,) = get_args(returned)
    by_model = {m: c for c, m in ENTRY_MODELS.items()}
    return by_model.get(model)


def _read_lookups() -> tuple[dict[str, Lookup], dict[str, Filter]]:
    found: dict[str, Lookup] = {}
    kinds: dict[str, set[Kind]] = {}
    choices: dict[str, dict[str, tuple[str, ...] | None]] = {}
    for name, function in sorted(vars(lookups).items()):
        if not name.startswith("list_") or not inspect.isfunction(function) or function.__module__ != lookups.__name__:
            continue
        collection = _collection_of(function)
        if collection is None:
            continue
        found[collection] = function
        hints = get_type_hints(function)
        for parameter in inspect.signature(function).parameters.values():
            if parameter.name == ACCOUNT_ID or parameter.kind is not inspect.Parameter.KEYWORD_ONLY:
                continue
            found_kind, allowed = _kind_and_choices(hints[parameter.name])
            kinds.setdefault(parameter.name, set()).add(found_kind)
            choices.setdefault(parameter.name, {})[collection] = allowed
    filters = {}
    for name in sorted(kinds):
        # A name that is a flag for one lookup and a value for another is offered as a value.
        kind: Kind = "values" if "values" in kinds[name] else "flag" if kinds[name] == {"flag"} else "value"
        filters[name] = Filter(name, kind, choices[name])
    return found, filters


LOOKUPS, FILTERS = _read_lookups()
"""The lookup of each API collection, and every filter any of them takes."""


def filters_of(collection: str) -> list[Filter]:
    """The filters the lookup of ``collection`` takes."""
    return [f for f in FILTERS.values() if collection in f.choices]
