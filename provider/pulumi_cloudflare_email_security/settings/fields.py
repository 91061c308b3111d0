"""Field types and rules shared by the settings types' models, with the API's constraints."""

from __future__ import annotations

from collections.abc import Mapping
from typing import Annotated, Any, Literal

import pydantic

from ..formats import pattern_problem, regex_problem
from .base import CrossCheck


class StrictModel(pydantic.BaseModel):
    """No coercion (a string is not a boolean) and no fields beyond those declared."""

    model_config = pydantic.ConfigDict(strict=True, extra="forbid")


def _writable_pattern_type(value: object) -> object:
    if value == "UNKNOWN":
        raise ValueError("UNKNOWN is deprecated and cannot be set; use EMAIL, DOMAIN or IP")
    return value


Pattern = Annotated[str, pydantic.StringConstraints(min_length=1, max_length=1024)]
Comments = Annotated[str | None, pydantic.StringConstraints(max_length=1024)]
UnlimitedComments = str | None
PatternType = Annotated[Literal["EMAIL", "DOMAIN", "IP"], pydantic.BeforeValidator(_writable_pattern_type)]


def _pattern_fits_type(values: Mapping[str, Any]) -> str | None:
    return pattern_problem(values["pattern"], values["pattern_type"], values["is_regex"])


def _regex_compiles(values: Mapping[str, Any]) -> str | None:
    return regex_problem(values["pattern"]) if values["is_regex"] else None


pattern_fits_type = CrossCheck(("pattern", "pattern_type", "is_regex"), "pattern", _pattern_fits_type)
"""``pattern`` must be what ``pattern_type`` says (or a valid regex when ``is_regex``)."""

regex_compiles = CrossCheck(("pattern", "is_regex"), "pattern", _regex_compiles)
"""``pattern`` must be a valid regular expression when ``is_regex``."""
