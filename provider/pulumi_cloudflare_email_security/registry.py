"""Every settings type this package manages, by resource class name."""

from __future__ import annotations

from .engine import SettingsProvider
from .resource import SettingsResource
from .settings.allow_policy import ALLOW_POLICY, AllowPolicy, AllowPolicyProvider
from .settings.base import SettingsType

SETTINGS_TYPES: dict[str, SettingsType] = {spec.resource_name: spec for spec in (ALLOW_POLICY,)}
"""The declaration of each settings type."""

PROVIDERS: dict[str, type[SettingsProvider]] = {"AllowPolicy": AllowPolicyProvider}
"""The provider class of each settings type (at a stable import path: pickles refer to it)."""

RESOURCES: dict[str, type[SettingsResource]] = {"AllowPolicy": AllowPolicy}
"""The resource class of each settings type."""
