"""End to end with the Pulumi CLI through the Automation API: up, preview (no changes), refresh, destroy.

Runs wherever a ``pulumi`` binary is on PATH; elsewhere it is skipped and the reason is printed.
"""

from __future__ import annotations

import shutil
from pathlib import Path

import pytest

from pulumi_cloudflare_email_security.emulator import StateFile

from .conftest import ACCOUNT_ID

ROOT = Path(__file__).resolve().parent.parent
EXPECTED = {
    "allow_policies": 4,
    "block_senders": 2,
    "trusted_domains": 1,
    "impersonation_registry": 2,
    "sending_domain_restrictions": 1,
    "domains": 1,
    "url_ignore_patterns": 1,
    "content_policies": 1,
}
"""What the root program declares, per API collection."""
COLLECTIONS = sorted(EXPECTED)

pytestmark = pytest.mark.e2e


@pytest.fixture
def workspace_env(tmp_path: Path) -> dict[str, str]:
    if shutil.which("pulumi") is None:
        reason = "no `pulumi` binary on PATH: the Automation API end-to-end test needs the Pulumi CLI"
        print(f"SKIPPED: {reason}")
        pytest.skip(reason)
    (tmp_path / "backend").mkdir()
    return {
        "PULUMI_BACKEND_URL": f"file://{tmp_path / 'backend'}",
        "PULUMI_CONFIG_PASSPHRASE": "e2e-test",
        "PULUMI_SKIP_UPDATE_CHECK": "true",
    }


def test_up_preview_refresh_destroy(workspace_env: dict[str, str], tmp_path: Path) -> None:
    from pulumi import automation as auto

    state = tmp_path / "emulator.json"
    project = tmp_path / "project"  # a copy, so the test leaves no stack files in the checkout
    project.mkdir()
    for name in ("Pulumi.yaml", "__main__.py"):
        shutil.copy(ROOT / name, project / name)
    (project / ".venv").symlink_to(ROOT / ".venv")
    stack = auto.create_or_select_stack(
        stack_name="e2e",
        work_dir=str(project),
        opts=auto.LocalWorkspaceOptions(env_vars=workspace_env),
    )
    stack.set_config("cloudflare-email-security:baseUrl", auto.ConfigValue(f"embedded:{state}"))
    stack.set_config("cloudflare-email-security:accountId", auto.ConfigValue(ACCOUNT_ID))
    stack.set_config("cloudflare-email-security:apiToken", auto.ConfigValue("e2e-token", secret=True))

    def entries_by_collection() -> dict[str, int]:
        loaded = StateFile(state)
        loaded.load()
        return {c: len(loaded.backend.entries(ACCOUNT_ID, c)) for c in COLLECTIONS}

    try:
        up = stack.up(on_output=print)
        assert up.summary.resource_changes.get("create") == 1 + sum(EXPECTED.values())  # the stack, and ours
        assert entries_by_collection() == EXPECTED
        preview = stack.preview(on_output=print)
        assert set(preview.change_summary) == {auto.OpType.SAME}
        stack.refresh(on_output=print)
        assert entries_by_collection() == EXPECTED
        stack.destroy(on_output=print)
        assert sum(entries_by_collection().values()) == 0  # the stack onboarded the domain, so it unprotects it
    finally:
        stack.workspace.remove_stack("e2e", force=True)
