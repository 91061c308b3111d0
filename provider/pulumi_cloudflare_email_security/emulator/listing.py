"""List semantics: the spec's filters, ``search``, ``order``/``direction`` and page-number paging."""

from __future__ import annotations

from collections.abc import Sequence
from dataclasses import dataclass, field
from typing import Any

from .failures import ApiFailure
from .openapi import CollectionApi, Schema
from .rules import UPPER_CASED

DEFAULT_PER_PAGE = 20
MAX_PER_PAGE = 1000
SEARCHED_FIELDS = ("pattern", "domain", "name", "email", "comments")

# Filters whose name is not an entry field: the list field they look into.
FILTER_FIELDS = {
    "allowed_delivery_mode": "allowed_delivery_modes",
    "active_delivery_mode": "allowed_delivery_modes",
}


def _integer(name: str, raw: str, minimum: int, maximum: int | None = None) -> int:
    try:
        value = int(raw)
    except ValueError:
        raise ApiFailure.invalid(f"{name}: must be an integer") from None
    if value < minimum or (maximum is not None and value > maximum):
        allowed = f"between {minimum} and {maximum}" if maximum else f"at least {minimum}"
        raise ApiFailure.invalid(f"{name}: must be {allowed}")
    return value


def _coerce(name: str, raw: str, schema: Schema) -> Any:
    kind = schema.get("type")
    if kind == "boolean":
        if raw not in ("true", "false"):
            raise ApiFailure.invalid(f"{name}: must be true or false")
        return raw == "true"
    if "enum" in schema and raw not in schema["enum"]:
        allowed = "|".join(str(v) for v in schema["enum"] if v is not None)
        raise ApiFailure.invalid(f"{name}: must be one of {allowed}")
    return raw


@dataclass
class ListQuery:
    """One list request's parameters, checked against the spec."""

    page: int = 1
    per_page: int = DEFAULT_PER_PAGE
    search: str | None = None
    order: str = "created_at"
    descending: bool = False
    filters: dict[str, list[Any]] = field(default_factory=dict)

    @classmethod
    def parse(cls, api: CollectionApi, query: Sequence[tuple[str, str]]) -> ListQuery:
        """Read and check the query string of a list request."""
        parsed = cls()
        for raw_name, raw in query:
            name = raw_name.removesuffix("[]")
            if name == "page":
                parsed.page = _integer(name, raw, 1)
            elif name == "per_page":
                parsed.per_page = _integer(name, raw, 1, MAX_PER_PAGE)
            elif name == "search" and api.name != "url_ignore_patterns":
                parsed.search = raw
            elif name == "order" and api.order_fields:
                parsed.order = _coerce(name, raw, {"enum": list(api.order_fields)})
            elif name == "direction" and api.order_fields:
                parsed.descending = _coerce(name, raw, {"enum": ["asc", "desc"]}) == "desc"
            elif name in api.list_filters:
                schema = api.list_filters[name]
                item_schema = schema.get("items", {}) if schema.get("type") == "array" else schema
                if FILTER_FIELDS.get(name, name) in UPPER_CASED.get(api.name, ()):
                    raw = raw.upper()  # the lower-case values of the July spec still filter (overlay 02)
                parsed.filters.setdefault(name, []).append(_coerce(name, raw, item_schema))
            # Unknown parameters are ignored, as the API does.
        return parsed

    def _matches(self, entry: dict[str, Any]) -> bool:
        for name, wanted in self.filters.items():
            value = entry.get(FILTER_FIELDS.get(name, name))
            if isinstance(value, list):
                if not any(w in value for w in wanted):
                    return False
            elif value not in wanted:
                return False
        if self.search:
            needle = self.search.lower()
            haystack = (str(entry.get(f) or "") for f in SEARCHED_FIELDS)
            if not any(needle in text.lower() for text in haystack):
                return False
        return True

    def apply(self, entries: list[dict[str, Any]]) -> tuple[list[dict[str, Any]], dict[str, int]]:
        """The requested page of matching entries, and the ``result_info`` to answer with."""
        matching = [e for e in entries if self._matches(e)]
        matching.sort(key=lambda e: (str(e.get(self.order) or ""), str(e.get("created_at") or "")))
        if self.descending:
            matching.reverse()
        start = (self.page - 1) * self.per_page
        page = matching[start : start + self.per_page]
        info = {
            "count": len(page),
            "page": self.page,
            "per_page": self.per_page,
            "total_count": len(matching),
        }
        return page, info
