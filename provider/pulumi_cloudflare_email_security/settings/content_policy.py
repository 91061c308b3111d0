"""Content policies: a regular expression matched against the subject or body of every email.

API collection ``content_policies`` (id ``policy_id``), newer than the published spec: see the overlay
``emulator/overlay/14-content-policies.json`` and Cloudflare's Python SDK 5.9.0.
"""

from __future__ import annotations

from collections.abc import Sequence
from typing import Annotated, Literal, TypedDict

import pulumi
import pydantic
from typing_extensions import NotRequired

from ..engine import SettingsProvider
from ..resource import MODULE, SetResource, SettingsResource
from ..sets import SetProvider
from .base import SettingsType
from .fields import NoRepeats, Regex, StrictModel

Target = Literal["SUBJECT", "BODY"]


class ContentPolicyArgs(StrictModel):
    """The writable fields of a content policy."""

    # Not empty, though the API's schema sets no lower bound: an empty name tells no policy apart for adoption.
    name: Annotated[str, pydantic.StringConstraints(min_length=1)]
    pattern: Regex
    enabled: bool
    targets: Annotated[list[Target], pydantic.Field(min_length=1), NoRepeats]
    notes: str | None = None


CONTENT_POLICY = SettingsType(
    resource_name="ContentPolicy",
    collection="content_policies",
    id_param="policy_id",
    args_model=ContentPolicyArgs,
    natural_key=("name",),
    key_filters=("name",),
    clear_when_omitted=("notes",),
    batch_parts=("deletes", "patches", "puts", "posts"),
    unordered=("targets",),
)


class ContentPolicyProvider(SettingsProvider):
    """The dynamic provider of :class:`ContentPolicy` (pickled by reference: keep this import path)."""

    settings_type = CONTENT_POLICY


class ContentPolicy(SettingsResource, module=MODULE, name="ContentPolicy"):
    """A content policy: mail whose subject or body (``targets``) matches the regular expression ``pattern``.

    Outputs: every input, and those of :class:`SettingsResource`. The resource id is the policy's id.
    """

    name: pulumi.Output[str]
    """The policy's name, which tells it apart in the account (adoption by natural key matches it)."""
    pattern: pulumi.Output[str]
    """The regular expression matched against the targets."""
    enabled: pulumi.Output[bool]
    """Whether the policy is active."""
    targets: pulumi.Output[list[str]]
    """The parts of the email ``pattern`` is matched against: ``SUBJECT``, ``BODY`` or both."""
    notes: pulumi.Output[str | None]
    """Free-form notes on the policy's purpose."""

    def __init__(
        self,
        resource_name: str,
        *,
        name: pulumi.Input[str],
        pattern: pulumi.Input[str],
        enabled: pulumi.Input[bool],
        targets: pulumi.Input[list[pulumi.Input[str]]],
        notes: pulumi.Input[str] | None = None,
        account_id: pulumi.Input[str] | None = None,
        adopt_id: pulumi.Input[str] | None = None,
        adopt_existing: pulumi.Input[bool] | None = None,
        opts: pulumi.ResourceOptions | None = None,
    ) -> None:
        """Declare a content policy; the common inputs are described on :class:`SettingsResource`."""
        fields = {
            "name": name,
            "pattern": pattern,
            "enabled": enabled,
            "targets": targets,
            "notes": notes,
        }
        super().__init__(
            ContentPolicyProvider(),
            resource_name,
            fields,
            account_id=account_id,
            adopt_id=adopt_id,
            adopt_existing=adopt_existing,
            opts=opts,
        )


class ContentPolicyEntry(TypedDict):
    """One entry of a :class:`ContentPolicySet`: the fields of :class:`ContentPolicy`, with the same rules."""

    name: pulumi.Input[str]
    pattern: pulumi.Input[str]
    enabled: pulumi.Input[bool]
    targets: pulumi.Input[list[pulumi.Input[str]]]
    notes: NotRequired[pulumi.Input[str] | None]


class ContentPolicySetProvider(SetProvider):
    """The dynamic provider of :class:`ContentPolicySet` (pickled by reference: keep this import path)."""

    settings_type = CONTENT_POLICY


class ContentPolicySet(SetResource, module=MODULE, name="ContentPolicySet"):
    """Many content policies as one resource, matched by natural key,
    written through the ``/batch`` endpoint (1,000 operations a call) and read by listing.

    Outputs: ``entries`` (each with its ``id``, ``created_at``, ``modified_at`` and fields) and ``count``; see
    :class:`SetResource` for ``exclusive`` and ``adopt_existing``.
    """

    def __init__(
        self,
        resource_name: str,
        *,
        entries: pulumi.Input[Sequence[pulumi.Input[ContentPolicyEntry]]],
        account_id: pulumi.Input[str] | None = None,
        exclusive: pulumi.Input[bool] = False,
        adopt_existing: pulumi.Input[bool] = False,
        opts: pulumi.ResourceOptions | None = None,
    ) -> None:
        """Declare a set of content policies; the inputs are described on :class:`SetResource`."""
        super().__init__(
            ContentPolicySetProvider(),
            resource_name,
            entries,
            account_id=account_id,
            exclusive=exclusive,
            adopt_existing=adopt_existing,
            opts=opts,
        )
