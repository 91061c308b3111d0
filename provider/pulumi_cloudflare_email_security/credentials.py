"""Where credentials and the API base URL come from, resolved at every call.

Credentials never live on a provider instance or in a resource's inputs: both are pickled into the
Pulumi state. They are looked up when a request is made, in this order:

1. the environment: ``CLOUDFLARE_API_TOKEN``, or ``CLOUDFLARE_EMAIL`` with ``CLOUDFLARE_API_KEY``;
2. the stack configuration the provider process received through ``configure()``:
   ``cloudflare-email-security:apiToken`` / ``:email`` / ``:apiKey``, then the ``cloudflare:apiToken`` /
   ``:email`` / ``:apiKey`` keys that pulumi-cloudflare users already set.

The environment wins, so that a rotated token works for ``destroy`` and ``refresh``, which do not run the
program. The base URL comes from ``CLOUDFLARE_BASE_URL``, then ``cloudflare-email-security:baseUrl``,
then Cloudflare's public API. There is no silent fallback to the emulator.

Values are taken as a secret file or a shell gives them: surrounding whitespace and newlines are ignored.
A credential that still cannot travel in an HTTP header, or a base URL the provider will not send
credentials to (see :func:`check_base_url`), is a :class:`ConfigurationError` naming the variable or config
key, never the secret, before any request is made.
"""

from __future__ import annotations

import difflib
import ipaddress
import os
import re
import threading
from collections.abc import Mapping
from dataclasses import dataclass, field
from urllib.parse import urlsplit

from .errors import ConfigurationError
from .formats import ACCOUNT_ID_RULE

CLOUDFLARE_API_URL = "https://api.cloudflare.com/client/v4"
CONFIG_NAMESPACE = "cloudflare-email-security"

ENV_TOKEN = "CLOUDFLARE_API_TOKEN"
ENV_EMAIL = "CLOUDFLARE_EMAIL"
ENV_KEY = "CLOUDFLARE_API_KEY"
ENV_BASE_URL = "CLOUDFLARE_BASE_URL"
ENV_ACCOUNT_ID = "CLOUDFLARE_ACCOUNT_ID"
ACCOUNT_ID_SOURCES = f"the stack config {CONFIG_NAMESPACE}:accountId or cloudflare:accountId, or {ENV_ACCOUNT_ID}"
"""Where a program takes the account id from when a resource or lookup names none, in that order."""

_CREDENTIAL_NAMESPACES = (CONFIG_NAMESPACE, "cloudflare")
_SHARED_KEYS = ("apiToken", "email", "apiKey", "accountId")
_OWN_KEYS = ("baseUrl", "rateLimit", "retryDeadline", "retryBaseDelay", "logLevel")

STACK_CONFIG_KEYS: tuple[str, ...] = (
    *(f"{ns}:{key}" for ns in _CREDENTIAL_NAMESPACES for key in _SHARED_KEYS),
    *(f"{CONFIG_NAMESPACE}:{key}" for key in _OWN_KEYS),
)
"""Every stack config key this package reads (credentials in both namespaces, its own settings in its own)."""

EMBEDDED_PREFIX = "embedded:"
_VISIBLE_ASCII = re.compile(r"[\x21-\x7e]+")
"""What a credential or base URL may be made of: what an HTTP header or request line carries unchanged."""

_stack_config: dict[str, str] = {}
_stack_config_lock = threading.Lock()


@dataclass(frozen=True)
class Credentials:
    """Credentials for one request. ``repr`` and ``str`` never show the secret."""

    token: str | None = field(default=None, repr=False)
    email: str | None = field(default=None, repr=False)
    api_key: str | None = field(default=None, repr=False)
    source: str = "environment"

    def headers(self) -> dict[str, str]:
        """The HTTP headers that authenticate a request."""
        if self.token:
            return {"Authorization": f"Bearer {self.token}"}
        assert self.email and self.api_key
        return {"X-Auth-Email": self.email, "X-Auth-Key": self.api_key}

    def secrets(self) -> tuple[str, ...]:
        """The secret values, so that messages can be scrubbed of them."""
        return tuple(s for s in (self.token, self.api_key) if s)

    def __str__(self) -> str:
        kind = "API token" if self.token else "email + global API key"
        return f"<{kind} from {self.source}>"


