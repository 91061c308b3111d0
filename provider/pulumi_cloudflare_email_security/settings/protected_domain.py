"""Protected domains: the domains Email Security scans mail for, and how.

API collection ``domains`` (id ``domain_id``). Create onboards the domain (POST) when it is not protected
yet and adopts it (GET + PATCH) when it is. Destroy unprotects only a domain this stack onboarded, or one
whose ``unprotect_on_destroy`` is true; otherwise it releases the domain from the stack, still protected.
"""

from __future__ import annotations

from typing import Annotated, Literal

import pulumi
import pydantic

from ..engine import SettingsProvider
from ..resource import MODULE, SettingsResource
from .base import ACCOUNT_ID, CaseInsensitive, SettingsType
from .fields import DomainName, IpNetwork, NoRepeatedNetworks, NoRepeats, StrictModel, Uuid

DeliveryMode = Literal["DIRECT", "BCC", "JOURNAL", "API", "RETRO_SCAN"]
Disposition = Literal[
    "MALICIOUS", "MALICIOUS-BEC", "SUSPICIOUS", "SPOOF", "SPAM", "BULK", "ENCRYPTED", "EXTERNAL", "UNKNOWN", "NONE"
]
Region = Literal["GLOBAL", "AU", "DE", "IN", "US"]


class ProtectedDomainArgs(StrictModel):
    """The writable fields of a protected domain."""

    domain: DomainName
    allowed_delivery_modes: Annotated[list[DeliveryMode], pydantic.Field(min_length=1, max_length=10), NoRepeats]
    regions: Annotated[list[Region], pydantic.Field(min_length=1, max_length=10), NoRepeats]
    drop_dispositions: Annotated[list[Disposition], pydantic.Field(max_length=10), NoRepeats]
    ip_restrictions: Annotated[list[IpNetwork], pydantic.Field(max_length=100), NoRepeatedNetworks]
    folder: Literal["AllItems", "Inbox"] | None = None
    integration_id: Uuid | None = None
    lookback_hops: Annotated[int, pydantic.Field(ge=1, le=20)] | None = None
    require_tls_inbound: bool | None = None
    require_tls_outbound: bool | None = None
    transport: str | None = None


PROTECTED_DOMAIN = SettingsType(
    resource_name="ProtectedDomain",
    collection="domains",
    id_param="domain_id",
    args_model=ProtectedDomainArgs,
    computed=(
        "created_at",
        "modified_at",
        "status",
        "dmarc_status",
        "spf_status",
        "inbox_provider",
        "o365_tenant_id",
        "authorization",
        "emails_processed",
    ),
    replace_on=(ACCOUNT_ID, "domain"),
    natural_key=("domain",),
    key_filters=("domain",),
    clear_when_omitted=(),
    batch_parts=("deletes", "patches", "puts", "posts"),
    options=("unprotect_on_destroy",),
    adopt_by_key_on_create=True,
    release_adopted_unless="unprotect_on_destroy",
    unordered=("allowed_delivery_modes", "regions", "drop_dispositions", "ip_restrictions"),
    case_insensitive=(CaseInsensitive("domain"),),
)


class ProtectedDomainProvider(SettingsProvider):
    """The dynamic provider of :class:`ProtectedDomain` (pickled by reference: keep this import path)."""

    settings_type = PROTECTED_DOMAIN


