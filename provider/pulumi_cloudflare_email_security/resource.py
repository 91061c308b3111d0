"""The common base of the resource classes, and the program-side default for ``account_id``."""

from __future__ import annotations

import os
from collections.abc import Mapping
from typing import Any

import pulumi
import pulumi.dynamic

from .credentials import CONFIG_NAMESPACE, ENV_ACCOUNT_ID
from .engine import SettingsProvider
from .settings.base import ADOPTED

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
