"""The base of every provider class: stateless, pickled by reference, configured per process.

Pulumi pickles the provider instance into every resource's state and runs the *installed* code for it
later, so a provider holds nothing: a subclass only names its :class:`SettingsType`, and the HTTP client
and credentials are looked up at every call. Subclasses stay at stable import paths.
"""

from __future__ import annotations

from typing import Any, ClassVar

from pulumi.dynamic import ConfigureRequest, ResourceProvider

from .client import CloudflareClient
from .credentials import STACK_CONFIG_KEYS, remember_stack_config
from .settings.base import SettingsType


class StatelessProvider(ResourceProvider):
    """A dynamic provider for the settings type named by ``settings_type``, holding no state of its own."""

    settings_type: ClassVar[SettingsType]

    # Pickle only the class reference: the serialized provider is tiny and never holds a secret.
    serialize_as_secret_always = False

    def __getstate__(self) -> dict[str, Any]:
        return {}

    def __setstate__(self, state: dict[str, Any]) -> None:
        pass

    @staticmethod
    def client() -> CloudflareClient:
        """The API client for this call (pooled connections underneath)."""
        return CloudflareClient()

    def check_configuration(self) -> None:
        """Fail as the first request of a create would on the process's configuration (credentials, base
        URL, reliability settings), with the same error, but sending nothing: so that a preview fails where
        ``up`` would. Check calls it; refresh and destroy, which do not run Check, meet it at their request."""
        self.client().check_settings()

    def configure(self, req: ConfigureRequest) -> None:
        """Keep the stack's credential and base-URL settings for this process (never on the instance)."""
        remember_stack_config({key: req.config.get(key) for key in STACK_CONFIG_KEYS})
