"""The root program and the examples under ``pulumi.runtime.set_mocks``: what they register."""

from __future__ import annotations

import runpy
from collections.abc import Callable
from pathlib import Path

import pytest
import yaml

from pulumi_cloudflare_email_security.emulator import mock_cloudflare
from pulumi_cloudflare_email_security.registry import SETTINGS_TYPES
from pulumi_cloudflare_email_security.settings.checking import check_inputs

from .conftest import ACCOUNT_ID
from .registration import register
from .samples import numbered_body

ROOT = Path(__file__).resolve().parent.parent
TYPE_PREFIX = "pulumi-python:dynamic/cloudflare-email-security:"


def program_at(path: Path) -> Callable[[], list[object]]:
    """A Pulumi program file, as something ``register`` can run."""

    def run() -> list[object]:
        runpy.run_path(str(path), run_name="__main__")
        return []

    return run


run_root_program = program_at(ROOT / "__main__.py")


@pytest.mark.parametrize("project_file", [ROOT / "Pulumi.yaml", *sorted((ROOT / "examples").glob("*/Pulumi.yaml"))])
def test_project_files_are_valid_for_the_cli(project_file: Path) -> None:
    project = yaml.safe_load(project_file.read_text())
    assert project["runtime"]["name"] == "python"
    venv = project_file.parent / project["runtime"]["options"]["virtualenv"]
    assert venv.resolve() == (ROOT / ".venv").resolve(), "the CLI must run the program in the project's venv"
    for key, value in (project.get("config") or {}).items():
        # The CLI refuses a type on a key outside the project's own namespace.
        if ":" in key and not key.startswith(f"{project['name']}:"):
            assert not (isinstance(value, dict) and "type" in value), key


def test_root_program_uses_every_type_with_valid_inputs() -> None:
    mocks = register(run_root_program, config={"cloudflare-email-security:accountId": ACCOUNT_ID})
    used = {typ.rsplit(":", 1)[-1] for typ in mocks.types.values()}
    assert used == set(SETTINGS_TYPES)
    assert all(typ.startswith(TYPE_PREFIX) for typ in mocks.types.values())
    for name, inputs in mocks.resources.items():
        kind = mocks.types[name].rsplit(":", 1)[-1]
        assert inputs["account_id"] == ACCOUNT_ID, name
        failures = check_inputs(SETTINGS_TYPES[kind], inputs)[1]
        assert failures == [], (name, failures)
        assert "apiToken" not in repr(inputs)


@pytest.mark.parametrize("example", sorted(p.parent.name for p in (ROOT / "examples").glob("*/__main__.py")))
def test_examples_register_valid_resources(example: str, cloudflare: mock_cloudflare) -> None:
    # Examples may look up existing entries while they run: give them one to find.
    cloudflare.backend.create(ACCOUNT_ID, "trusted_domains", numbered_body("trusted_domains", 1))
    program = program_at(ROOT / "examples" / example / "__main__.py")
    mocks = register(program, config={"cloudflare-email-security:accountId": ACCOUNT_ID})
    assert mocks.resources, f"{example} registers nothing"
    for name, inputs in mocks.resources.items():
        kind = mocks.types[name].rsplit(":", 1)[-1]
        assert check_inputs(SETTINGS_TYPES[kind], inputs)[1] == [], name


def test_yaml_example_covers_every_type(cloudflare: mock_cloudflare) -> None:
    program = program_at(ROOT / "examples" / "policy-from-yaml" / "__main__.py")
    mocks = register(
        program,
        config={"cloudflare-email-security:accountId": ACCOUNT_ID},
    )
    assert {typ.rsplit(":", 1)[-1] for typ in mocks.types.values()} == set(SETTINGS_TYPES)


def test_adopt_existing_example_adopts_what_the_lookup_finds(cloudflare: mock_cloudflare) -> None:
    existing = cloudflare.backend.create(ACCOUNT_ID, "trusted_domains", numbered_body("trusted_domains", 1))
    program = program_at(ROOT / "examples" / "adopt-existing" / "__main__.py")
    mocks = register(
        program,
        config={"cloudflare-email-security:accountId": ACCOUNT_ID},
    )
    adopted = [inputs for inputs in mocks.resources.values() if inputs.get("adopt_id")]
    assert [inputs["adopt_id"] for inputs in adopted] == [existing["id"]]
    assert adopted[0]["pattern"] == existing["pattern"]
    # What the lookup found predates the stack: destroy must leave it in the account, and only it.
    found = {name for name, inputs in mocks.resources.items() if inputs.get("adopt_id") == existing["id"]}
    assert mocks.retained == found


def test_account_id_falls_back_to_the_environment(monkeypatch: pytest.MonkeyPatch) -> None:
    monkeypatch.setenv("CLOUDFLARE_ACCOUNT_ID", ACCOUNT_ID)
    mocks = register(run_root_program, config={})
    assert {inputs["account_id"] for inputs in mocks.resources.values()} == {ACCOUNT_ID}


def test_stack_config_wins_over_the_environment(monkeypatch: pytest.MonkeyPatch) -> None:
    monkeypatch.setenv("CLOUDFLARE_ACCOUNT_ID", "f" * 32)
    mocks = register(run_root_program, config={"cloudflare-email-security:accountId": ACCOUNT_ID})
    assert {inputs["account_id"] for inputs in mocks.resources.values()} == {ACCOUNT_ID}


def test_without_an_account_the_check_names_the_field() -> None:
    mocks = register(run_root_program, config={})
    for name, inputs in mocks.resources.items():
        spec = SETTINGS_TYPES[mocks.types[name].rsplit(":", 1)[-1]]
        failures = {f.property: f.reason for f in check_inputs(spec, inputs)[1]}
        assert failures["account_id"].startswith("account_id: is required")