class ProtectedDomain(SettingsResource, module=MODULE, name="ProtectedDomain"):
    """A domain protected by Email Security, with its delivery, region and disposition settings.

    Create onboards ``domain``, or adopts it when the account already protects it. Destroy unprotects the
    domain only when this stack onboarded it or ``unprotect_on_destroy`` is true; an adopted domain is
    released from the stack and stays protected. Changing ``domain`` replaces the resource.
    """

    domain: pulumi.Output[str]
    """The protected domain name. Changing it replaces the resource."""
    allowed_delivery_modes: pulumi.Output[list[str]]
    """How mail reaches Email Security: ``DIRECT``, ``BCC``, ``JOURNAL``, ``API``, ``RETRO_SCAN`` (1-10)."""
    regions: pulumi.Output[list[str]]
    """Where mail is processed: ``GLOBAL``, ``AU``, ``DE``, ``IN``, ``US`` (1-10)."""
    drop_dispositions: pulumi.Output[list[str]]
    """Dispositions whose mail is dropped (up to 10)."""
    ip_restrictions: pulumi.Output[list[str]]
    """IP addresses or CIDR blocks mail must come from (up to 100; empty for none)."""
    folder: pulumi.Output[str | None]
    """Folder scanned for API delivery: ``AllItems`` or ``Inbox``."""
    integration_id: pulumi.Output[str | None]
    """The mailbox integration (UUID) for API delivery."""
    lookback_hops: pulumi.Output[int]
    """How many Received hops to look back through (1-20)."""
    require_tls_inbound: pulumi.Output[bool | None]
    """Require TLS for inbound mail."""
    require_tls_outbound: pulumi.Output[bool | None]
    """Require TLS for outbound mail."""
    transport: pulumi.Output[str | None]
    """The next-hop transport for direct delivery."""
    unprotect_on_destroy: pulumi.Output[bool | None]
    """Unprotect the domain on destroy even when this stack adopted it rather than onboarded it."""
    status: pulumi.Output[str | None]
    """Onboarding status: ``PENDING``, ``ACTIVE``, ``FAILED`` or ``TIMEOUT`` (an API older than October 2026
    answered in lower case: compare without regard to case)."""
    dmarc_status: pulumi.Output[str | None]
    """DMARC record status reported by Cloudflare."""
    spf_status: pulumi.Output[str | None]
    """SPF record status reported by Cloudflare."""
    inbox_provider: pulumi.Output[str | None]
    """``Microsoft`` or ``Google`` when known."""
    o365_tenant_id: pulumi.Output[str | None]
    """The Microsoft 365 tenant, when known."""
    authorization: pulumi.Output[dict[str, object] | None]
    """Authorization state: ``authorized``, ``status_message``, ``timestamp``."""
    emails_processed: pulumi.Output[dict[str, object] | None]
    """Processing counters reported by Cloudflare."""

    def __init__(
        self,
        resource_name: str,
        *,
        domain: pulumi.Input[str],
        allowed_delivery_modes: pulumi.Input[list[pulumi.Input[str]]],
        regions: pulumi.Input[list[pulumi.Input[str]]],
        drop_dispositions: pulumi.Input[list[pulumi.Input[str]]],
        ip_restrictions: pulumi.Input[list[pulumi.Input[str]]],
        folder: pulumi.Input[str] | None = None,
        integration_id: pulumi.Input[str] | None = None,
        lookback_hops: pulumi.Input[int] | None = None,
        require_tls_inbound: pulumi.Input[bool] | None = None,
        require_tls_outbound: pulumi.Input[bool] | None = None,
        transport: pulumi.Input[str] | None = None,
        unprotect_on_destroy: pulumi.Input[bool] | None = None,
        account_id: pulumi.Input[str] | None = None,
        adopt_id: pulumi.Input[str] | None = None,
        adopt_existing: pulumi.Input[bool] | None = None,
        opts: pulumi.ResourceOptions | None = None,
    ) -> None:
        """Declare a protected domain.

        ``account_id`` defaults as :func:`default_account_id` says. A domain the account already protects is
        adopted automatically; ``adopt_id`` names one by id instead. Optional fields left out keep the
        values Cloudflare has.
        """
        fields = {
            "domain": domain,
            "allowed_delivery_modes": allowed_delivery_modes,
            "regions": regions,
            "drop_dispositions": drop_dispositions,
            "ip_restrictions": ip_restrictions,
            "folder": folder,
            "integration_id": integration_id,
            "lookback_hops": lookback_hops,
            "require_tls_inbound": require_tls_inbound,
            "require_tls_outbound": require_tls_outbound,
            "transport": transport,
            "unprotect_on_destroy": unprotect_on_destroy,
        }
        super().__init__(
            ProtectedDomainProvider(),
            resource_name,
            fields,
            account_id=account_id,
            adopt_id=adopt_id,
            adopt_existing=adopt_existing,
            opts=opts,
        )
