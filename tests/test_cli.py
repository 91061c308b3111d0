"""``cfes emulator`` as a user runs it: a real process on a loopback port, stopped at the end."""

from __future__ import annotations

import json
import shutil
import socket
import subprocess
import sys
from pathlib import Path

import httpx
import pytest

from pulumi_cloudflare_email_security.cli import DEFAULT_PORT, package_version
from pulumi_cloudflare_email_security.client import CloudflareClient, settings_path
from pulumi_cloudflare_email_security.emulator import StateFile

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


def cfes(*args: str | Path, timeout: float = 60) -> subprocess.CompletedProcess[str]:
    command = shutil.which("cfes", path=str(Path(sys.executable).parent)) or "cfes"
    return subprocess.run([command, *map(str, args)], capture_output=True, text=True, timeout=timeout)


def assert_one_line_error(done: subprocess.CompletedProcess[str], *expected: str) -> None:
    assert done.returncode == 2, (done.returncode, done.stderr)
    lines = done.stderr.strip().splitlines()
    assert len(lines) == 1 and lines[0].startswith("cfes: error: "), done.stderr
    assert "Traceback" not in done.stderr + done.stdout
    for text in expected:
        assert text in lines[0], lines[0]


def test_version() -> None:
    done = cfes("--version")
    assert done.returncode == 0
    assert done.stdout.strip() == f"cfes {package_version()}" and package_version() != "unknown"


def test_the_default_port_is_not_wranglers() -> None:
    assert DEFAULT_PORT != 8787
    assert f"default: {DEFAULT_PORT}" in " ".join(cfes("emulator", "--help").stdout.split())


@pytest.mark.parametrize("port", ["-1", "65536", "700000"])
def test_a_port_out_of_range_is_one_line(port: str) -> None:
    assert_one_line_error(cfes("emulator", "--port", port), f"--port {port} is out of range", "--port 0")


def test_a_port_in_use_is_one_line() -> None:
    with socket.socket() as taken:
        taken.bind(("127.0.0.1", 0))
        taken.listen()
        port = taken.getsockname()[1]
        assert_one_line_error(cfes("emulator", "--port", str(port)), f"port {port}", "already in use", "--port 0")


@pytest.mark.parametrize(
    ("args", "expected"),
    [
        (["--fault", "teapot"], "--fault: fault kind must be one of"),
        (["--fault", "reset_after:collection=allow_polices"], "fault collection must be one of allow_policies,"),
        (["--fault", "503:method=FETCH"], "fault method must be one of GET,"),
        (["--fault", "latency:latency=-1"], "fault latency must be 0 seconds or more"),
        (["--fault", "429:rate=abc"], "fault option rate must be a number (got 'abc')"),
        (["--fault", "500:count=0"], "fault count must be 1 or more"),
        (["--token", ""], "--token must not be empty"),
        (["--port", "abc"], "--port 'abc' is not a whole number"),
        (["--fault-seed", "x"], "--fault-seed 'x' is not a whole number"),
    ],
)
def test_a_bad_emulator_option_is_one_line(args: list[str], expected: str) -> None:
    assert_one_line_error(cfes("emulator", "--port", "0", *args), expected)


def test_faults_are_announced_in_the_form_they_are_given() -> None:
    process = subprocess.Popen(
        [
            shutil.which("cfes", path=str(Path(sys.executable).parent)) or "cfes",
            "emulator",
            "--port",
            "0",
            "--fault",
            "429:rate=0.25,retry_after=2",
            "--fault",
            "reset_after:method=post,count=3",
        ],
        stdout=subprocess.PIPE,
        stderr=subprocess.PIPE,
        text=True,
    )
    try:
        assert process.stdout is not None and process.stdout.readline().startswith("export CLOUDFLARE_BASE_URL=")
    finally:
        process.terminate()
        _, errors = process.communicate(timeout=15)
    assert "Injecting fault: 429:rate=0.25,retry_after=2" in errors
    assert "Injecting fault: reset_after:method=POST,count=3" in errors
    assert "lost when the emulator stops" in errors


def test_token_restriction_refuses_email_and_key_too() -> None:
    process, base_url = start_emulator("--token", CANARY)
    try:
        path = base_url + settings_path(ACCOUNT_ID, "url_ignore_patterns")
        by_key = httpx.get(path, headers={"X-Auth-Email": "a@corp.example", "X-Auth-Key": "k" * 37})
        assert by_key.status_code == 403 and "email + API key refused" in by_key.text
        assert httpx.get(path, headers={"Authorization": f"Bearer {CANARY}"}).status_code == 200
    finally:
        stop(process)


def test_a_collection_the_emulator_does_not_know_gets_an_api_answer() -> None:
    process, base_url = start_emulator()
    try:
        answer = httpx.post(
            base_url + settings_path(ACCOUNT_ID, "no_such_things"), json={}, headers={"Authorization": "Bearer t"}
        )
        assert answer.status_code == 404
        assert answer.json()["success"] is False and "no_such_things" in answer.json()["errors"][0]["message"]
    finally:
        stop(process)


