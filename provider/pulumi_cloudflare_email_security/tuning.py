"""Reliability settings: the rate budget and the retry policy, from the environment or the stack config.

| setting | environment | stack config (``cloudflare-email-security:…``) | default |
|---|---|---|---|
| rate budget | ``CLOUDFLARE_EMAIL_SECURITY_RATE_LIMIT`` | ``rateLimit`` | ``1200/300`` (Cloudflare's global limit) |
| retry deadline (s) | ``CLOUDFLARE_EMAIL_SECURITY_RETRY_DEADLINE`` | ``retryDeadline`` | ``300`` (``cfes``: ``15``) |
| first retry delay (s) | ``CLOUDFLARE_EMAIL_SECURITY_RETRY_BASE_DELAY`` | ``retryBaseDelay`` | ``0.5`` |
| log level | ``CLOUDFLARE_EMAIL_SECURITY_LOG_LEVEL`` | ``logLevel`` | Python's default |

The rate budget is ``REQUESTS/SECONDS`` (or just ``REQUESTS``, per 300 seconds). Surrounding whitespace
in a value is ignored.

The ``cfes`` commands that call the API run under :func:`command_line_retries`: a person waits for them, so
they give up after 15 seconds unless ``--retry-deadline`` or the environment says otherwise (the option wins),
and they say each retry as it comes. Elsewhere each retry is logged at INFO, and one warning per request says
when retrying has taken long.
"""

from __future__ import annotations

import logging
import math
import os
import sys
from collections.abc import Callable, Iterator, Mapping
from contextlib import contextmanager
from dataclasses import dataclass

from .credentials import CONFIG_NAMESPACE, stack_config
from .errors import ConfigurationError
from .formats import escaped, shown
from .reporting import in_provider_server

ENV_PREFIX = "CLOUDFLARE_EMAIL_SECURITY_"
DEFAULT_RATE = (1200, 300.0)
PACKAGE_LOGGER = "pulumi_cloudflare_email_security"
RETRY_DEADLINE_SETTING = f"{ENV_PREFIX}RETRY_DEADLINE or stack config {CONFIG_NAMESPACE}:retryDeadline"
"""Where the retry deadline is set, as messages name it."""
CLI_RETRY_DEADLINE = 15.0
"""The retry deadline of the ``cfes`` commands unless set otherwise: someone is waiting at a terminal."""
CLI_RETRY_DEADLINE_SETTING = f"--retry-deadline or {ENV_PREFIX}RETRY_DEADLINE"
"""Where the ``cfes`` commands' retry deadline is set, as their messages name it."""


def _setting(env_name: str, config_key: str, environ: Mapping[str, str] | None) -> tuple[str, str] | None:
    env = os.environ if environ is None else environ
    value = env.get(ENV_PREFIX + env_name, "").strip()
    if value:
        return ENV_PREFIX + env_name, value
    return stack_config(config_key, (CONFIG_NAMESPACE,))


def _positive_number(where: str, raw: str) -> float:
    try:
        value = float(raw)
    except ValueError:
        value = -1.0
    if not (value > 0 and math.isfinite(value)):
        raise ConfigurationError(f"{where}: must be a positive number of seconds (got {shown(raw)})")
    return value


def rate_limit(environ: Mapping[str, str] | None = None) -> tuple[int, float]:
    """The rate budget as ``(requests, seconds)``."""
    found = _setting("RATE_LIMIT", "rateLimit", environ)
    if found is None:
        return DEFAULT_RATE
    where, raw = found
    requests, _, seconds = raw.partition("/")
    try:
        limit = int(requests)
        period = float(seconds) if seconds else DEFAULT_RATE[1]
    except ValueError:
        limit, period = 0, 0.0
    if limit < 1 or period <= 0:
        raise ConfigurationError(f"{where}: must be REQUESTS/SECONDS such as 1200/300, or REQUESTS (got {shown(raw)})")
    return limit, period


