"""Every settings type this package manages: one entry per type, its provider and resource class."""

from __future__ import annotations

from .engine import SettingsProvider
from .resource import SettingsResource
from .settings.allow_policy import AllowPolicy, AllowPolicyProvider
from .settings.base import SettingsType
from .settings.blocked_sender import BlockedSender, BlockedSenderProvider
from .settings.content_policy import ContentPolicy, ContentPolicyProvider
from .settings.impersonation_registry import ImpersonationRegistryEntry, ImpersonationRegistryEntryProvider
from .settings.protected_domain import ProtectedDomain, ProtectedDomainProvider
from .settings.sending_domain_restriction import SendingDomainRestriction, SendingDomainRestrictionProvider
from .settings.trusted_domain import TrustedDomain, TrustedDomainProvider
from .settings.url_ignore_pattern import UrlIgnorePattern, UrlIgnorePatternProvider

_ENTRIES: tuple[tuple[type[SettingsProvider], type[SettingsResource]], ...] = (
    (AllowPolicyProvider, AllowPolicy),
    (BlockedSenderProvider, BlockedSender),
    (TrustedDomainProvider, TrustedDomain),
    (ImpersonationRegistryEntryProvider, ImpersonationRegistryEntry),
    (SendingDomainRestrictionProvider, SendingDomainRestriction),
    (ProtectedDomainProvider, ProtectedDomain),
    (UrlIgnorePatternProvider, UrlIgnorePattern),
    (ContentPolicyProvider, ContentPolicy),
)

PROVIDERS: dict[str, type[SettingsProvider]] = {p.settings_type.resource_name: p for p, _ in _ENTRIES}
"""The provider class of each settings type (at a stable import path: pickles refer to it)."""

SETTINGS_TYPES: dict[str, SettingsType] = {name: p.settings_type for name, p in PROVIDERS.items()}
"""The declaration of each settings type."""

RESOURCES: dict[str, type[SettingsResource]] = {p.settings_type.resource_name: r for p, r in _ENTRIES}
"""The resource class of each settings type."""
