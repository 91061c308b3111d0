"""Sending-domain restrictions: mail from a domain must arrive over TLS, except from excluded subdomains.

API collection ``sending_domain_restrictions`` (id ``sending_domain_restriction_id``).
"""

from __future__ import annotations

from collections.abc import Sequence
from typing import Annotated, TypedDict

import pulumi
from typing_extensions import NotRequired

from ..engine import SettingsProvider
from ..resource import MODULE, SetResource, SettingsResource
from ..sets import SetProvider
from .base import CaseInsensitive, SettingsType
from .fields import Comments, DomainName, NoRepeatedDomains, StrictModel, subdomains_of


class SendingDomainRestrictionArgs(StrictModel):
    """The writable fields of a sending-domain restriction."""

    domain: DomainName
    exclude: Annotated[list[DomainName], NoRepeatedDomains]
    comments: Comments = None


SENDING_DOMAIN_RESTRICTION = SettingsType(
    resource_name="SendingDomainRestriction",
    collection="sending_domain_restrictions",
    id_param="sending_domain_restriction_id",
    args_model=SendingDomainRestrictionArgs,
    natural_key=("domain",),
    batch_parts=("deletes",),
    cross_checks=(subdomains_of("domain", "exclude"),),
    unordered=("exclude",),
    case_insensitive=(CaseInsensitive("domain"), CaseInsensitive("exclude")),
)


class SendingDomainRestrictionProvider(SettingsProvider):
    """The dynamic provider of :class:`SendingDomainRestriction` (pickled by reference: keep this path)."""

    settings_type = SENDING_DOMAIN_RESTRICTION


class SendingDomainRestriction(SettingsResource, module=MODULE, name="SendingDomainRestriction"):
    """A sending-domain restriction: mail from ``domain`` without TLS is dropped, except ``exclude``.

    Outputs: every input, and those of :class:`SettingsResource`. The resource id is the entry's id.
    """

    domain: pulumi.Output[str]
    """The domain whose mail must arrive over TLS."""
    exclude: pulumi.Output[list[str]]
    """Subdomains exempt from the TLS requirement (may be empty)."""
    comments: pulumi.Output[str | None]
    """Free-form notes (up to 1024 characters)."""

    def __init__(
        self,
        resource_name: str,
        *,
        domain: pulumi.Input[str],
        exclude: pulumi.Input[list[pulumi.Input[str]]],
        comments: pulumi.Input[str] | None = None,
        account_id: pulumi.Input[str] | None = None,
        adopt_id: pulumi.Input[str] | None = None,
        adopt_existing: pulumi.Input[bool] | None = None,
        opts: pulumi.ResourceOptions | None = None,
    ) -> None:
        """Declare a sending-domain restriction; the common inputs are described on :class:`SettingsResource`."""
        fields = {
            "domain": domain,
            "exclude": exclude,
            "comments": comments,
        }
        super().__init__(
            SendingDomainRestrictionProvider(),
            resource_name,
            fields,
            account_id=account_id,
            adopt_id=adopt_id,
            adopt_existing=adopt_existing,
            opts=opts,
        )


class SendingDomainRestrictionEntry(TypedDict):
    """One entry of a :class:`SendingDomainRestrictionSet`: the fields of :class:`SendingDomainRestriction`."""

    domain: pulumi.Input[str]
    exclude: pulumi.Input[list[pulumi.Input[str]]]
    comments: NotRequired[pulumi.Input[str] | None]


class SendingDomainRestrictionSetProvider(SetProvider):
    """The dynamic provider of :class:`SendingDomainRestrictionSet` (pickled by reference: keep this import path)."""

    settings_type = SENDING_DOMAIN_RESTRICTION


class SendingDomainRestrictionSet(SetResource, module=MODULE, name="SendingDomainRestrictionSet"):
    """Many sending-domain restrictions as one resource, matched by natural key,
    created and updated one call per entry (its ``/batch`` endpoint only deletes), deleted in batches, read
    by listing.

    Outputs: ``entries`` (each with its ``id``, ``created_at``, ``modified_at`` and fields) and ``count``; see
    :class:`SetResource` for ``exclusive`` and ``adopt_existing``.
    """

    def __init__(
        self,
        resource_name: str,
        *,
        entries: pulumi.Input[Sequence[pulumi.Input[SendingDomainRestrictionEntry]]],
        account_id: pulumi.Input[str] | None = None,
        exclusive: pulumi.Input[bool] = False,
        adopt_existing: pulumi.Input[bool] = False,
        opts: pulumi.ResourceOptions | None = None,
    ) -> None:
        """Declare a set of sending-domain restrictions; the inputs are described on :class:`SetResource`."""
        super().__init__(
            SendingDomainRestrictionSetProvider(),
            resource_name,
            entries,
            account_id=account_id,
            exclusive=exclusive,
            adopt_existing=adopt_existing,
            opts=opts,
        )
