"""Sending-domain restrictions: mail from a domain must arrive over TLS, except from excluded subdomains.

API collection ``sending_domain_restrictions`` (id ``sending_domain_restriction_id``).
"""

from __future__ import annotations

from typing import Annotated

import pulumi

from ..engine import SettingsProvider
from ..resource import MODULE, SettingsResource
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
