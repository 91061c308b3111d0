"""Impersonation registry: people whose names and addresses impostors are likely to use.

API collection ``impersonation_registry`` (id ``impersonation_registry_id``). Entries synced from a directory
(provenance other than ``A1S_INTERNAL``) are read-only in the API; entries this package creates are internal.
"""

from __future__ import annotations

from collections.abc import Mapping, Sequence
from typing import Annotated, Any, TypedDict

import pulumi
import pydantic
from typing_extensions import NotRequired

from ..engine import SettingsProvider
from ..formats import EMAIL_RE, regex_problem, shown
from ..resource import MODULE, SetResource, SettingsResource
from ..sets import SetProvider
from .base import CaseInsensitive, CrossCheck, SettingsType
from .fields import StrictModel, UnlimitedComments

INTERNAL = "A1S_INTERNAL"


class ImpersonationRegistryArgs(StrictModel):
    """The writable fields of an impersonation registry entry that a program manages."""

    name: Annotated[str, pydantic.StringConstraints(min_length=1, max_length=1024)]
    email: Annotated[str, pydantic.StringConstraints(min_length=1)]
    is_email_regex: bool
    comments: UnlimitedComments = None


def _email_fits(values: Mapping[str, Any]) -> str | None:
    email = values["email"]
    if values["is_email_regex"]:
        return regex_problem(email)
    if not EMAIL_RE.fullmatch(email):
        return f"must be an email address such as ceo@example.com, or a regex with is_email_regex (got {shown(email)})"
    return None


def _synced_from_directory(entry: Mapping[str, Any]) -> str | None:
    provenance = entry.get("provenance")
    if provenance in (None, INTERNAL):
        return None
    return (
        f"it is synced from a directory (provenance {provenance}) and the API refuses to edit such entries; "
        "change it in the directory, or manage a separate A1S_INTERNAL entry"
    )


IMPERSONATION_REGISTRY = SettingsType(
    resource_name="ImpersonationRegistryEntry",
    collection="impersonation_registry",
    id_param="impersonation_registry_id",
    args_model=ImpersonationRegistryArgs,
    computed=("created_at", "modified_at", "provenance", "directory_id", "directory_node_id"),
    api_managed=("provenance", "directory_id", "directory_node_id"),
    natural_key=("email",),
    unmanageable=_synced_from_directory,
    deprecated_inputs={"external_directory_node_id": "directory_node_id (set by directory sync)"},
    cross_checks=(CrossCheck(("email", "is_email_regex"), "email", _email_fits),),
    case_insensitive=(CaseInsensitive("email", unless="is_email_regex"),),
)


class ImpersonationRegistryEntryProvider(SettingsProvider):
    """The dynamic provider of :class:`ImpersonationRegistryEntry` (pickled by reference: keep this path)."""

    settings_type = IMPERSONATION_REGISTRY


class ImpersonationRegistryEntry(SettingsResource, module=MODULE, name="ImpersonationRegistryEntry"):
    """An impersonation registry entry: mail that pretends to come from ``name`` / ``email`` is flagged.

    Outputs: every input, ``created_at`` / ``modified_at``, and the directory-sync fields ``provenance``
    (``A1S_INTERNAL`` for entries created here), ``directory_id`` and ``directory_node_id``.
    """

    name: pulumi.Output[str]
    """The person's display name (1-1024 characters)."""
    email: pulumi.Output[str]
    """The person's address, or a regex when ``is_email_regex``."""
    is_email_regex: pulumi.Output[bool]
    """``email`` is a regular expression."""
    comments: pulumi.Output[str | None]
    """Free-form notes."""
    provenance: pulumi.Output[str]
    """Where the entry comes from: ``A1S_INTERNAL`` or a directory integration."""
    directory_id: pulumi.Output[int | None]
    """The directory the entry is synced from, if any."""
    directory_node_id: pulumi.Output[int | None]
    """The directory node the entry is synced from, if any."""

    def __init__(
        self,
        resource_name: str,
        *,
        name: pulumi.Input[str],
        email: pulumi.Input[str],
        is_email_regex: pulumi.Input[bool],
        comments: pulumi.Input[str] | None = None,
        account_id: pulumi.Input[str] | None = None,
        adopt_id: pulumi.Input[str] | None = None,
        adopt_existing: pulumi.Input[bool] | None = None,
        opts: pulumi.ResourceOptions | None = None,
    ) -> None:
        """Declare an impersonation registry entry; the common inputs are described on :class:`SettingsResource`."""
        fields = {
            "name": name,
            "email": email,
            "is_email_regex": is_email_regex,
            "comments": comments,
        }
        super().__init__(
            ImpersonationRegistryEntryProvider(),
            resource_name,
            fields,
            account_id=account_id,
            adopt_id=adopt_id,
            adopt_existing=adopt_existing,
            opts=opts,
        )


class ImpersonationRegistrySetEntry(TypedDict):
    """One entry of an :class:`ImpersonationRegistrySet`: the fields of :class:`ImpersonationRegistryEntry`."""

    name: pulumi.Input[str]
    email: pulumi.Input[str]
    is_email_regex: pulumi.Input[bool]
    comments: NotRequired[pulumi.Input[str] | None]


class ImpersonationRegistrySetProvider(SetProvider):
    """The dynamic provider of :class:`ImpersonationRegistrySet` (pickled by reference: keep this import path)."""

    settings_type = IMPERSONATION_REGISTRY


class ImpersonationRegistrySet(SetResource, module=MODULE, name="ImpersonationRegistrySet"):
    """Many impersonation registry entries as one resource, matched by natural key,
    written one call per entry, a few at a time (the API has no batch endpoint for them), and read by listing.

    Outputs: ``entries`` (each with its ``id``, ``created_at``, ``modified_at`` and fields) and ``count``; see
    :class:`SetResource` for ``exclusive`` and ``adopt_existing``.

    Directory-synced entries (provenance other than ``A1S_INTERNAL``) are never touched, not even by an
    exclusive set, and may not be declared.
    """

    def __init__(
        self,
        resource_name: str,
        *,
        entries: pulumi.Input[Sequence[pulumi.Input[ImpersonationRegistrySetEntry]]],
        account_id: pulumi.Input[str] | None = None,
        exclusive: pulumi.Input[bool] = False,
        adopt_existing: pulumi.Input[bool] = False,
        opts: pulumi.ResourceOptions | None = None,
    ) -> None:
        """Declare a set of impersonation registry entries; the inputs are described on :class:`SetResource`."""
        super().__init__(
            ImpersonationRegistrySetProvider(),
            resource_name,
            entries,
            account_id=account_id,
            exclusive=exclusive,
            adopt_existing=adopt_existing,
            opts=opts,
        )
