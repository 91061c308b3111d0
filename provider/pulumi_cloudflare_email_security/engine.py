"""The generic provider engine: check, diff, create, read, update and delete for any settings type.

Pulumi pickles the provider instance into every resource's state and runs the *installed* code for it
later, so provider classes hold no state at all: a subclass only names its :class:`SettingsType`, the HTTP
client and credentials are looked up at every call, and the classes stay at stable import paths.
"""

from __future__ import annotations

import logging
from datetime import datetime, timezone
from typing import Any

import pulumi
from pulumi.dynamic import (
    CheckFailure,
    CheckResult,
    CreateResult,
    DiffResult,
    ReadResult,
    UpdateResult,
)

from .adoption import (
    fetch_for_adoption,
    find_by_key,
    find_landed,
    refuse_another_identity,
    refuse_existing,
    refuse_unmanageable,
    single_match,
)
from .claims import claimed
from .client import CloudflareClient, settings_path
from .errors import NotFoundError
from .existing import process_existing_keys
from .read_cache import read_entry, writing
from .reporting import reported
from .settings.base import ACCOUNT_ID, ADOPT_EXISTING, ADOPT_ID, ADOPTED
from .settings.checking import check_inputs, split_entry_id
from .stateless import StatelessProvider

logger = logging.getLogger(__name__)


