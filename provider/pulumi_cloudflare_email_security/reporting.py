"""How a failed provider call reaches ``pulumi up``: our message, in a few lines, not a Python traceback.

The process the Pulumi CLI starts for dynamic providers (``python -m pulumi.dynamic``) answers a failed
call with ``traceback.format_exc()``: some 25 lines of frames, with the one line that matters last. That
function honours ``sys.tracebacklimit``, so inside that process a failure sets it to 0 and the engine
shows just ``ErrorType: message``. A failure that is not one of this package's errors (a bug) is turned
into one whose message still says where it happened, so that it can be reported; its full traceback goes to
the provider's log first (this package's logger, at ERROR), without credentials, as the message is.
"""

from __future__ import annotations

import functools
import logging
import sys
import traceback
from collections.abc import Callable
from pathlib import Path
from typing import ParamSpec, TypeVar

from .credentials import resolve_credentials
from .envelope import scrub
from .errors import EmailSecurityError
from .formats import escaped

PROVIDER_SERVER = "pulumi.dynamic.__main__"
"""The module ``python -m pulumi.dynamic`` runs as ``__main__``."""
FRAMES_SHOWN = 3
"""How many of a bug's innermost frames its message names."""
DETAIL_LIMIT = 300
"""How much of a bug's own message is quoted, on one line."""

logger = logging.getLogger(__name__)

P = ParamSpec("P")
R = TypeVar("R")


class UnexpectedError(EmailSecurityError):
    """Something failed that this package did not foresee: a bug, to be reported with this message."""


def in_provider_server() -> bool:
    """Whether this process is the dynamic provider server the Pulumi CLI starts."""
    spec = getattr(sys.modules.get("__main__"), "__spec__", None)
    return getattr(spec, "name", None) == PROVIDER_SERVER


def _where(error: BaseException) -> str:
    # An explicit limit: the default follows sys.tracebacklimit, which a failure before may have set to 0.
    frames = traceback.extract_tb(error.__traceback__, limit=sys.maxsize)[-FRAMES_SHOWN:]
    return " <- ".join(f"{Path(f.filename).name}:{f.lineno} in {f.name}" for f in reversed(frames))


def _without_secrets(text: str) -> str:
    try:
        credentials = resolve_credentials()
    except EmailSecurityError:
        return text  # no usable credentials: none to leak
    return scrub(text, credentials)


def _traceback(error: BaseException) -> str:
    # An explicit limit, as in _where; each line escaped as a message is, the line breaks kept.
    text = "".join(traceback.format_exception(type(error), error, error.__traceback__, limit=sys.maxsize))
    return "\n".join(escaped(line) for line in _without_secrets(text).splitlines())


def as_reported(error: Exception) -> EmailSecurityError:
    """The error to hand to the engine for ``error``: this package's own as it is, anything else wrapped in an
    :class:`UnexpectedError`, after the bug's full traceback has gone to the log."""
    if isinstance(error, EmailSecurityError):
        return error
    text = escaped(_without_secrets(" ".join(str(error).split()))) or "no message"
    detail = text if len(text) <= DETAIL_LIMIT else f"{text[:DETAIL_LIMIT]}…"
    wrapped = UnexpectedError(
        f"Unexpected {type(error).__name__} in the Cloudflare Email Security provider ({detail}) at "
        f"{_where(error)}: this is a bug; please report it with this message"
    )
    logger.error("%s; its traceback:\n%s", wrapped, _traceback(error))
    return wrapped


def reported(method: Callable[P, R]) -> Callable[P, R]:
    """Make a provider method's failures short: the message whole, without a traceback or chained causes."""

    @functools.wraps(method)
    def call(*args: P.args, **kwargs: P.kwargs) -> R:
        try:
            return method(*args, **kwargs)
        except Exception as failure:
            if in_provider_server():
                sys.tracebacklimit = 0
            raise as_reported(failure) from None

    return call
