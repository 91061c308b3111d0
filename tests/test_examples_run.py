"""Every example, and the root program, run end to end through the real provider against a fresh emulator.

The programs run under ``pulumi.runtime.set_mocks``; the mocks play the engine and the dynamic provider
process: each registration is checked and created by the provider class of its type, with the property
bags serialised as they travel between the two, against an embedded emulator that starts empty (or holds
only the example's ``seed.json``).
"""

from __future__ import annotations

import re
from collections import Counter
from collections.abc import Callable, Iterator
from dataclasses import dataclass
from pathlib import Path
from typing import Any

import pulumi
import pytest
import yaml
from pulumi.dynamic import Config, ConfigureRequest
from pulumi.runtime import rpc
from pulumi.runtime.config import get_config

from pulumi_cloudflare_email_security.client import CloudflareClient
from pulumi_cloudflare_email_security.emulator import StateFile
from pulumi_cloudflare_email_security.emulator.seeding import load_seed, seed_state
from pulumi_cloudflare_email_security.registry import PROVIDERS, SETTINGS_TYPES
from pulumi_cloudflare_email_security.settings.base import PROVIDER_KEY
from pulumi_cloudflare_email_security.transport import close_shared_clients

from .conftest import ACCOUNT_ID
from .protocol import to_struct
from .registration import RecordingMocks, register
from .test_program import ROOT, program_at

TOKEN = "examples-run-token"
EXAMPLES_README = (ROOT / "examples" / "README.md").read_text()
PACKAGE_KEYS = {f"cloudflare-email-security:{key}" for key in ("accountId", "apiToken", "baseUrl")}
"""The stack config keys every example needs on the emulator."""
UUID_RE = re.compile(r"^[0-9a-f]{8}-[0-9a-f]{4}-[0-9a-f]{4}-[0-9a-f]{4}-[0-9a-f]{12}$")
PROGRAMS = {
    "root": ROOT,
    **{path.parent.name: path.parent for path in sorted((ROOT / "examples").glob("*/__main__.py"))},
}
"""Each program's folder (``Pulumi.yaml``, ``__main__.py`` and perhaps a ``seed.json``), by test id."""


class ProviderMocks(RecordingMocks):
    """Mocks that answer each registration as ``pulumi up`` would: the provider checks, then creates."""

    def __init__(self, config: dict[str, str], project: str) -> None:
        super().__init__()
        self.config = Config(raw_config=config, project_name=project)
        self.ids: dict[str, str] = {}

    def new_resource(self, args: pulumi.runtime.MockResourceArgs) -> tuple[str, dict[str, Any]]:
        super().new_resource(args)
        provider = PROVIDERS[args.typ.rsplit(":", 1)[-1]]()
        provider.configure(ConfigureRequest(self.config))  # as python -m pulumi.dynamic does first
        news = dict(args.inputs)
        checked = provider.check({}, news)
        failures = [(failure.property, failure.reason) for failure in checked.failures]
        assert not failures, f"check of {args.name} failed: {failures}"
        # The engine hands create the checked inputs, with the pickled provider, through the wire format
        # (nulls dropped, numbers as floats), as the dynamic provider process receives them.
        props = rpc.deserialize_properties(to_struct({**checked.inputs, PROVIDER_KEY: news[PROVIDER_KEY]}))
        created = provider.create(props)
        self.ids[args.name] = created.id
        return created.id, dict(created.outs or {})


@dataclass
class Run:
    """What a program run left behind."""

    mocks: ProviderMocks
    seeded: list[tuple[str, dict[str, Any]]]
    state: StateFile
    requests: list[tuple[str, str]]
    """Every API call the program and the provider made, as ``(method, path)``."""
    config_read: set[str]
    """Every stack config key the program read through ``pulumi.Config``."""

    def entries(self, collection: str) -> list[dict[str, Any]]:
        self.state.load()
        return self.state.backend.entries(ACCOUNT_ID, collection)

    def collection_of(self, name: str) -> str:
        return SETTINGS_TYPES[self.mocks.types[name].rsplit(":", 1)[-1]].collection


def own_config(program: str, seeded: list[tuple[str, dict[str, Any]]]) -> dict[str, str]:
    """Each program's own config keys, set as examples/README.md tells users to after seeding."""
    if program == "adopt-existing":
        (sso,) = [entry for collection, entry in seeded if collection == "url_ignore_patterns"]
        return {"adopt-existing:ssoPatternId": sso["id"]}
    return {}


