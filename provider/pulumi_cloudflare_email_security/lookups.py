"""Lookups: read existing entries of each type, with the API's list filters and sorting, all pages.

These are the data-source equivalents. Call them in a Pulumi program (they read credentials from the
environment, then from the stack config, and the account from ``default_account_id``), or anywhere else.
``lookup_output`` runs one with inputs that are Pulumi outputs.
"""

from __future__ import annotations

from collections.abc import Callable, Mapping
from typing import Any, Literal, TypeVar

import pulumi

from .client import CloudflareClient, settings_path
from .credentials import ACCOUNT_ID_SOURCES, load_program_config, no_account_message
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
from .errors import ConfigurationError
from .formats import ACCOUNT_ID_RULE, account_id_problem, shown
from .resource import default_account_id

InfoT = TypeVar("InfoT", bound=EntryInfo)
Direction = Literal["asc", "desc"]
PatternTypeFilter = Literal["EMAIL", "DOMAIN", "IP", "UNKNOWN"]
DeliveryMode = Literal["DIRECT", "BCC", "JOURNAL", "API", "RETRO_SCAN"]
DomainStatus = Literal["PENDING", "ACTIVE", "FAILED", "TIMEOUT"]


def _list(collection: str, model: type[InfoT], account_id: str | None, filters: Mapping[str, Any]) -> list[InfoT]:
    load_program_config()
    account = account_id or default_account_id()
    if not account:
        raise ConfigurationError(no_account_message())
    if account_id_problem(account):
        where = "" if account_id else f", the default from {ACCOUNT_ID_SOURCES}"
        raise ConfigurationError(f"account_id: must be {ACCOUNT_ID_RULE} (got {shown(account)}{where})")
    params = {k: v for k, v in filters.items() if v is not None and k != "account_id"}
    entries = CloudflareClient().iter_list(settings_path(account, collection), params)
    return [model.model_validate(entry) for entry in entries]


def list_allow_policies(
    account_id: str | None = None,
    *,
    pattern: str | None = None,
    pattern_type: PatternTypeFilter | None = None,
    is_trusted_sender: bool | None = None,
    is_acceptable_sender: bool | None = None,
    is_exempt_recipient: bool | None = None,
    verify_sender: bool | None = None,
    search: str | None = None,
    order: Literal["pattern", "created_at"] | None = None,
    direction: Direction | None = None,
) -> list[AllowPolicyInfo]:
    """Every allow policy that matches the filters."""
    return _list("allow_policies", AllowPolicyInfo, account_id, locals())


def list_blocked_senders(
    account_id: str | None = None,
    *,
    pattern: str | None = None,
    pattern_type: PatternTypeFilter | None = None,
    search: str | None = None,
    order: Literal["pattern", "created_at"] | None = None,
    direction: Direction | None = None,
) -> list[BlockedSenderInfo]:
    """Every blocked sender that matches the filters."""
    return _list("block_senders", BlockedSenderInfo, account_id, locals())


def list_trusted_domains(
    account_id: str | None = None,
    *,
    pattern: str | None = None,
    is_recent: bool | None = None,
    is_similarity: bool | None = None,
    search: str | None = None,
    order: Literal["pattern", "created_at"] | None = None,
    direction: Direction | None = None,
) -> list[TrustedDomainInfo]:
    """Every trusted domain that matches the filters."""
    return _list("trusted_domains", TrustedDomainInfo, account_id, locals())


def list_impersonation_registry_entries(
    account_id: str | None = None,
    *,
    provenance: Literal["A1S_INTERNAL", "SNOOPY-CASB_OFFICE_365", "SNOOPY-OFFICE_365", "SNOOPY-GOOGLE_DIRECTORY"]
    | None = None,
    search: str | None = None,
    order: Literal["name", "email", "created_at"] | None = None,
    direction: Direction | None = None,
) -> list[ImpersonationRegistryEntryInfo]:
    """Every impersonation registry entry that matches the filters."""
    return _list("impersonation_registry", ImpersonationRegistryEntryInfo, account_id, locals())


def list_sending_domain_restrictions(
    account_id: str | None = None,
    *,
    search: str | None = None,
    order: Literal["domain", "created_at"] | None = None,
    direction: Direction | None = None,
) -> list[SendingDomainRestrictionInfo]:
    """Every sending-domain restriction that matches the filters."""
    return _list("sending_domain_restrictions", SendingDomainRestrictionInfo, account_id, locals())


def list_protected_domains(
    account_id: str | None = None,
    *,
    domain: list[str] | None = None,
    allowed_delivery_mode: DeliveryMode | None = None,
    active_delivery_mode: DeliveryMode | None = None,
    integration_id: str | None = None,
    status: DomainStatus | None = None,
    search: str | None = None,
    order: Literal["domain", "created_at"] | None = None,
    direction: Direction | None = None,
) -> list[ProtectedDomainInfo]:
    """Every protected domain that matches the filters (``domain`` takes several names).

    ``status`` is upper case, as the API has answered since October 2026; a lower-case one (as the API
    documented it before) is sent upper-cased.
    """
    filters = dict(locals())
    if isinstance(status, str):
        filters["status"] = status.upper()
    return _list("domains", ProtectedDomainInfo, account_id, filters)


def list_url_ignore_patterns(account_id: str | None = None) -> list[UrlIgnorePatternInfo]:
    """Every URL ignore pattern (the API offers no filters for them)."""
    return _list("url_ignore_patterns", UrlIgnorePatternInfo, account_id, {})


def list_content_policies(
    account_id: str | None = None,
    *,
    name: str | None = None,
    enabled: bool | None = None,
    search: str | None = None,
    order: Literal["name", "created_at"] | None = None,
    direction: Direction | None = None,
) -> list[ContentPolicyInfo]:
    """Every content policy that matches the filters (``name`` is matched exactly; ``search`` looks into
    names and patterns)."""
    return _list("content_policies", ContentPolicyInfo, account_id, locals())


R = TypeVar("R")


def lookup_output(lookup: Callable[..., R], **inputs: pulumi.Input[Any]) -> pulumi.Output[R]:
    """Run a lookup once its inputs (which may be outputs of other resources) are known.

    >>> lookup_output(list_allow_policies, account_id=account.id, pattern_type="DOMAIN")  # doctest: +SKIP
    """
    return pulumi.Output.all(**inputs).apply(lambda known: lookup(**known))
