"""Blocked senders: mail from a matching sender is always blocked.

API collection ``block_senders`` (id ``pattern_id``).
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


class BlockedSenderArgs(StrictModel):
    """The writable fields of a blocked sender."""

    pattern: Pattern
    pattern_type: PatternType
    is_regex: bool
    comments: Comments = None


BLOCKED_SENDER = SettingsType(
    resource_name="BlockedSender",
    collection="block_senders",
    id_param="pattern_id",
    args_model=BlockedSenderArgs,
    natural_key=("pattern", "pattern_type", "is_regex"),
    key_filters=("pattern", "pattern_type"),
    batch_parts=("deletes", "patches", "puts", "posts"),
    cross_checks=(pattern_fits_type,),
    case_insensitive=(CaseInsensitive("pattern", unless="is_regex", only_if=("pattern_type", ("EMAIL", "DOMAIN"))),),
)


class BlockedSenderProvider(SettingsProvider):
    """The dynamic provider of :class:`BlockedSender` (pickled by reference: keep this import path)."""

    settings_type = BLOCKED_SENDER


class BlockedSender(SettingsResource, module=MODULE, name="BlockedSender"):
    """A blocked sender: mail from senders matching ``pattern`` is blocked.

    Outputs: every input, and those of :class:`SettingsResource`. The resource id is the entry's id.
    """

    pattern: pulumi.Output[str]
    """An email address, a domain, an IPv4 or IPv6 address or CIDR, or a regex (1-1024 characters)."""
    pattern_type: pulumi.Output[str]
    """``EMAIL``, ``DOMAIN`` or ``IP``: what ``pattern`` matches."""
    is_regex: pulumi.Output[bool]
    """``pattern`` is a regular expression."""
    comments: pulumi.Output[str | None]
    """Free-form notes (up to 1024 characters)."""

    def __init__(
        self,
        resource_name: str,
        *,
        pattern: pulumi.Input[str],
        pattern_type: pulumi.Input[str],
        is_regex: pulumi.Input[bool],
        comments: pulumi.Input[str] | None = None,
        account_id: pulumi.Input[str] | None = None,
        adopt_id: pulumi.Input[str] | None = None,
        adopt_existing: pulumi.Input[bool] | None = None,
        opts: pulumi.ResourceOptions | None = None,
    ) -> None:
        """Declare a blocked sender; the common inputs are described on :class:`SettingsResource`."""
        fields = {
            "pattern": pattern,
            "pattern_type": pattern_type,
            "is_regex": is_regex,
            "comments": comments,
        }
        super().__init__(
            BlockedSenderProvider(),
            resource_name,
            fields,
            account_id=account_id,
            adopt_id=adopt_id,
            adopt_existing=adopt_existing,
            opts=opts,
        )


class BlockedSenderEntry(TypedDict):
    """One entry of a :class:`BlockedSenderSet`: the fields of :class:`BlockedSender`, with the same rules."""

    pattern: pulumi.Input[str]
    pattern_type: pulumi.Input[str]
    is_regex: pulumi.Input[bool]
    comments: NotRequired[pulumi.Input[str] | None]


class BlockedSenderSetProvider(SetProvider):
    """The dynamic provider of :class:`BlockedSenderSet` (pickled by reference: keep this import path)."""

    settings_type = BLOCKED_SENDER


class BlockedSenderSet(SetResource, module=MODULE, name="BlockedSenderSet"):
    """Many blocked senders as one resource, matched by natural key,
    written through the ``/batch`` endpoint (1,000 operations a call) and read by listing.

    Outputs: ``entries`` (each with its ``id``, ``created_at``, ``modified_at`` and fields) and ``count``; see
    :class:`SetResource` for ``exclusive`` and ``adopt_existing``.
    """

    def __init__(
        self,
        resource_name: str,
        *,
        entries: pulumi.Input[Sequence[pulumi.Input[BlockedSenderEntry]]],
        account_id: pulumi.Input[str] | None = None,
        exclusive: pulumi.Input[bool] = False,
        adopt_existing: pulumi.Input[bool] = False,
        opts: pulumi.ResourceOptions | None = None,
    ) -> None:
        """Declare a set of blocked senders; the inputs are described on :class:`SetResource`."""
        super().__init__(
            BlockedSenderSetProvider(),
            resource_name,
            entries,
            account_id=account_id,
            exclusive=exclusive,
            adopt_existing=adopt_existing,
            opts=opts,
        )
