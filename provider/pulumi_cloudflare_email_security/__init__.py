"""Cloudflare Email Security settings as Pulumi resources.

>>> import pulumi_cloudflare_email_security as email_security
>>> email_security.AllowPolicy("partner", pattern="partner.example", pattern_type="DOMAIN",
...     is_trusted_sender=True, is_acceptable_sender=False, is_exempt_recipient=False,
...     is_regex=False, verify_sender=True)  # doctest: +SKIP

Credentials are read when the provider calls the API (see :mod:`.credentials`), never stored in state.
"""

from .client import CloudflareClient
from .errors import (
    AuthenticationError,
    CloudflareAPIError,
    ConfigurationError,
    EmailSecurityError,
    InputError,
    NotFoundError,
    RateLimitedError,
    ServerError,
    TransportError,
    ValidationError,
)
from .resource import default_account_id
from .settings.allow_policy import AllowPolicy
from .settings.blocked_sender import BlockedSender
from .settings.impersonation_registry import ImpersonationRegistryEntry
from .settings.protected_domain import ProtectedDomain
from .settings.sending_domain_restriction import SendingDomainRestriction
from .settings.trusted_domain import TrustedDomain
from .settings.url_ignore_pattern import UrlIgnorePattern

__all__ = [
    "AllowPolicy",
    "AuthenticationError",
    "BlockedSender",
    "CloudflareAPIError",
    "CloudflareClient",
    "ConfigurationError",
    "EmailSecurityError",
    "ImpersonationRegistryEntry",
    "InputError",
    "NotFoundError",
    "ProtectedDomain",
    "RateLimitedError",
    "SendingDomainRestriction",
    "ServerError",
    "TransportError",
    "TrustedDomain",
    "UrlIgnorePattern",
    "ValidationError",
    "default_account_id",
]
