"""Every settings type this package manages: one entry per type, its provider and resource class, and the same
for the set resources (many entries of one type as one resource)."""

from __future__ import annotations

from .engine import SettingsProvider
from .resource import SetResource, SettingsResource
from .sets import SetProvider
from .settings.allow_policy import AllowPolicy, AllowPolicyProvider, AllowPolicySet, AllowPolicySetProvider
from .settings.base import SettingsType
from .settings.blocked_sender import BlockedSender, BlockedSenderProvider, BlockedSenderSet, BlockedSenderSetProvider
from .settings.content_policy import ContentPolicy, ContentPolicyProvider, ContentPolicySet, ContentPolicySetProvider
from .settings.impersonation_registry import (
    ImpersonationRegistryEntry,
    ImpersonationRegistryEntryProvider,
    ImpersonationRegistrySet,
    ImpersonationRegistrySetProvider,
)
from .settings.protected_domain import ProtectedDomain, ProtectedDomainProvider
from .settings.sending_domain_restriction import (
    SendingDomainRestriction,
    SendingDomainRestrictionProvider,
    SendingDomainRestrictionSet,
    SendingDomainRestrictionSetProvider,
)
from .settings.trusted_domain import TrustedDomain, TrustedDomainProvider, TrustedDomainSet, TrustedDomainSetProvider
from .settings.url_ignore_pattern import (
    UrlIgnorePattern,
    UrlIgnorePatternProvider,
    UrlIgnorePatternSet,
    UrlIgnorePatternSetProvider,
)

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

_SET_ENTRIES: tuple[tuple[type[SetProvider], type[SetResource]], ...] = (
    (AllowPolicySetProvider, AllowPolicySet),
    (BlockedSenderSetProvider, BlockedSenderSet),
    (TrustedDomainSetProvider, TrustedDomainSet),
    (ImpersonationRegistrySetProvider, ImpersonationRegistrySet),
    (SendingDomainRestrictionSetProvider, SendingDomainRestrictionSet),
    (UrlIgnorePatternSetProvider, UrlIgnorePatternSet),
    (ContentPolicySetProvider, ContentPolicySet),
)

SET_PROVIDERS: dict[str, type[SetProvider]] = {p.set_name(): p for p, _ in _SET_ENTRIES}
"""The provider class of each set resource, by the set's class name (at a stable import path: pickles refer to it)."""

SET_RESOURCES: dict[str, type[SetResource]] = {p.set_name(): r for p, r in _SET_ENTRIES}
"""The resource class of each set resource, by its class name."""

SET_SETTINGS_TYPES: dict[str, SettingsType] = {name: p.settings_type for name, p in SET_PROVIDERS.items()}
"""The settings type of each set resource's entries, by the set's class name."""
