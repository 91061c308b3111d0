"""URL ignore patterns: URLs that link scanning leaves alone.

API collection ``url_ignore_patterns`` (id ``pattern_id``).
"""

from __future__ import annotations

from collections.abc import Sequence
from typing import TypedDict

import pulumi
from typing_extensions import NotRequired

from ..engine import SettingsProvider
from ..resource import MODULE, SetResource, SettingsResource
from ..sets import SetProvider
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

    Outputs: every input, and those of :class:`SettingsResource`. The resource id is the entry's id.
    """

    pattern: pulumi.Output[str]
    """The URL pattern (1-1024 characters)."""
    comments: pulumi.Output[str | None]
    """Free-form notes (up to 1024 characters)."""

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
        """Declare a URL ignore pattern; the common inputs are described on :class:`SettingsResource`."""
        fields = {
            "pattern": pattern,
            "comments": comments,
        }
        super().__init__(
            UrlIgnorePatternProvider(),
            resource_name,
            fields,
            account_id=account_id,
            adopt_id=adopt_id,
            adopt_existing=adopt_existing,
            opts=opts,
        )


class UrlIgnorePatternEntry(TypedDict):
    """One entry of a :class:`UrlIgnorePatternSet`: the fields of :class:`UrlIgnorePattern`, with the same rules."""

    pattern: pulumi.Input[str]
    comments: NotRequired[pulumi.Input[str] | None]


class UrlIgnorePatternSetProvider(SetProvider):
    """The dynamic provider of :class:`UrlIgnorePatternSet` (pickled by reference: keep this import path)."""

    settings_type = URL_IGNORE_PATTERN


class UrlIgnorePatternSet(SetResource, module=MODULE, name="UrlIgnorePatternSet"):
    """Many URL ignore patterns as one resource, matched by natural key,
    written through the ``/batch`` endpoint (1,000 operations a call) and read by listing.

    Outputs: ``entries`` (each with its ``id``, ``created_at``, ``modified_at`` and fields) and ``count``; see
    :class:`SetResource` for ``exclusive`` and ``adopt_existing``.
    """

    def __init__(
        self,
        resource_name: str,
        *,
        entries: pulumi.Input[Sequence[pulumi.Input[UrlIgnorePatternEntry]]],
        account_id: pulumi.Input[str] | None = None,
        exclusive: pulumi.Input[bool] = False,
        adopt_existing: pulumi.Input[bool] = False,
        opts: pulumi.ResourceOptions | None = None,
    ) -> None:
        """Declare a set of URL ignore patterns; the inputs are described on :class:`SetResource`."""
        super().__init__(
            UrlIgnorePatternSetProvider(),
            resource_name,
            entries,
            account_id=account_id,
            exclusive=exclusive,
            adopt_existing=adopt_existing,
            opts=opts,
        )