class SettingsProvider(StatelessProvider):
    """A Pulumi dynamic provider for the settings type named by ``settings_type``."""

    @reported
    def check(self, _olds: dict[str, Any], news: dict[str, Any]) -> CheckResult:
        """Validate inputs before any API call; unknown values (in a preview) pass unchecked.

        The configuration is checked first, as create would meet it, without any request either.
        """
        self.check_configuration()
        inputs, failures = check_inputs(self.settings_type, news)
        return CheckResult(inputs, [CheckFailure(f.property, f.reason) for f in failures])

    @reported
    def diff(self, _id: str, olds: dict[str, Any], news: dict[str, Any]) -> DiffResult:
        """Compare declared inputs with the recorded outputs; computed fields and the pickle are ignored."""
        changed = self.settings_type.changed_inputs(olds, news)
        replaces = [name for name in changed if name in self.settings_type.replace_on]
        return DiffResult(changes=bool(changed), replaces=replaces, delete_before_replace=False)

    def _path(self, account_id: str, *rest: str) -> str:
        return settings_path(account_id, self.settings_type.collection, *rest)

    @reported
    def create(self, props: dict[str, Any]) -> CreateResult:
        """POST the entry, or take over an existing one (GET + PATCH, never a POST) when asked to."""
        spec, client = self.settings_type, self.client()
        account_id = str(props[ACCOUNT_ID])
        adopt_id = props.get(ADOPT_ID)
        if adopt_id:
            entry_id = split_entry_id(str(adopt_id))[1]
            existing = fetch_for_adoption(client, spec, account_id, entry_id)
            refuse_another_identity(spec, existing, props)
            return self._adopt(client, existing, props)
        # Claimed first, so that no other write of this process creates the same key meanwhile (see .claims).
        with claimed(client, account_id, spec.collection, [spec.key_of(props)]):
            if props.get(ADOPT_EXISTING) or spec.adopt_by_key_on_create:
                matches = find_by_key(client, spec, account_id, props)
                if matches or props.get(ADOPT_EXISTING):
                    found = single_match(spec, account_id, props, matches)
                    refuse_unmanageable(spec, found, ADOPT_EXISTING)
                    return self._adopt(client, found, props)
            else:
                self._refuse_taken_key(client, account_id, props)
            entry = self._post(client, account_id, props)
        return CreateResult(str(entry["id"]), spec.outputs_after_write(props, entry, adopted=False))

    def _refuse_taken_key(
        self, client: CloudflareClient, account_id: str, props: dict[str, Any], own_id: str | None = None
    ) -> None:
        """Refuse a write that would give the account a second entry of a natural key (see :mod:`.existing`)."""
        spec = self.settings_type
        same_key = process_existing_keys().matches(client, spec, account_id, props)
        refuse_existing(spec, account_id, props, [e for e in same_key if str(e.get("id")) != own_id])

    def _post(self, client: CloudflareClient, account_id: str, props: dict[str, Any]) -> dict[str, Any]:
        """POST the entry, never twice blindly: after a lost answer, look for the entry before trying again."""
        spec, started = self.settings_type, datetime.now(timezone.utc)
        with writing(client, account_id, spec.collection):
            entry = client.create(
                self._path(account_id),
                spec.create_body(props),
                find_landed=lambda: find_landed(client, spec, account_id, props, started),
            )
        process_existing_keys().note_written(client, spec, account_id, entry)
        return entry

    def _adopt(self, client: CloudflareClient, existing: dict[str, Any], props: dict[str, Any]) -> CreateResult:
        """PATCH an existing entry (already checked to be manageable) to the declared values."""
        spec, entry_id, account_id = self.settings_type, str(existing["id"]), str(props[ACCOUNT_ID])
        with writing(client, account_id, spec.collection):
            entry = client.patch(self._path(account_id, entry_id), spec.update_body(props))
        process_existing_keys().note_written(client, spec, account_id, {**props, **entry, "id": entry_id})
        logger.info("%s adopted existing entry %s", spec.resource_name, entry_id)
        return CreateResult(entry_id, spec.outputs_after_write(props, entry, adopted=True))

    @reported
    def read(self, id_: str, props: dict[str, Any]) -> ReadResult:
        """The entry as it is now; a 404 tells the engine it is gone. Accepts ``<account_id>/<id>``.

        The Reads of a refresh share one listing of the collection rather than a GET each (see
        :mod:`.read_cache`); an entry missing from it is only reported gone after a GET's 404.
        """
        named_account, entry_id = split_entry_id(id_)
        account_id = named_account or str(props[ACCOUNT_ID])
        try:
            entry = read_entry(self.client(), account_id, self.settings_type.collection, entry_id)
        except NotFoundError:
            return ReadResult(None, {})
        recorded = {**props, ACCOUNT_ID: account_id}
        return ReadResult(entry_id, self.settings_type.outputs_from_entry(recorded, entry))

    @reported
    def update(self, id_: str, olds: dict[str, Any], news: dict[str, Any]) -> UpdateResult:
        """PATCH every declared value, so drift in fields the program did not touch is repaired too."""
        spec = self.settings_type
        refuse_unmanageable(spec, {**olds, "id": id_})
        client, account_id = self.client(), str(news[ACCOUNT_ID])
        # A new natural key may be another entry's: claimed and looked for first, as a create does.
        new_key = [spec.key_of(news)] if spec.key_of(news) != spec.key_of(olds) else []
        with claimed(client, account_id, spec.collection, new_key):
            if new_key:
                self._refuse_taken_key(client, account_id, news, own_id=id_)
            with writing(client, account_id, spec.collection):
                entry = client.patch(self._path(account_id, id_), spec.update_body(news))
            process_existing_keys().note_written(client, spec, account_id, {**news, **entry, "id": id_})
        return UpdateResult(spec.outputs_after_write(news, entry, adopted=bool(olds.get(ADOPTED))))

    @reported
    def delete(self, id_: str, props: dict[str, Any]) -> None:
        """DELETE the entry; one that is already gone counts as deleted.

        Types that release adopted entries (protected domains) only forget an adopted entry unless the
        program opted in to deleting it.
        """
        spec = self.settings_type
        opt_in = spec.release_adopted_unless
        if opt_in and props.get(ADOPTED) and not props.get(opt_in):
            message = (
                f"{spec.resource_name} {id_} was adopted, not created, by this stack: released from the stack "
                f"and left in place in Cloudflare (set {opt_in}=True to remove it on destroy)"
            )
            pulumi.log.warn(message)
            return
        client, account_id = self.client(), str(props[ACCOUNT_ID])
        try:
            with writing(client, account_id, spec.collection):
                client.delete(self._path(account_id, id_))
        except NotFoundError:
            logger.info("%s %s was already gone", spec.resource_name, id_)
        process_existing_keys().note_deleted(client, spec, account_id, id_)
