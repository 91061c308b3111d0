"""The failures the emulator answers with, as the API's failure envelope."""

from __future__ import annotations

from collections.abc import Callable
from dataclasses import dataclass
from typing import Any

# Error codes the emulator uses. 7003 and 10000 are Cloudflare's own; the others are the emulator's.
CODE_INVALID = 1001
CODE_NOT_FOUND = 1002
CODE_NO_ROUTE = 7003
CODE_METHOD = 7001
CODE_AUTH = 10000
CODE_SERVER = 10001
CODE_THROTTLED = 10013


@dataclass
class ApiFailure(Exception):
    """A request the emulator refuses: the HTTP status and the API errors to report."""

    status: int
    errors: list[tuple[int, str]]

    def __reduce__(self) -> tuple[Callable[..., ApiFailure], tuple[Any, ...], dict[str, Any]]:
        # Made with keywords, its ``args`` are empty: pickle and copy would call it with neither field.
        return _rebuilt, (type(self), self.args), dict(self.__dict__)

    @classmethod
    def invalid(cls, *messages: str) -> ApiFailure:
        """400: the request body or parameters break the spec."""
        return cls(400, [(CODE_INVALID, m) for m in messages])

    @classmethod
    def not_found(cls, what: str) -> ApiFailure:
        """404: no such entry."""
        return cls(404, [(CODE_NOT_FOUND, f"{what} not found")])

    def envelope(self) -> dict[str, Any]:
        """The failure envelope the API answers with."""
        return {
            "success": False,
            "errors": [{"code": code, "message": message} for code, message in self.errors],
            "messages": [],
            "result": None,
        }


def _rebuilt(cls: type[ApiFailure], args: tuple[Any, ...]) -> ApiFailure:
    """A failure of ``cls`` with ``args``, made without its constructor (pickle then restores its fields)."""
    failure = cls.__new__(cls)
    failure.args = args
    return failure
