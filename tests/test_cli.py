"""``cfes emulator`` as a user runs it: a real process on a loopback port, stopped at the end."""

from __future__ import annotations

import shutil
import subprocess
import sys
from pathlib import Path

import httpx

from pulumi_cloudflare_email_security.client import CloudflareClient, settings_path

from .conftest import ACCOUNT_ID, CANARY
from .samples import numbered_body


def start_emulator(*args: str) -> tuple[subprocess.Popen[str], str]:
    cfes = shutil.which("cfes", path=str(Path(sys.executable).parent)) or "cfes"
    process = subprocess.Popen(
        [cfes, "emulator", "--host", "127.0.0.1", "--port", "0", *args],
        stdout=subprocess.PIPE,
        stderr=subprocess.DEVNULL,
        text=True,
    )
    assert process.stdout is not None
    line = process.stdout.readline().strip()
    assert line.startswith("export CLOUDFLARE_BASE_URL=http://127.0.0.1:"), line
    return process, line.split("=", 1)[1]


def stop(process: subprocess.Popen[str]) -> None:
    process.terminate()
    assert process.wait(timeout=15) == 0


def test_emulator_command_serves_the_api_and_keeps_state(tmp_path: Path, monkeypatch) -> None:
    state = tmp_path / "state.json"
    process, base_url = start_emulator("--state", str(state), "--token", CANARY)
    try:
        monkeypatch.setenv("CLOUDFLARE_BASE_URL", base_url)
        monkeypatch.setenv("CLOUDFLARE_API_TOKEN", CANARY)
        path = settings_path(ACCOUNT_ID, "trusted_domains")
        created = CloudflareClient().post(path, numbered_body("trusted_domains", 1))
        refused = httpx.get(base_url + path, headers={"Authorization": "Bearer other"})
        assert refused.status_code == 403
    finally:
        stop(process)
    process, base_url = start_emulator("--state", str(state))
    try:
        monkeypatch.setenv("CLOUDFLARE_BASE_URL", base_url)
        assert [e["id"] for e in CloudflareClient().list_all(path)] == [created["id"]]
    finally:
        stop(process)


def test_emulator_command_injects_faults() -> None:
    process, base_url = start_emulator(
        "--fault", "503:method=GET,count=1", "--fault", "429:count=1,retry_after=4", "--fault-seed", "3"
    )
    try:
        path = base_url + settings_path(ACCOUNT_ID, "url_ignore_patterns")
        headers = {"Authorization": "Bearer t"}
        first, second, third = (httpx.get(path, headers=headers) for _ in range(3))
        assert (first.status_code, second.status_code, third.status_code) == (503, 429, 200)
        assert second.headers["retry-after"] == "4"
    finally:
        stop(process)


def test_emulator_command_refuses_a_bad_fault() -> None:
    cfes = shutil.which("cfes", path=str(Path(sys.executable).parent)) or "cfes"
    done = subprocess.run(
        [cfes, "emulator", "--port", "0", "--fault", "teapot"], capture_output=True, text=True, timeout=60
    )
    assert done.returncode != 0 and "fault kind must be one of" in done.stderr
