"""Field types and rules shared by the settings types' models, with the API's constraints."""

from __future__ import annotations

from collections.abc import Callable, Mapping
from typing import Annotated, Any, Literal

import pydantic

from ..formats import (
    ip_network,
    is_domain_name,
    is_ip_network,
    is_subdomain,
    is_uuid,
    pattern_problem,
    shown,
)
from .base import CrossCheck
from .checking import regex_problem


class StrictModel(pydantic.BaseModel):
    """No coercion (a string is not a boolean) and no fields beyond those declared."""

    model_config = pydantic.ConfigDict(strict=True, extra="forbid")


def _writable_pattern_type(value: object) -> object:
    if value == "UNKNOWN":
        raise ValueError("UNKNOWN is deprecated and cannot be set; use EMAIL, DOMAIN or IP")
    return value


def _rule(holds: Callable[[str], bool], rule: str) -> pydantic.AfterValidator:
    def validate(value: str) -> str:
        if not holds(value):
            raise ValueError(rule)
        return value

    return pydantic.AfterValidator(validate)


def _compiles(value: str) -> str:
    problem = regex_problem(value)
    if problem:
        raise ValueError(problem)
    return value


def _no_repeats(key: Callable[[Any], object]) -> pydantic.AfterValidator:
    def validate(items: list[Any]) -> list[Any]:
        first_at: dict[object, int] = {}
        for index, item in enumerate(items):
            first = first_at.setdefault(key(item), index)
            if first != index:
                spelled = "" if items[first] == item else f" {shown(items[first])}"
                raise ValueError(f"must list each value once: item {index} {shown(item)} repeats item {first}{spelled}")
        return items

    return pydantic.AfterValidator(validate)


DomainName = Annotated[str, _rule(is_domain_name, "must be a domain name such as example.com")]
Uuid = Annotated[str, _rule(is_uuid, "must be a UUID such as f174e90a-fafe-4643-bbbc-4a0ed4fc8415")]
IpNetwork = Annotated[str, _rule(is_ip_network, "must be an IP address or CIDR block such as 192.0.2.0/24")]
Regex = Annotated[str, pydantic.StringConstraints(min_length=1), pydantic.AfterValidator(_compiles)]
"""A regular expression, which must compile (in Python's ``re`` syntax: see :func:`.checking.regex_problem`).

Never empty: an empty pattern would match everything.
"""

NoRepeats = _no_repeats(lambda item: item)
"""A list whose items are a set: the same value twice is refused, naming it."""
NoRepeatedDomains = _no_repeats(str.lower)
"""A list of domain names, each at most once (compared ignoring case, as domain names are)."""
NoRepeatedNetworks = _no_repeats(ip_network)
"""A list of IP networks, each at most once (``192.0.2.7/24`` is the same network as ``192.0.2.0/24``)."""

Pattern = Annotated[str, pydantic.StringConstraints(min_length=1, max_length=1024)]
Comments = Annotated[str | None, pydantic.StringConstraints(max_length=1024)]
UnlimitedComments = str | None
PatternType = Annotated[Literal["EMAIL", "DOMAIN", "IP"], pydantic.BeforeValidator(_writable_pattern_type)]


def _pattern_fits_type(values: Mapping[str, Any]) -> str | None:
    if values["is_regex"]:
        return regex_problem(values["pattern"])
    return pattern_problem(values["pattern"], values["pattern_type"])


def _regex_compiles(values: Mapping[str, Any]) -> str | None:
    return regex_problem(values["pattern"]) if values["is_regex"] else None


pattern_fits_type = CrossCheck(("pattern", "pattern_type", "is_regex"), "pattern", _pattern_fits_type)
"""``pattern`` must be what ``pattern_type`` says (or a valid regex when ``is_regex``)."""

regex_compiles = CrossCheck(("pattern", "is_regex"), "pattern", _regex_compiles)
"""``pattern`` must be a valid regular expression when ``is_regex``."""


def subdomains_of(parent: str, children: str) -> CrossCheck:
    """A rule that every domain name listed in field ``children`` lies below the domain in field ``parent``."""

    def problem(values: Mapping[str, Any]) -> str | None:
        domain = values[parent]
        outside = [(i, name) for i, name in enumerate(values[children]) if not is_subdomain(name, domain)]
        if not outside:
            return None
        (index, name), more = outside[0], [str(i) for i, _ in outside[1:]]
        also = ", ".join(more[:5]) + (f" and {len(more) - 5} more" if len(more) > 5 else "")
        others = f"; so must item{'s' if len(more) > 1 else ''} {also}" if more else ""
        return f"item {index} must be a subdomain of {parent} {shown(domain)} (got {shown(name)}){others}"

    return CrossCheck((parent, children), children, problem)
