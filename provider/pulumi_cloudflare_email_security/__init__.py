"""Cloudflare Email Security settings as Pulumi resources.

>>> import pulumi_cloudflare_email_security as email_security
>>> email_security.AllowPolicy("partner", pattern="partner.example", pattern_type="DOMAIN",
...     is_trusted_sender=True, is_acceptable_sender=False, is_exempt_recipient=False,
...     is_regex=False, verify_sender=True)  # doctest: +SKIP

Credentials are read when the provider calls the API (see :mod:`.credentials`), never stored in state.
"""

from .client import CloudflareClient
from .entries import (
    AllowPolicyInfo,
    BlockedSenderInfo,
    ContentPolicyInfo,
    EntryInfo,
    ImpersonationRegistryEntryInfo,
    ProtectedDomainInfo,
    SendingDomainRestrictionInfo,
    TrustedDomainInfo,
    UrlIgnorePatternInfo,
)
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
    WaitTimeoutError,
)
from .lookups import (
    list_allow_policies,
    list_blocked_senders,
    list_content_policies,
    list_impersonation_registry_entries,
    list_protected_domains,
    list_sending_domain_restrictions,
    list_trusted_domains,
    list_url_ignore_patterns,
    lookup_output,
)
from .resource import default_account_id
from .settings.allow_policy import AllowPolicy, AllowPolicyEntry, AllowPolicySet
from .settings.blocked_sender import BlockedSender, BlockedSenderEntry, BlockedSenderSet
from .settings.content_policy import ContentPolicy, ContentPolicyEntry, ContentPolicySet
from .settings.impersonation_registry import (
    ImpersonationRegistryEntry,
    ImpersonationRegistrySet,
    ImpersonationRegistrySetEntry,
)
from .settings.protected_domain import ProtectedDomain
from .settings.sending_domain_restriction import (
    SendingDomainRestriction,
    SendingDomainRestrictionEntry,
    SendingDomainRestrictionSet,
)
from .settings.trusted_domain import TrustedDomain, TrustedDomainEntry, TrustedDomainSet
from .settings.url_ignore_pattern import UrlIgnorePattern, UrlIgnorePatternEntry, UrlIgnorePatternSet

__all__ = [
    "AllowPolicy",
    "AllowPolicyEntry",
    "AllowPolicyInfo",
    "AllowPolicySet",
    "AuthenticationError",
    "BlockedSender",
    "BlockedSenderEntry",
    "BlockedSenderInfo",
    "BlockedSenderSet",
    "CloudflareAPIError",
    "CloudflareClient",
    "ConfigurationError",
    "ContentPolicy",
    "ContentPolicyEntry",
    "ContentPolicyInfo",
    "ContentPolicySet",
    "EmailSecurityError",
    "EntryInfo",
    "ImpersonationRegistryEntry",
    "ImpersonationRegistryEntryInfo",
    "ImpersonationRegistrySet",
    "ImpersonationRegistrySetEntry",
    "InputError",
    "NotFoundError",
    "ProtectedDomain",
    "ProtectedDomainInfo",
    "RateLimitedError",
    "SendingDomainRestriction",
    "SendingDomainRestrictionEntry",
    "SendingDomainRestrictionInfo",
    "SendingDomainRestrictionSet",
    "ServerError",
    "TransportError",
    "TrustedDomain",
    "TrustedDomainEntry",
    "TrustedDomainInfo",
    "TrustedDomainSet",
    "UrlIgnorePattern",
    "UrlIgnorePatternEntry",
    "UrlIgnorePatternInfo",
    "UrlIgnorePatternSet",
    "ValidationError",
    "WaitTimeoutError",
    "default_account_id",
    "list_allow_policies",
    "list_blocked_senders",
    "list_content_policies",
    "list_impersonation_registry_entries",
    "list_protected_domains",
    "list_sending_domain_restrictions",
    "list_trusted_domains",
    "list_url_ignore_patterns",
    "lookup_output",
]