@dataclass(frozen=True)
class RetryPolicy:
    """How long to keep retrying one request, and how long to wait between tries."""

    deadline: float = 300.0
    """Seconds from the first try by which a request, retries included, is over: no try starts after it,
    and a try still waiting for its answer then is cut off."""
    base_delay: float = 0.5
    """The first backoff; each later one doubles, up to ``max_delay``, with full jitter."""
    max_delay: float = 30.0
    warn_after: float = 10.0
    """Seconds of retrying after which a warning says what is retried and why."""
    setting: str = RETRY_DEADLINE_SETTING
    """What sets the deadline, as messages name it when they say how to allow more time."""
    report: Callable[[str], None] | None = None
    """Told of each retry in a line for people (what failed, when the next try is), instead of the log at
    INFO and the warning after ``warn_after``: the ``cfes`` commands print it."""

    def backoff(self, attempt: int, retry_after: float | None, jitter: float) -> float:
        """The wait before try ``attempt + 1``: the exponential backoff, or the server's ``Retry-After``
        when that is longer (a ``Retry-After`` of 0, or a date in the past, does not mean "at once")."""
        delay = jitter * min(self.max_delay, self.base_delay * 2.0**attempt)
        return delay if retry_after is None else max(retry_after, delay)


@dataclass(frozen=True)
class _CommandLine:
    deadline: float | None
    report: Callable[[str], None]


_command_line: _CommandLine | None = None


@contextmanager
def command_line_retries(deadline: float | None, report: Callable[[str], None]) -> Iterator[None]:
    """Within this block, requests retry as suits a command someone waits for: until ``deadline`` (the
    command's option) if given, else the configured deadline, else :data:`CLI_RETRY_DEADLINE`; ``report``
    is told of each retry. For this process (every thread), since lookups make their own clients."""
    global _command_line
    previous, _command_line = _command_line, _CommandLine(deadline, report)
    try:
        yield
    finally:
        _command_line = previous


def retry_policy(environ: Mapping[str, str] | None = None) -> RetryPolicy:
    """The retry policy from the environment or stack config (see :func:`command_line_retries` for ``cfes``)."""
    base = _setting("RETRY_BASE_DELAY", "retryBaseDelay", environ)
    base_delay = _positive_number(*base) if base else RetryPolicy.base_delay
    command_line = _command_line
    if command_line is not None and command_line.deadline is not None:
        deadline = command_line.deadline
    else:
        configured = _setting("RETRY_DEADLINE", "retryDeadline", environ)
        default = RetryPolicy.deadline if command_line is None else CLI_RETRY_DEADLINE
        deadline = _positive_number(*configured) if configured else default
    if command_line is None:
        return RetryPolicy(deadline=deadline, base_delay=base_delay)
    return RetryPolicy(
        deadline=deadline, base_delay=base_delay, setting=CLI_RETRY_DEADLINE_SETTING, report=command_line.report
    )


def positive_seconds(where: str, raw: str) -> float:
    """``raw`` as a positive, finite number of seconds; a :class:`ConfigurationError` naming ``where`` if not."""
    return _positive_number(where, raw.strip())


def warn(message: str) -> None:
    """Say ``message`` where the person running Pulumi sees it: as a warning of the Pulumi engine (shown by
    ``pulumi up``) in a program or a dynamic provider process, else through this package's logger."""
    message = escaped(message)  # it may quote the account or the API
    if _under_pulumi():
        import pulumi

        pulumi.log.warn(message)
    else:
        logging.getLogger(PACKAGE_LOGGER).warning(message)


def _under_pulumi() -> bool:
    if in_provider_server():
        return True  # the provider process, whose stderr the Pulumi CLI shows
    if "pulumi.runtime.settings" not in sys.modules:
        return False
    from pulumi.runtime.settings import get_engine

    return get_engine() is not None


def configure_logging(environ: Mapping[str, str] | None = None) -> None:
    """Send this package's log records at the configured level to stderr (the provider process's log)."""
    found = _setting("LOG_LEVEL", "logLevel", environ)
    if found is None:
        return
    where, raw = found
    level = logging.getLevelName(raw.upper())
    if not isinstance(level, int):
        raise ConfigurationError(f"{where}: must be DEBUG, INFO, WARNING or ERROR (got {shown(raw)})")
    logger = logging.getLogger(PACKAGE_LOGGER)
    logger.setLevel(level)
    if not any(getattr(h, "_cfes", False) for h in logger.handlers):
        handler = logging.StreamHandler(sys.stderr)
        handler.setFormatter(logging.Formatter("%(levelname)s %(name)s: %(message)s"))
        handler._cfes = True  # type: ignore[attr-defined]
        logger.addHandler(handler)
