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
"""

from __future__ import annotations

import os
import threading
from collections.abc import Mapping
from dataclasses import dataclass, field

from .errors import ConfigurationError

CLOUDFLARE_API_URL = "https://api.cloudflare.com/client/v4"
CONFIG_NAMESPACE = "cloudflare-email-security"

ENV_TOKEN = "CLOUDFLARE_API_TOKEN"
ENV_EMAIL = "CLOUDFLARE_EMAIL"
ENV_KEY = "CLOUDFLARE_API_KEY"
ENV_BASE_URL = "CLOUDFLARE_BASE_URL"
ENV_ACCOUNT_ID = "CLOUDFLARE_ACCOUNT_ID"

_CREDENTIAL_NAMESPACES = (CONFIG_NAMESPACE, "cloudflare")
_SHARED_KEYS = ("apiToken", "email", "apiKey", "accountId")
_OWN_KEYS = ("baseUrl", "rateLimit", "retryDeadline", "retryBaseDelay", "logLevel")

STACK_CONFIG_KEYS: tuple[str, ...] = (
    *(f"{ns}:{key}" for ns in _CREDENTIAL_NAMESPACES for key in _SHARED_KEYS),
    *(f"{CONFIG_NAMESPACE}:{key}" for key in _OWN_KEYS),
)
"""Every stack config key this package reads (credentials in both namespaces, its own settings in its own)."""

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


def remember_stack_config(config: Mapping[str, object]) -> None:
    """Keep the credential and base-URL keys of the stack configuration for this process.

    ``config`` maps ``namespace:key`` to values, as the Pulumi engine sends them to ``configure()``.
    """
    wanted = set(STACK_CONFIG_KEYS)
    kept = {k: str(v) for k, v in config.items() if k in wanted and v not in (None, "")}
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


def resolve_credentials(environ: Mapping[str, str] | None = None) -> Credentials:
    """The credentials to use now: environment first, then stack configuration."""
    env = os.environ if environ is None else environ
    if env.get(ENV_TOKEN):
        return Credentials(token=env[ENV_TOKEN], source=ENV_TOKEN)
    email, key = env.get(ENV_EMAIL), env.get(ENV_KEY)
    if email and key:
        return Credentials(email=email, api_key=key, source=f"{ENV_EMAIL} + {ENV_KEY}")
    if email or key:
        missing = ENV_KEY if email else ENV_EMAIL
        raise ConfigurationError(
            f"Incomplete Cloudflare credentials: {missing} is not set. Set both {ENV_EMAIL} and "
            f"{ENV_KEY}, or set {ENV_TOKEN} instead."
        )
    token = stack_config("apiToken")
    if token:
        return Credentials(token=token[1], source=f"stack config {token[0]}")
    cfg_email, cfg_key = stack_config("email"), stack_config("apiKey")
    if cfg_email and cfg_key:
        return Credentials(email=cfg_email[1], api_key=cfg_key[1], source=f"stack config {cfg_email[0]} + {cfg_key[0]}")
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
    ``CLOUDFLARE_BASE_URL``, ``stack config cloudflare-email-security:baseUrl`` or ``default``."""
    env = os.environ if environ is None else environ
    if env.get(ENV_BASE_URL):
        return env[ENV_BASE_URL].rstrip("/"), ENV_BASE_URL
    configured = stack_config("baseUrl", (CONFIG_NAMESPACE,))
    if configured:
        return configured[1].rstrip("/"), f"stack config {configured[0]}"
    return CLOUDFLARE_API_URL, "default"
