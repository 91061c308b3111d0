"""Errors raised by this package.

Every error the package raises derives from :class:`EmailSecurityError`::

    EmailSecurityError
    ├── ConfigurationError          credentials or settings are missing, malformed or unusable (never retried)
    ├── InputError                  a resource's inputs cannot be applied as declared
    ├── WaitTimeoutError            waited past its deadline for another thread's work (a listing it shares,
    │                               a write holding the same keys), which may be stuck
    └── CloudflareAPIError          the API answered with a failure, or could not be reached
        ├── NotFoundError           404: the entry (or route) does not exist
        ├── AuthenticationError     401 / 403: credentials refused or lacking permission
        ├── ValidationError         other 4xx: the API rejected the request body or parameters
        ├── RateLimitedError        429: too many requests
        ├── ServerError             5xx
        └── TransportError          no usable HTTP answer: connection refused, reset, timed out, or
                                    cut off at the retry deadline

An API error carries the HTTP ``status``, the API's ``errors`` as ``(code, message)`` pairs, the
``ray_id`` from the ``cf-ray`` header, and ``outcome_unknown`` when the request may have been applied.
Its first line says what failed and how, so it reads well as the one line Pulumi shows for a failed
resource. Credentials are never part of any message: what the API sends back is masked before it becomes
part of an error (see :func:`.envelope.scrub`). Nor is anything a terminal would act on: the message is
built with every character that is not printable escaped (:func:`.formats.escaped`), so an API message with
an ANSI sequence, a line separator or a bidi control reaches ``cfes`` and the Pulumi CLI as text to read.

Every error pickles and copies (``pickle``, ``copy.copy``, ``copy.deepcopy``) with all it carries: it is
rebuilt from its message and attributes, never by calling its constructor again.
"""

from __future__ import annotations

from collections.abc import Callable, Sequence
from dataclasses import dataclass
from typing import Any

from .formats import escaped


class EmailSecurityError(Exception):
    """Base class of every error raised by this package."""

    def __reduce__(self) -> tuple[Callable[..., EmailSecurityError], tuple[Any, ...], dict[str, Any]]:
        # The default calls the class again with ``args`` alone, which fails for keyword-only arguments (API
        # errors) and for any constructor that takes other arguments than the message: rebuild it as it is.
        return _rebuilt, (type(self), self.args), dict(self.__dict__)


def _rebuilt(cls: type[EmailSecurityError], args: tuple[Any, ...]) -> EmailSecurityError:
    """An error of ``cls`` with ``args``, made without its constructor (pickle then restores its attributes)."""
    error = cls.__new__(cls)
    error.args = args
    return error


class _OneLine(EmailSecurityError):
    """An error whose message may quote what the account or the API holds (ids, names, reasons): built with
    every character that is not printable escaped, as API errors are."""

    def __init__(self, message: str = "") -> None:
        super().__init__(escaped(message))


class ConfigurationError(_OneLine):
    """Credentials, base URL or account settings are missing or malformed."""


class InputError(_OneLine):
    """A resource's inputs cannot be applied as declared."""


class WaitTimeoutError(_OneLine):
    """A wait for another thread of this process (a listing it shares, a write holding the same keys) passed
    its deadline: the message says which wait, for what, and what to do."""


@dataclass(frozen=True)
class ApiMessage:
    """One entry of the API's ``errors`` array."""

    code: int | None
    message: str

    def __str__(self) -> str:
        return f"[{self.code}] {self.message}" if self.code is not None else self.message


class CloudflareAPIError(EmailSecurityError):
    """The Cloudflare API answered with a failure, or could not be reached."""

    def __init__(
        self,
        summary: str,
        *,
        method: str,
        path: str,
        status: int | None = None,
        errors: Sequence[ApiMessage] = (),
        ray_id: str | None = None,
        outcome_unknown: bool = False,
    ) -> None:
        self.summary = summary
        self.outcome_unknown = outcome_unknown
        """The request may have been applied: the answer was lost or the server failed mid-way."""
        self.method = method
        self.path = path
        self.status = status
        self.errors: tuple[ApiMessage, ...] = tuple(errors)
        self.ray_id = ray_id
        self.details: list[str] = []
        super().__init__(self._render())

    def add_detail(self, detail: str) -> None:
        """Add a sentence to the message (what was tried, what to check)."""
        self.details = [*self.details, detail]  # a copy's details are its own
        self.args = (self._render(),)

    @property
    def codes(self) -> tuple[int, ...]:
        """The API's error codes, in the order the API gave them."""
        return tuple(e.code for e in self.errors if e.code is not None)

    def _render(self) -> str:
        where = f"{self.method} {self.path}"
        facts = [f"HTTP {self.status}" if self.status is not None else None]
        facts.append(f"cf-ray {self.ray_id}" if self.ray_id else None)
        known = ", ".join(f for f in facts if f)
        detail = "; ".join(str(e) for e in self.errors)
        head = f"{self.summary}: {detail}" if detail else self.summary
        tail = "".join(f"; {d}" for d in getattr(self, "details", []))
        return escaped(f"{head} ({where}{', ' + known if known else ''}){tail}")


class NotFoundError(CloudflareAPIError):
    """404: the entry does not exist (or the route is unknown)."""


class AuthenticationError(CloudflareAPIError):
    """401 / 403: the credentials were refused or lack the Email Security permission."""


class ValidationError(CloudflareAPIError):
    """A 4xx other than 401, 403, 404 and 429: the API rejected the request."""


class RateLimitedError(CloudflareAPIError):
    """429: the API is throttling this account or token."""

    def __init__(self, summary: str, *, retry_after: float | None = None, **kwargs: object) -> None:
        self.retry_after = retry_after
        super().__init__(summary, **kwargs)  # type: ignore[arg-type]


class ServerError(CloudflareAPIError):
    """5xx: the API failed; the request may or may not have been applied."""


class TransportError(CloudflareAPIError):
    """No usable HTTP answer: the connection failed, was reset or timed out."""

    deadline_passed: bool = False
    """The try was cut off because the request's retry deadline came before a complete answer."""


def error_class_for_status(status: int) -> type[CloudflareAPIError]:
    """The error class that stands for an HTTP failure status."""
    if status == 404:
        return NotFoundError
    if status in (401, 403):
        return AuthenticationError
    if status == 429:
        return RateLimitedError
    if status >= 500:
        return ServerError
    return ValidationError
