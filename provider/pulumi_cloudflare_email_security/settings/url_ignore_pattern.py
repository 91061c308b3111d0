"""URL ignore patterns: URLs that link scanning leaves alone.

API collection ``url_ignore_patterns`` (id ``pattern_id``).
"""

from __future__ import annotations

import pulumi

from ..engine import SettingsProvider
from ..resource import MODULE, SettingsResource
from .base import SettingsType
from .fields import Comments, Pattern, StrictModel


class UrlIgnorePatternArgs(StrictModel):
    """The writable fields of a URL ignore pattern."""

    pattern: Pattern
    comments: Comments = None


URL_IGNORE_PATTERN = SettingsType(
    resource_name="UrlIgnorePattern",
    collection="url_ignore_patterns",
    id_param="pattern_id",
    args_model=UrlIgnorePatternArgs,
    natural_key=("pattern",),
    batch_parts=("deletes", "patches", "puts", "posts"),
)


class UrlIgnorePatternProvider(SettingsProvider):
    """The dynamic provider of :class:`UrlIgnorePattern` (pickled by reference: keep this import path)."""

    settings_type = URL_IGNORE_PATTERN


class UrlIgnorePattern(SettingsResource, module=MODULE, name="UrlIgnorePattern"):
    """A URL ignore pattern: links matching ``pattern`` are not scanned.

    Outputs: every input, and ``created_at`` / ``modified_at``. The resource id is the entry's id.
    """

    account_id: pulumi.Output[str]
    """The Cloudflare account id. Changing it replaces the entry."""
    pattern: pulumi.Output[str]
    """The URL pattern (1-1024 characters)."""
    comments: pulumi.Output[str | None]
    """Free-form notes (up to 1024 characters)."""
    created_at: pulumi.Output[str]
    """When the entry was created (API timestamp)."""
    adopted: pulumi.Output[bool]
    """Whether the entry existed before and was adopted (``adopt_id`` / ``adopt_existing``)."""
    modified_at: pulumi.Output[str]
    """When the entry was last modified (API timestamp)."""

    def __init__(
        self,
        resource_name: str,
        *,
        pattern: pulumi.Input[str],
        comments: pulumi.Input[str] | None = None,
        account_id: pulumi.Input[str] | None = None,
        adopt_id: pulumi.Input[str] | None = None,
        adopt_existing: pulumi.Input[bool] | None = None,
        opts: pulumi.ResourceOptions | None = None,
    ) -> None:
        """Declare a URL ignore pattern.

        ``account_id`` defaults as :func:`default_account_id` says. ``adopt_id`` (an id, or
        ``<account_id>/<id>``) or ``adopt_existing=True`` (match by natural key) take over an entry that
        already exists instead of creating one.
        """
        args = {
            "account_id": account_id,
            "adopt_id": adopt_id,
            "adopt_existing": adopt_existing,
            "pattern": pattern,
            "comments": comments,
        }
        super().__init__(UrlIgnorePatternProvider(), resource_name, args, opts)
