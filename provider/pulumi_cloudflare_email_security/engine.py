"""The generic provider engine: check, diff, create, read, update and delete for any settings type.

Pulumi pickles the provider instance into every resource's state and runs the *installed* code for it
later, so provider classes hold no state at all: a subclass only names its :class:`SettingsType`, the HTTP
client and credentials are looked up at every call, and the classes stay at stable import paths.
"""

from __future__ import annotations

import logging
from typing import Any, ClassVar

from pulumi.dynamic import (
    CheckFailure,
    CheckResult,
    ConfigureRequest,
    CreateResult,
    DiffResult,
    ReadResult,
    ResourceProvider,
    UpdateResult,
)

from .client import CloudflareClient, settings_path
from .credentials import CONFIG_NAMESPACE, remember_stack_config
from .errors import NotFoundError
from .settings.base import ACCOUNT_ID, SettingsType

logger = logging.getLogger(__name__)

_STACK_CONFIG_KEYS = tuple(
    f"{namespace}:{key}"
    for namespace in (CONFIG_NAMESPACE, "cloudflare")
    for key in ("apiToken", "email", "apiKey", "baseUrl")
)


class SettingsProvider(ResourceProvider):
    """A Pulumi dynamic provider for the settings type named by ``settings_type``."""

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

    def configure(self, req: ConfigureRequest) -> None:
        """Keep the stack's credential and base-URL settings for this process (never on the instance)."""
        remember_stack_config({key: req.config.get(key) for key in _STACK_CONFIG_KEYS})

    def check(self, _olds: dict[str, Any], news: dict[str, Any]) -> CheckResult:
        """Validate inputs before any API call; unknown values (in a preview) pass unchecked."""
        inputs, failures = self.settings_type.check(news)
        return CheckResult(inputs, [CheckFailure(f.property, f.reason) for f in failures])

    def diff(self, _id: str, olds: dict[str, Any], news: dict[str, Any]) -> DiffResult:
        """Compare declared inputs with the recorded outputs; computed fields and the pickle are ignored."""
        changed = self.settings_type.changed_inputs(olds, news)
        replaces = [name for name in changed if name in self.settings_type.replace_on]
        return DiffResult(changes=bool(changed), replaces=replaces, delete_before_replace=False)

    def _path(self, account_id: str, *rest: str) -> str:
        return settings_path(account_id, self.settings_type.collection, *rest)

    def create(self, props: dict[str, Any]) -> CreateResult:
        """POST the entry; outputs are the inputs plus what the API computed."""
        spec = self.settings_type
        entry = self.client().post(self._path(props[ACCOUNT_ID]), spec.create_body(props))
        return CreateResult(str(entry["id"]), spec.outputs_after_write(props, entry))

    def read(self, id_: str, props: dict[str, Any]) -> ReadResult:
        """GET the entry as it is now; a 404 tells the engine it is gone."""
        account_id = str(props[ACCOUNT_ID])
        try:
            entry = self.client().get(self._path(account_id, id_))
        except NotFoundError:
            return ReadResult(None, {})
        return ReadResult(id_, self.settings_type.outputs_from_entry(account_id, entry))

    def update(self, id_: str, _olds: dict[str, Any], news: dict[str, Any]) -> UpdateResult:
        """PATCH every declared value, so drift in fields the program did not touch is repaired too."""
        spec = self.settings_type
        entry = self.client().patch(self._path(news[ACCOUNT_ID], id_), spec.update_body(news))
        return UpdateResult(spec.outputs_after_write(news, entry))

    def delete(self, id_: str, props: dict[str, Any]) -> None:
        """DELETE the entry; one that is already gone counts as deleted."""
        try:
            self.client().delete(self._path(str(props[ACCOUNT_ID]), id_))
        except NotFoundError:
            logger.info("%s %s was already gone", self.settings_type.resource_name, id_)