def no_account_message() -> str:
    """The one line for an ``account_id`` that is needed and not given, by a resource, a set or a lookup: the
    input, and the stack config keys and environment variable a program takes it from instead."""
    return f"account_id: is required: pass account_id ({ACCOUNT_ID_RULE}), or set {ACCOUNT_ID_SOURCES}"


def remember_stack_config(config: Mapping[str, object]) -> None:
    """Keep the credential and base-URL keys of the stack configuration for this process.

    ``config`` maps ``namespace:key`` to values, as the Pulumi engine sends them to ``configure()``.
    """
    wanted = set(STACK_CONFIG_KEYS)
    kept = {k: str(v).strip() for k, v in config.items() if k in wanted and v is not None and str(v).strip()}
    with _stack_config_lock:
        _stack_config.clear()
        _stack_config.update(kept)


def load_program_config() -> None:
    """Inside a Pulumi program, remember the stack's credential and base-URL config, as ``configure()`` does
    in the provider process, so that lookups made by the program find them. Outside one, does nothing."""
    from pulumi.runtime.config import get_config  # plain values, secrets included, without warnings

    found = {key: value for key in STACK_CONFIG_KEYS if (value := get_config(key))}
    if found:
        remember_stack_config(found)


def stack_config(key: str, namespaces: tuple[str, ...] = _CREDENTIAL_NAMESPACES) -> tuple[str, str] | None:
    """The first stack config value set for ``key`` in ``namespaces``, as ``(full key, value)``."""
    with _stack_config_lock:
        for ns in namespaces:
            value = _stack_config.get(f"{ns}:{key}")
            if value:
                return f"{ns}:{key}", value
    return None


def _credential(value: str | None, where: str) -> str | None:
    """``value`` without surrounding whitespace (``None`` when blank), or the error naming ``where``."""
    cleaned = (value or "").strip()
    if cleaned and not _VISIBLE_ASCII.fullmatch(cleaned):
        raise ConfigurationError(
            f"{where} cannot be sent to the API: it contains whitespace, a control character or a non-ASCII "
            f"character (surrounding whitespace and newlines are ignored). Set it to the value alone."
        )
    return cleaned or None


def resolve_credentials(environ: Mapping[str, str] | None = None) -> Credentials:
    """The credentials to use now: environment first, then stack configuration.

    Surrounding whitespace is ignored; a value that still cannot be sent is a :class:`ConfigurationError`
    naming where it came from.
    """
    env = os.environ if environ is None else environ
    token = _credential(env.get(ENV_TOKEN), ENV_TOKEN)
    if token:
        return Credentials(token=token, source=ENV_TOKEN)
    email, key = _credential(env.get(ENV_EMAIL), ENV_EMAIL), _credential(env.get(ENV_KEY), ENV_KEY)
    if email and key:
        return Credentials(email=email, api_key=key, source=f"{ENV_EMAIL} + {ENV_KEY}")
    if email or key:
        missing = ENV_KEY if email else ENV_EMAIL
        raise ConfigurationError(
            f"Incomplete Cloudflare credentials: {missing} is not set. Set both {ENV_EMAIL} and "
            f"{ENV_KEY}, or set {ENV_TOKEN} instead."
        )
    cfg_token = stack_config("apiToken")
    if cfg_token:
        where = f"stack config {cfg_token[0]}"
        return Credentials(token=_credential(cfg_token[1], where), source=where)
    cfg_email, cfg_key = stack_config("email"), stack_config("apiKey")
    if cfg_email and cfg_key:
        return Credentials(
            email=_credential(cfg_email[1], f"stack config {cfg_email[0]}"),
            api_key=_credential(cfg_key[1], f"stack config {cfg_key[0]}"),
            source=f"stack config {cfg_email[0]} + {cfg_key[0]}",
        )
    raise ConfigurationError(
        f"No Cloudflare credentials found: set {ENV_TOKEN} (or {ENV_EMAIL} and {ENV_KEY}) in the "
        f"environment, or the stack config secret cloudflare:apiToken "
        f"(`pulumi config set --secret cloudflare:apiToken ...`)."
    )


def resolve_base_url(environ: Mapping[str, str] | None = None) -> str:
    """The API base URL to use now: environment, then stack config, then Cloudflare's public API."""
    return resolve_base_url_setting(environ)[0]


