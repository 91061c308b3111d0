"""``make up`` as a newcomer runs it: fails fast without the Pulumi CLI, and says truly which API it targets.

A stand-in ``pulumi`` on ``PATH`` records its arguments and keeps stack config in a file, so the script's
choices can be checked here, where the real CLI cannot be installed.
"""

from __future__ import annotations

import os
import shutil
import subprocess
from pathlib import Path

import pytest

ROOT = Path(__file__).resolve().parent.parent
FAKE_PULUMI = r"""#!/usr/bin/env bash
echo "$*" >> "$FAKE_PULUMI_LOG"
words=(); while (($#)); do case "$1" in --stack) shift 2 ;; --*) shift ;; *) words+=("$1"); shift ;; esac; done
if [[ "${words[0]} ${words[1]}" == "config set" ]]; then
  echo "${words[2]}=${words[3]}" >> "$FAKE_PULUMI_CONFIG"
elif [[ "${words[0]} ${words[1]}" == "config get" ]]; then
  grep "^${words[2]}=" "$FAKE_PULUMI_CONFIG" 2>/dev/null | tail -1 | cut -d= -f2- | grep . || exit 1
fi
exit 0
"""


def run_stack(tmp_path: Path, env: dict[str, str], *args: str) -> subprocess.CompletedProcess[str]:
    fake_bin = tmp_path / "bin"
    fake_bin.mkdir(exist_ok=True)
    (fake_bin / "pulumi").write_text(FAKE_PULUMI)
    (fake_bin / "pulumi").chmod(0o755)
    environment = {
        "PATH": f"{fake_bin}{os.pathsep}/usr/bin{os.pathsep}/bin",
        "HOME": str(tmp_path),
        "FAKE_PULUMI_LOG": str(tmp_path / "pulumi.log"),
        "FAKE_PULUMI_CONFIG": str(tmp_path / "config"),
        "PULUMI_BACKEND_URL": f"file://{tmp_path}/state",
        **env,
    }
    return subprocess.run(
        [str(ROOT / "scripts" / "stack"), *args], env=environment, capture_output=True, text=True, timeout=60
    )


@pytest.mark.skipif(shutil.which("make") is None, reason="make is not installed")
def test_make_up_without_pulumi_fails_before_installing_anything(tmp_path: Path) -> None:
    venv = tmp_path / "venv"
    done = subprocess.run(
        ["make", "--no-print-directory", "-C", str(ROOT), "up", f"VENV={venv}"],
        env={"PATH": f"/usr/bin{os.pathsep}/bin", "HOME": str(tmp_path)},
        capture_output=True,
        text=True,
        timeout=60,
    )
    assert done.returncode != 0
    assert "no `pulumi` binary is on PATH" in done.stderr
    assert not venv.exists(), "make up installed something before finding out there is no Pulumi CLI"


def test_without_credentials_up_targets_the_embedded_emulator(tmp_path: Path) -> None:
    done = run_stack(tmp_path, {}, "up", "--yes")
    assert done.returncode == 0, done.stderr
    assert "Stack dev" in done.stdout
    assert "the embedded emulator" in done.stdout and "no Cloudflare account is touched" in done.stdout
    assert "from stack config cloudflare-email-security:baseUrl" in done.stdout
    assert (tmp_path / "pulumi.log").read_text().splitlines()[-1] == "up --yes --stack dev"


def test_an_environment_base_url_is_named_as_overriding_the_stack(tmp_path: Path) -> None:
    done = run_stack(tmp_path, {"CLOUDFLARE_BASE_URL": "http://127.0.0.1:9787/client/v4"}, "preview")
    assert done.returncode == 0, done.stderr
    assert "no Cloudflare account is touched" not in done.stdout
    assert "http://127.0.0.1:9787/client/v4" in done.stdout
    assert "CLOUDFLARE_BASE_URL, which overrides the stack's config" in done.stdout


def test_with_credentials_up_says_the_real_account_is_changed(tmp_path: Path) -> None:
    env = {"CLOUDFLARE_API_TOKEN": "not-a-real-token", "CLOUDFLARE_ACCOUNT_ID": "0" * 32}
    done = run_stack(tmp_path, env, "up", "--yes")
    assert done.returncode == 0, done.stderr
    assert "Stack live" in done.stdout and "the real account " + "0" * 32 in done.stdout
    assert "not-a-real-token" not in done.stdout + done.stderr


def test_credentials_without_an_account_are_refused(tmp_path: Path) -> None:
    done = run_stack(tmp_path, {"CLOUDFLARE_API_TOKEN": "t" * 40}, "up")
    assert done.returncode == 2
    assert "CLOUDFLARE_ACCOUNT_ID" in done.stderr