def test_seed_adds_entries_that_the_emulator_then_serves(tmp_path: Path, monkeypatch) -> None:
    seed_file, state = tmp_path / "seed.json", tmp_path / "state.json"
    seed_file.write_text(
        json.dumps(
            {
                "trusted_domains": [numbered_body("trusted_domains", 1), numbered_body("trusted_domains", 2)],
                "url_ignore_patterns": [{"pattern": "https://sso.corp.example/*"}],
            }
        )
    )
    done = cfes("seed", seed_file, "--state", state, "--account-id", ACCOUNT_ID)
    assert done.returncode == 0, done.stderr
    rows = [line.split("\t") for line in done.stdout.splitlines()]
    assert [r[0] for r in rows] == ["trusted_domains", "trusted_domains", "url_ignore_patterns"]
    assert rows[2][2] == "https://sso.corp.example/*"
    process, base_url = start_emulator("--state", str(state))
    try:
        monkeypatch.setenv("CLOUDFLARE_BASE_URL", base_url)
        monkeypatch.setenv("CLOUDFLARE_API_TOKEN", CANARY)
        listed = CloudflareClient().list_all(settings_path(ACCOUNT_ID, "url_ignore_patterns"))
        assert [e["id"] for e in listed] == [rows[2][1]]
    finally:
        stop(process)


@pytest.mark.parametrize("account", ["nothex", "", "0" * 31])
def test_seed_refuses_an_account_id_that_is_not_one(tmp_path: Path, account: str) -> None:
    seed_file = tmp_path / "seed.json"
    seed_file.write_text(json.dumps({"url_ignore_patterns": [{"pattern": "x.example/*"}]}))
    done = cfes("seed", seed_file, "--state", tmp_path / "state.json", "--account-id", account)
    assert_one_line_error(done, "--account-id", "32 hexadecimal characters")
    assert not (tmp_path / "state.json").exists()


@pytest.mark.parametrize(
    ("document", "expected"),
    [
        ("{", "is not valid JSON"),
        ("[]", "must hold a JSON object"),
        ('{"content_rules": []}', "unknown collection 'content_rules'"),
        ('{"allow_policies": {}}', "allow_policies must be a list of objects"),
        (
            '{"url_ignore_patterns": [{"pattern": "ok.example/*"}, {"comments": "no pattern"}]}',
            "url_ignore_patterns[1]",
        ),
    ],
)
def test_a_bad_seed_is_one_line_and_adds_nothing(tmp_path: Path, document: str, expected: str) -> None:
    seed_file, state = tmp_path / "seed.json", tmp_path / "state.json"
    seed_file.write_text(document)
    assert_one_line_error(
        cfes("seed", seed_file, "--state", state, "--account-id", ACCOUNT_ID), str(seed_file), expected
    )
    restored = StateFile(state)
    restored.load()
    assert restored.backend.entries(ACCOUNT_ID, "url_ignore_patterns") == []


@pytest.mark.parametrize(
    ("content", "expected"),
    [
        (None, "is a directory"),
        (b"", "is empty"),
        (b'{"accounts": {"a": ', "is not valid JSON"),
        (b"\xff\xfe\x00", "is not UTF-8 text"),
        (b"[]", "holds an array"),
        (b"null", "holds null"),
    ],
)
@pytest.mark.parametrize("command", ["emulator", "seed"])
def test_a_bad_state_file_is_one_line_and_left_as_it_is(
    tmp_path: Path, command: str, content: bytes | None, expected: str
) -> None:
    state = tmp_path / "state.json"
    if content is None:
        state.mkdir()
    else:
        state.write_bytes(content)
    if command == "emulator":
        done = cfes("emulator", "--port", "0", "--state", state)
    else:
        seed_file = tmp_path / "seed.json"
        seed_file.write_text(json.dumps({"url_ignore_patterns": [{"pattern": "x.example/*"}]}))
        done = cfes("seed", seed_file, "--state", state, "--account-id", ACCOUNT_ID)
    assert_one_line_error(done, str(state), expected)
    if content is not None:
        assert state.read_bytes() == content, "the state file was changed"


def test_normalise_answers_like_a_normalising_api() -> None:
    process, base_url = start_emulator("--normalise")
    try:
        created = httpx.post(
            base_url + settings_path(ACCOUNT_ID, "sending_domain_restrictions"),
            json={"domain": "Bank.Example", "exclude": ["Z.Bank.Example", "a.bank.example"]},
            headers={"Authorization": "Bearer t"},
        )
        assert created.status_code == 201, created.text
        assert (created.json()["result"]["domain"], created.json()["result"]["exclude"]) == (
            "bank.example",
            ["a.bank.example", "z.bank.example"],
        )
    finally:
        stop(process)