def resolve_base_url_setting(environ: Mapping[str, str] | None = None) -> tuple[str, str]:
    """The API base URL to use now, as :func:`resolve_base_url` finds it, and where it came from:
    ``CLOUDFLARE_BASE_URL``, ``stack config cloudflare-email-security:baseUrl`` or ``default``.

    The URL is not checked here: :func:`check_base_url` does that where it is used.
    """
    env = os.environ if environ is None else environ
    from_env = env.get(ENV_BASE_URL, "").strip()
    if from_env:
        return from_env.rstrip("/"), ENV_BASE_URL
    configured = stack_config("baseUrl", (CONFIG_NAMESPACE,))
    if configured:
        return configured[1].strip().rstrip("/"), f"stack config {configured[0]}"
    return CLOUDFLARE_API_URL, "default"


_ALLOWED_BASE_URLS = "https://…, http:// to this machine only (127.0.0.1, ::1, localhost), or embedded:PATH"


def check_base_url(base_url: str, source: str) -> str:
    """``base_url`` when the provider may send credentials to it, else a :class:`ConfigurationError` that
    names ``source`` (the variable or config key it came from) and, for a near miss, the likely fix.

    Allowed: ``https://…``; ``http://…`` to a loopback host only, since plain HTTP carries the token in
    clear text; ``embedded:PATH`` (the path itself is checked when the emulator opens it).
    """
    if base_url.startswith(EMBEDDED_PREFIX):
        return base_url
    problem = _base_url_problem(base_url)
    if problem:
        raise ConfigurationError(f"{source} is {_quoted(base_url)}: {problem}. Allowed: {_ALLOWED_BASE_URLS}.")
    return base_url


def _base_url_problem(url: str) -> str | None:
    if not _VISIBLE_ASCII.fullmatch(url):
        return "a URL cannot contain whitespace, control or non-ASCII characters"
    scheme, colon, rest = url.partition(":")
    host_and_port = not rest.startswith("//") and re.match(r"\d", rest)
    if not colon or host_and_port or not re.fullmatch(r"[A-Za-z][A-Za-z0-9+.-]*", scheme):
        return "it has no scheme" + _scheme_guess(url)
    lowered = scheme.lower()
    if lowered not in ("https", "http"):
        close = difflib.get_close_matches(lowered, ["https", "http", "embedded"], n=1, cutoff=0.6)
        if close == ["embedded"]:
            return f"{_quoted(scheme + ':')} is not a known prefix (did you mean {_quoted(EMBEDDED_PREFIX + rest)}?)"
        if close:
            fixed = close[0] + "://" + rest.lstrip("/")
            return f"{_quoted(scheme)} is not a supported protocol (did you mean {_quoted(fixed)}?)"
        return f"the protocol {_quoted(scheme)} is not supported"
    try:
        parts = urlsplit(url)
        host, _ = parts.hostname, parts.port
    except ValueError as exc:
        return f"it is not a valid URL ({exc})"
    if not rest.startswith("//") or not host:
        return "it names no host"
    if parts.query or parts.fragment or url.endswith(("?", "#")):
        return "API paths are added to its end, so it cannot have a query (?…) or a fragment (#…)"
    if lowered == "http" and not _is_loopback(host):
        return "plain http:// would send the API token in clear text to a host that is not this machine (use https://)"
    return None


def _scheme_guess(url: str) -> str:
    host = url.partition("/")[0].rpartition(":")[0] or url.partition("/")[0]
    if _is_loopback(host.strip("[]")):
        return f" (did you mean {_quoted('http://' + url)}?)"
    if re.fullmatch(r"[A-Za-z0-9-]+(?:\.[A-Za-z0-9-]+)*\.[A-Za-z]{2,}", host):
        return f" (did you mean {_quoted('https://' + url)}?)"
    return ""


def _is_loopback(host: str) -> bool:
    if host.lower() == "localhost":
        return True
    try:
        return ipaddress.ip_address(host).is_loopback
    except ValueError:
        return False


def displayed_base_url(base_url: str) -> str:
    """``base_url`` as messages show it: any ``user:password@`` part is masked."""
    scheme, sep, rest = base_url.partition("://")
    host, slash, path = rest.partition("/")
    if sep and "@" in host:
        return f"{scheme}://***@{host.rpartition('@')[2]}{slash}{path}"
    return base_url


def _quoted(value: str, limit: int = 80) -> str:
    text = repr(displayed_base_url(value))
    return text if len(text) <= limit else f"{text[: limit - 12]}…({len(text)} chars)"
