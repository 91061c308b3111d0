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
    try:
        up = stack.up(on_output=print)
        assert up.summary.resource_changes.get("create") == 5  # the stack and four policies
        loaded = StateFile(state)
        loaded.load()
        assert len(loaded.backend.entries(ACCOUNT_ID, "allow_policies")) == 4
        preview = stack.preview(on_output=print)
        assert set(preview.change_summary) == {auto.OpType.SAME}
        stack.refresh(on_output=print)
        stack.destroy(on_output=print)
        loaded.load()
        assert loaded.backend.entries(ACCOUNT_ID, "allow_policies") == []
    finally:
        stack.workspace.remove_stack("e2e", force=True)