@pytest.fixture
def run_program(tmp_path: Path, monkeypatch: pytest.MonkeyPatch) -> Iterator[Callable[[str], Run]]:
    """Run a program of ``PROGRAMS`` against a fresh embedded emulator, seeded with its ``seed.json``."""
    path = tmp_path / "emulator.json"
    monkeypatch.setenv("CLOUDFLARE_BASE_URL", f"embedded:{path}")
    monkeypatch.setenv("CLOUDFLARE_API_TOKEN", TOKEN)
    requests: list[tuple[str, str]] = []
    send = CloudflareClient.request

    def recording(client: CloudflareClient, method: str, api_path: str, **kwargs: Any) -> Any:
        requests.append((method, api_path))
        return send(client, method, api_path, **kwargs)

    monkeypatch.setattr(CloudflareClient, "request", recording)
    config_read: set[str] = set()

    def reading(key: str) -> Any:
        config_read.add(key)
        return get_config(key)

    monkeypatch.setattr("pulumi.config.get_config", reading)  # what pulumi.Config reads through

    def run(program: str) -> Run:
        folder = PROGRAMS[program]
        state = StateFile(path)
        seed = folder / "seed.json"
        seeded = seed_state(state, ACCOUNT_ID, load_seed(seed)) if seed.exists() else []
        config = {"cloudflare-email-security:accountId": ACCOUNT_ID, **own_config(program, seeded)}
        project = yaml.safe_load((folder / "Pulumi.yaml").read_text())["name"]
        monkeypatch.chdir(folder)  # the CLI runs a program in its project folder
        mocks = ProviderMocks(config, project)
        register(program_at(folder / "__main__.py"), config=config, project=project, mocks=mocks)
        return Run(mocks, seeded, state, requests, config_read)

    yield run
    pulumi.runtime.set_all_config({})  # the program's stack config must not reach later tests
    close_shared_clients()  # the embedded emulator of this test's state file


def leaves(value: Any) -> Iterator[Any]:
    """The scalar values inside an exported value."""
    if isinstance(value, dict):
        for item in value.values():
            yield from leaves(item)
    elif isinstance(value, list):
        for item in value:
            yield from leaves(item)
    else:
        yield value


@pytest.mark.parametrize("program", sorted(PROGRAMS))
def test_program_runs_end_to_end(program: str, run_program: Callable[[str], Run]) -> None:
    run = run_program(program)
    assert run.mocks.ids, f"{program} created nothing"
    declared = Counter(run.collection_of(name) for name in run.mocks.ids)
    for spec in SETTINGS_TYPES.values():
        entries = run.entries(spec.collection)
        assert len(entries) == declared[spec.collection], spec.collection
        got = {run.mocks.ids[name] for name in run.mocks.ids if run.collection_of(name) == spec.collection}
        assert {entry["id"] for entry in entries} == got, spec.collection
    for name, entry_id in run.mocks.ids.items():
        spec = SETTINGS_TYPES[run.mocks.types[name].rsplit(":", 1)[-1]]
        (entry,) = [entry for entry in run.entries(spec.collection) if entry["id"] == entry_id]
        declared_values = {field: run.mocks.resources[name].get(field) for field in spec.fields}
        assert {field: entry.get(field) for field, value in declared_values.items() if value is not None} == {
            field: value for field, value in declared_values.items() if value is not None
        }, name
    created = set(run.mocks.ids.values()) - {entry["id"] for _, entry in run.seeded}
    assert len([method for method, _ in run.requests if method == "POST"]) == len(created), run.requests
    values = list(leaves(run.mocks.exports))
    assert None not in values, run.mocks.exports
    exported_ids = {value for value in values if isinstance(value, str) and UUID_RE.match(value)}
    assert exported_ids <= set(run.mocks.ids.values()), "an export names an id no resource got"
    if (PROGRAMS[program] / "__main__.py").read_text().count("pulumi.export("):
        assert exported_ids, f"{program} exports no resource id"


def test_adopt_existing_adopts_the_seeded_entries_without_creating_any(run_program: Callable[[str], Run]) -> None:
    run = run_program("adopt-existing")
    seeded = {entry["id"]: collection for collection, entry in run.seeded}
    assert {"allow_policies", "url_ignore_patterns", "trusted_domains", "domains"} <= set(seeded.values())
    assert set(run.mocks.ids.values()) == set(seeded), "every seeded entry is adopted, and nothing else"
    for name, entry_id in run.mocks.ids.items():
        assert run.collection_of(name) == seeded[entry_id], name
    assert [request for request in run.requests if request[0] == "POST"] == []
    for collection in set(seeded.values()):
        assert len(run.entries(collection)) == list(seeded.values()).count(collection), collection
    assert all(run.mocks.exports["adopted"].values()), run.mocks.exports


@pytest.mark.parametrize("example", sorted(set(PROGRAMS) - {"root"}))
def test_examples_readme_documents_every_config_key_the_example_reads(
    example: str, run_program: Callable[[str], Run]
) -> None:
    run = run_program(example)
    section = re.search(rf"^### `{example}`\n(.*?)(?=^##)", EXAMPLES_README, re.S | re.M)
    assert section, f"examples/README.md has no section for {example}"
    for key in sorted(run.config_read | PACKAGE_KEYS):
        assert f"| `{key}` |" in section.group(1), f"{key}, which {example} reads, is not in its config table"
