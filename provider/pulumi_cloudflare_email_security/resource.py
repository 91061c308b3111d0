"""The common base of the resource classes, and the program-side default for ``account_id``."""

from __future__ import annotations

import os
from collections.abc import Mapping
from typing import Any

import pulumi
import pulumi.dynamic

from .credentials import CONFIG_NAMESPACE, ENV_ACCOUNT_ID
from .engine import SettingsProvider

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
    """Base of the resource classes: registers declared inputs and placeholders for computed outputs."""

    def __init__(
        self,
        provider: SettingsProvider,
        resource_name: str,
        args: Mapping[str, Any],
        opts: pulumi.ResourceOptions | None = None,
    ) -> None:
        props: dict[str, Any] = dict(args)
        if props.get("account_id") is None:
            props["account_id"] = default_account_id()
        props.update({name: None for name in (*provider.settings_type.computed, "adopted")})
        super().__init__(provider, resource_name, props, opts)
