"""The common bases of the resource classes, single and set, and the program-side default for ``account_id``."""

from __future__ import annotations

import os
from collections.abc import Mapping, Sequence
from typing import Any

import pulumi
import pulumi.dynamic

from .credentials import CONFIG_NAMESPACE, ENV_ACCOUNT_ID
from .engine import SettingsProvider
from .set_inputs import COUNT, DRIFT_IDS, ENTRIES, EXCLUSIVE
from .sets import SetProvider
from .settings.base import ACCOUNT_ID, ADOPT_EXISTING, ADOPTED

MODULE = "cloudflare-email-security"


def default_account_id() -> str | None:
    """The account id a program uses when a resource names none.

    Stack config ``cloudflare-email-security:accountId``, then ``cloudflare:accountId``, then the
    ``CLOUDFLARE_ACCOUNT_ID`` environment variable. It is recorded as the resource's input, so refresh and
    destroy later act on the same account.
    """
    for namespace in (CONFIG_NAMESPACE, "cloudflare"):
        value = pulumi.Config(namespace).get("accountId")
        if value:
            return value
    return os.environ.get(ENV_ACCOUNT_ID) or None


class SettingsResource(pulumi.dynamic.Resource):
    """Base of the resource classes: the inputs and outputs every settings type has.

    Every resource takes ``account_id`` (default: :func:`default_account_id`), and ``adopt_id`` (an id, or
    ``<account_id>/<id>``) or ``adopt_existing=True`` (match by natural key) to take over an entry that
    already exists instead of creating one.
    """

    account_id: pulumi.Output[str]
    """The Cloudflare account id. Changing it replaces the resource."""
    adopted: pulumi.Output[bool]
    """Whether the entry existed before and was adopted rather than created."""
    created_at: pulumi.Output[str]
    """When the entry was created (API timestamp)."""
    modified_at: pulumi.Output[str]
    """When the entry was last modified (API timestamp)."""

    def __init__(
        self,
        provider: SettingsProvider,
        resource_name: str,
        fields: Mapping[str, Any],
        *,
        account_id: pulumi.Input[str] | None,
        adopt_id: pulumi.Input[str] | None,
        adopt_existing: pulumi.Input[bool] | None,
        opts: pulumi.ResourceOptions | None,
    ) -> None:
        props: dict[str, Any] = {
            "account_id": account_id if account_id is not None else default_account_id(),
            "adopt_id": adopt_id,
            "adopt_existing": adopt_existing,
            **fields,
        }
        props.update({name: None for name in (*provider.settings_type.computed, ADOPTED)})
        super().__init__(provider, resource_name, props, opts)


class SetResource(pulumi.dynamic.Resource):
    """Base of the set resource classes: many entries of one settings type as one resource.

    Every set takes ``entries`` (each a mapping of the single resource's fields), ``account_id`` (default:
    :func:`default_account_id`), ``exclusive`` (the set owns the whole collection: entries it does not
    declare are deleted) and ``adopt_existing`` (take over existing entries with a declared natural key
    rather than fail). See :mod:`.sets` for how entries are matched and written.
    """

    account_id: pulumi.Output[str]
    """The Cloudflare account id. Changing it replaces the set."""
    entries: pulumi.Output[list[dict[str, Any]]]
    """The set's entries as the API has them: each with its ``id``, ``created_at``, ``modified_at`` and the
    declared fields. An exclusive set's refresh also lists the entries it does not declare (drift)."""
    count: pulumi.Output[int]
    """How many entries ``entries`` holds."""
    drift_ids: pulumi.Output[list[str]]
    """The ids among ``entries`` that an exclusive set found at refresh without declaring them: the next
    ``up`` deletes them while the set stays exclusive, and drops them from the set, leaving them in place,
    when ``exclusive`` goes off."""
    exclusive: pulumi.Output[bool]
    """Whether the set owns the whole collection of its account."""
    adopt_existing: pulumi.Output[bool]
    """Whether existing entries with a declared natural key are taken over."""

    def __init__(
        self,
        provider: SetProvider,
        resource_name: str,
        entries: pulumi.Input[Sequence[Any]],
        *,
        account_id: pulumi.Input[str] | None,
        exclusive: pulumi.Input[bool],
        adopt_existing: pulumi.Input[bool],
        opts: pulumi.ResourceOptions | None,
    ) -> None:
        props: dict[str, Any] = {
            ACCOUNT_ID: account_id if account_id is not None else default_account_id(),
            ENTRIES: entries,
            EXCLUSIVE: exclusive,
            ADOPT_EXISTING: adopt_existing,
            COUNT: None,
            DRIFT_IDS: None,
        }
        super().__init__(provider, resource_name, props, opts)
