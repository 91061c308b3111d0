"""Allow policies: senders, domains or IPs that bypass some or all Email Security detections.

API collection ``allow_policies`` (id ``policy_id``).
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
from .fields import Comments, Pattern, PatternType, StrictModel, pattern_fits_type


class AllowPolicyArgs(StrictModel):
    """The writable fields of an allow policy."""

    pattern: Pattern
    pattern_type: PatternType
    is_trusted_sender: bool
    is_acceptable_sender: bool
    is_exempt_recipient: bool
    is_regex: bool
    verify_sender: bool
    comments: Comments = None


ALLOW_POLICY = SettingsType(
    resource_name="AllowPolicy",
    collection="allow_policies",
    id_param="policy_id",
    args_model=AllowPolicyArgs,
    natural_key=("pattern", "pattern_type", "is_regex"),
    key_filters=("pattern", "pattern_type"),
    batch_parts=("deletes", "patches", "puts", "posts"),
    deprecated_inputs={
        "is_sender": "is_trusted_sender",
        "is_spoof": "is_acceptable_sender",
        "is_recipient": "is_exempt_recipient",
    },
    cross_checks=(pattern_fits_type,),
    case_insensitive=(CaseInsensitive("pattern", unless="is_regex", only_if=("pattern_type", ("EMAIL", "DOMAIN"))),),
)


class AllowPolicyProvider(SettingsProvider):
    """The dynamic provider of :class:`AllowPolicy` (pickled by reference: keep this import path)."""

    settings_type = ALLOW_POLICY


class AllowPolicy(SettingsResource, module=MODULE, name="AllowPolicy"):
    """An Email Security allow policy: mail matching ``pattern`` bypasses the chosen detections.

    Outputs: every input, and ``created_at`` / ``modified_at`` as the API reports them. The resource id
    is the policy's id.
    """

    pattern: pulumi.Output[str]
    """The sender pattern: an email address, a domain, an IPv4 or IPv6 address or CIDR, or a regex (1-1024 chars)."""
    pattern_type: pulumi.Output[str]
    """``EMAIL``, ``DOMAIN`` or ``IP``: what ``pattern`` matches."""
    is_trusted_sender: pulumi.Output[bool]
    """Messages from this sender bypass all detections and link following."""
    is_acceptable_sender: pulumi.Output[bool]
    """Messages from this sender are exempt from Spam, Spoof and Bulk dispositions (not Malicious)."""
    is_exempt_recipient: pulumi.Output[bool]
    """Messages to this recipient bypass all detections."""
    is_regex: pulumi.Output[bool]
    """``pattern`` is a regular expression."""
    verify_sender: pulumi.Output[bool]
    """Enforce DMARC, SPF or DKIM authentication for the trusted sender."""
    comments: pulumi.Output[str | None]
    """Free-form notes (up to 1024 characters)."""

    def __init__(
        self,
        resource_name: str,
        *,
        pattern: pulumi.Input[str],
        pattern_type: pulumi.Input[str],
        is_trusted_sender: pulumi.Input[bool],
        is_acceptable_sender: pulumi.Input[bool],
        is_exempt_recipient: pulumi.Input[bool],
        is_regex: pulumi.Input[bool],
        verify_sender: pulumi.Input[bool],
        comments: pulumi.Input[str] | None = None,
        account_id: pulumi.Input[str] | None = None,
        adopt_id: pulumi.Input[str] | None = None,
        adopt_existing: pulumi.Input[bool] | None = None,
        opts: pulumi.ResourceOptions | None = None,
    ) -> None:
        """Declare an allow policy; the common inputs are described on :class:`SettingsResource`."""
        fields = {
            "pattern": pattern,
            "pattern_type": pattern_type,
            "is_trusted_sender": is_trusted_sender,
            "is_acceptable_sender": is_acceptable_sender,
            "is_exempt_recipient": is_exempt_recipient,
            "is_regex": is_regex,
            "verify_sender": verify_sender,
            "comments": comments,
        }
        super().__init__(
            AllowPolicyProvider(),
            resource_name,
            fields,
            account_id=account_id,
            adopt_id=adopt_id,
            adopt_existing=adopt_existing,
            opts=opts,
        )


class AllowPolicyEntry(TypedDict):
    """One entry of a :class:`AllowPolicySet`: the fields of :class:`AllowPolicy`, with the same rules."""

    pattern: pulumi.Input[str]
    pattern_type: pulumi.Input[str]
    is_trusted_sender: pulumi.Input[bool]
    is_acceptable_sender: pulumi.Input[bool]
    is_exempt_recipient: pulumi.Input[bool]
    is_regex: pulumi.Input[bool]
    verify_sender: pulumi.Input[bool]
    comments: NotRequired[pulumi.Input[str] | None]


class AllowPolicySetProvider(SetProvider):
    """The dynamic provider of :class:`AllowPolicySet` (pickled by reference: keep this import path)."""

    settings_type = ALLOW_POLICY


class AllowPolicySet(SetResource, module=MODULE, name="AllowPolicySet"):
    """Many allow policies as one resource, matched by natural key,
    written through the ``/batch`` endpoint (1,000 operations a call) and read by listing.

    Outputs: ``entries`` (each with its ``id``, ``created_at``, ``modified_at`` and fields) and ``count``; see
    :class:`SetResource` for ``exclusive`` and ``adopt_existing``.
    """

    def __init__(
        self,
        resource_name: str,
        *,
        entries: pulumi.Input[Sequence[pulumi.Input[AllowPolicyEntry]]],
        account_id: pulumi.Input[str] | None = None,
        exclusive: pulumi.Input[bool] = False,
        adopt_existing: pulumi.Input[bool] = False,
        opts: pulumi.ResourceOptions | None = None,
    ) -> None:
        """Declare a set of allow policies; the inputs are described on :class:`SetResource`."""
        super().__init__(
            AllowPolicySetProvider(),
            resource_name,
            entries,
            account_id=account_id,
            exclusive=exclusive,
            adopt_existing=adopt_existing,
            opts=opts,
        )
