"""Typed views of existing entries, as the API returns them (what the lookups give back).

Deprecated response fields (``is_sender``, ``is_spoof``, ``is_recipient``, ``last_modified``,
``external_directory_node_id``) are left out; values the API adds later are kept as extra attributes.
"""

from __future__ import annotations

from typing import Any

import pydantic

DEPRECATED_FIELDS = frozenset({"is_sender", "is_spoof", "is_recipient", "last_modified", "external_directory_node_id"})
"""Response fields past (or near) their end of life: never part of an entry's typed view."""


class EntryInfo(pydantic.BaseModel):
    """Fields every settings entry has."""

    model_config = pydantic.ConfigDict(extra="allow", frozen=True)

    id: str
    created_at: str | None = None
    modified_at: str | None = None

    @pydantic.model_validator(mode="before")
    @classmethod
    def _drop_deprecated(cls, data: Any) -> Any:
        if isinstance(data, dict):
            return {k: v for k, v in data.items() if k not in DEPRECATED_FIELDS}
        return data


class AllowPolicyInfo(EntryInfo):
    """An existing allow policy."""

    pattern: str | None = None
    pattern_type: str | None = None
    """``EMAIL``, ``DOMAIN``, ``IP``, or ``UNKNOWN`` for old entries."""
    is_trusted_sender: bool | None = None
    is_acceptable_sender: bool | None = None
    is_exempt_recipient: bool | None = None
    is_regex: bool | None = None
    verify_sender: bool | None = None
    comments: str | None = None


class BlockedSenderInfo(EntryInfo):
    """An existing blocked sender."""

    pattern: str | None = None
    pattern_type: str | None = None
    is_regex: bool | None = None
    comments: str | None = None


class TrustedDomainInfo(EntryInfo):
    """An existing trusted domain."""

    pattern: str | None = None
    is_recent: bool | None = None
    is_similarity: bool | None = None
    is_regex: bool | None = None
    comments: str | None = None


class ImpersonationRegistryEntryInfo(EntryInfo):
    """An existing impersonation registry entry (``provenance`` tells whether a directory syncs it)."""

    name: str | None = None
    email: str | None = None
    is_email_regex: bool | None = None
    comments: str | None = None
    provenance: str | None = None
    directory_id: int | None = None
    directory_node_id: int | None = None


class SendingDomainRestrictionInfo(EntryInfo):
    """An existing sending-domain restriction."""

    domain: str | None = None
    exclude: list[str] | None = None
    comments: str | None = None


class ProtectedDomainInfo(EntryInfo):
    """An existing protected domain."""

    domain: str | None = None
    allowed_delivery_modes: list[str] | None = None
    regions: list[str] | None = None
    drop_dispositions: list[str] | None = None
    ip_restrictions: list[str] | None = None
    folder: str | None = None
    integration_id: str | None = None
    lookback_hops: int | None = None
    require_tls_inbound: bool | None = None
    require_tls_outbound: bool | None = None
    transport: str | None = None
    status: str | None = None
    """``PENDING``, ``ACTIVE``, ``FAILED`` or ``TIMEOUT``; an API older than October 2026 answered in lower case,
    so compare without regard to case (``status.upper() == "ACTIVE"``)."""
    dmarc_status: str | None = None
    spf_status: str | None = None
    inbox_provider: str | None = None
    o365_tenant_id: str | None = None
    authorization: dict[str, Any] | None = None
    emails_processed: dict[str, Any] | None = None


class UrlIgnorePatternInfo(EntryInfo):
    """An existing URL ignore pattern."""

    pattern: str | None = None
    comments: str | None = None


class ContentPolicyInfo(EntryInfo):
    """An existing content policy."""

    name: str | None = None
    pattern: str | None = None
    enabled: bool | None = None
    targets: list[str] | None = None
    """``SUBJECT`` and/or ``BODY``."""
    notes: str | None = None


ENTRY_MODELS: dict[str, type[EntryInfo]] = {
    "allow_policies": AllowPolicyInfo,
    "block_senders": BlockedSenderInfo,
    "trusted_domains": TrustedDomainInfo,
    "impersonation_registry": ImpersonationRegistryEntryInfo,
    "sending_domain_restrictions": SendingDomainRestrictionInfo,
    "domains": ProtectedDomainInfo,
    "url_ignore_patterns": UrlIgnorePatternInfo,
    "content_policies": ContentPolicyInfo,
}
"""The entry model of each API collection."""
