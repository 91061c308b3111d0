"""Trusted domains: domains exempt from the "recently registered" and "lookalike" detections.

API collection ``trusted_domains`` (id ``trusted_domain_id``).
"""

from __future__ import annotations

from collections.abc import Sequence
from typing import TypedDict

import pulumi
from typing_extensions import NotRequired

from ..engine import SettingsProvider
from ..resource import MODULE, SetResource, SettingsResource
from ..sets import SetProvider
from .base import CaseInsensitive, SettingsType
from .fields import Comments, Pattern, StrictModel, regex_compiles


class TrustedDomainArgs(StrictModel):
    """The writable fields of a trusted domain."""

    pattern: Pattern
    is_recent: bool
    is_similarity: bool
    is_regex: bool
    comments: Comments = None


TRUSTED_DOMAIN = SettingsType(
    resource_name="TrustedDomain",
    collection="trusted_domains",
    id_param="trusted_domain_id",
    args_model=TrustedDomainArgs,
    natural_key=("pattern",),
    key_filters=("pattern",),
    batch_parts=("deletes", "patches", "puts", "posts"),
    cross_checks=(regex_compiles,),
    case_insensitive=(CaseInsensitive("pattern", unless="is_regex"),),
)


class TrustedDomainProvider(SettingsProvider):
    """The dynamic provider of :class:`TrustedDomain` (pickled by reference: keep this import path)."""

    settings_type = TRUSTED_DOMAIN


class TrustedDomain(SettingsResource, module=MODULE, name="TrustedDomain"):
    """A trusted domain: exempt from the recent-domain and/or lookalike-domain detections.

    Outputs: every input, and those of :class:`SettingsResource`. The resource id is the entry's id.
    """

    pattern: pulumi.Output[str]
    """The domain, or a regex when ``is_regex`` (1-1024 characters)."""
    is_recent: pulumi.Output[bool]
    """Exempt from the "recently registered domain" detection."""
    is_similarity: pulumi.Output[bool]
    """Exempt from the "lookalike (similar) domain" detection."""
    is_regex: pulumi.Output[bool]
    """``pattern`` is a regular expression."""
    comments: pulumi.Output[str | None]
    """Free-form notes (up to 1024 characters)."""

    def __init__(
        self,
        resource_name: str,
        *,
        pattern: pulumi.Input[str],
        is_recent: pulumi.Input[bool],
        is_similarity: pulumi.Input[bool],
        is_regex: pulumi.Input[bool],
        comments: pulumi.Input[str] | None = None,
        account_id: pulumi.Input[str] | None = None,
        adopt_id: pulumi.Input[str] | None = None,
        adopt_existing: pulumi.Input[bool] | None = None,
        opts: pulumi.ResourceOptions | None = None,
    ) -> None:
        """Declare a trusted domain; the common inputs are described on :class:`SettingsResource`."""
        fields = {
            "pattern": pattern,
            "is_recent": is_recent,
            "is_similarity": is_similarity,
            "is_regex": is_regex,
            "comments": comments,
        }
        super().__init__(
            TrustedDomainProvider(),
            resource_name,
            fields,
            account_id=account_id,
            adopt_id=adopt_id,
            adopt_existing=adopt_existing,
            opts=opts,
        )


class TrustedDomainEntry(TypedDict):
    """One entry of a :class:`TrustedDomainSet`: the fields of :class:`TrustedDomain`, with the same rules."""

    pattern: pulumi.Input[str]
    is_recent: pulumi.Input[bool]
    is_similarity: pulumi.Input[bool]
    is_regex: pulumi.Input[bool]
    comments: NotRequired[pulumi.Input[str] | None]


class TrustedDomainSetProvider(SetProvider):
    """The dynamic provider of :class:`TrustedDomainSet` (pickled by reference: keep this import path)."""

    settings_type = TRUSTED_DOMAIN


class TrustedDomainSet(SetResource, module=MODULE, name="TrustedDomainSet"):
    """Many trusted domains as one resource, matched by natural key,
    written through the ``/batch`` endpoint (1,000 operations a call) and read by listing.

    Outputs: ``entries`` (each with its ``id``, ``created_at``, ``modified_at`` and fields) and ``count``; see
    :class:`SetResource` for ``exclusive`` and ``adopt_existing``.
    """

    def __init__(
        self,
        resource_name: str,
        *,
        entries: pulumi.Input[Sequence[pulumi.Input[TrustedDomainEntry]]],
        account_id: pulumi.Input[str] | None = None,
        exclusive: pulumi.Input[bool] = False,
        adopt_existing: pulumi.Input[bool] = False,
        opts: pulumi.ResourceOptions | None = None,
    ) -> None:
        """Declare a set of trusted domains; the inputs are described on :class:`SetResource`."""
        super().__init__(
            TrustedDomainSetProvider(),
            resource_name,
            entries,
            account_id=account_id,
            exclusive=exclusive,
            adopt_existing=adopt_existing,
            opts=opts,
        )
