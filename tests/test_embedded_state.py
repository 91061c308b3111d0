"""The emulator's state file: bad locations and contents fail at once and clearly, writes are durable, and
a change made by another process is never missed."""

from __future__ import annotations

import json
import os
import stat
import threading
from collections.abc import Callable, Iterator
from pathlib import Path
from typing import Any, TypeVar

import httpx
import pytest

from pulumi_cloudflare_email_security import credentials, transport
from pulumi_cloudflare_email_security.client import CloudflareClient, settings_path
from pulumi_cloudflare_email_security.emulator import EmulatorServer, Router, StateFile, StateFileError
from pulumi_cloudflare_email_security.errors import ConfigurationError

from .conftest import ACCOUNT_ID, CANARY
from .samples import numbered_body

POLICIES = settings_path(ACCOUNT_ID, "allow_policies")
PATTERNS = "url_ignore_patterns"
T = TypeVar("T")


@pytest.fixture(autouse=True)
def _fresh_pool() -> Iterator[None]:
    """Each test makes its own embedded clients, as a new process would."""
    transport.close_shared_clients()
    yield
    transport.close_shared_clients()


def promptly(call: Callable[[], T], seconds: float = 10.0) -> T:
    """Run ``call`` and return its result or raise its error, failing the test if it takes too long."""
    outcome: list[Any] = []

    def run() -> None:
        try:
            outcome.append(("ok", call()))
        except BaseException as exc:
            outcome.append(("error", exc))

    worker = threading.Thread(target=run, daemon=True)
    worker.start()
    worker.join(seconds)
    assert outcome, f"still running after {seconds:g}s"
    kind, value = outcome[0]
    if kind == "error":
        raise value
    return value  # type: ignore[no-any-return]


def use_base_url(monkeypatch: pytest.MonkeyPatch, where: str, base_url: str) -> str:
    """Set the base URL in the environment or the stack config; the source an error should name."""
    monkeypatch.setenv("CLOUDFLARE_API_TOKEN", CANARY)
    if where == "env":
        monkeypatch.setenv("CLOUDFLARE_BASE_URL", base_url)
        return "CLOUDFLARE_BASE_URL"
    credentials.remember_stack_config({"cloudflare-email-security:baseUrl": base_url})
    return "stack config cloudflare-email-security:baseUrl"


def no_sleep() -> tuple[CloudflareClient, list[float]]:
    """A client that records, instead of taking, the pauses between retries."""
    pauses: list[float] = []
    return CloudflareClient(sleep=pauses.append), pauses


def scratch_files(directory: Path) -> list[str]:
    return sorted(p.name for p in directory.iterdir() if p.name.endswith((".tmp", ".probe")))


# --- where the state file is -------------------------------------------------------------------------


def _fifo(tmp_path: Path) -> str:
    os.mkfifo(tmp_path / "pipe")
    return str(tmp_path / "pipe")


def _file_as_parent(tmp_path: Path) -> str:
    (tmp_path / "plain").write_text("x")
    return str(tmp_path / "plain" / "state.json")


def _read_only_directory(tmp_path: Path) -> str:
    if os.geteuid() == 0:
        pytest.skip("root writes to read-only directories; /proc covers an unwritable location")
    (tmp_path / "ro").mkdir(mode=0o500)
    return str(tmp_path / "ro" / "state.json")


BAD_LOCATIONS: dict[str, tuple[Callable[[Path], str], str]] = {
    "empty path": (lambda tmp: "", "names no emulator state file"),
    "directory": (lambda tmp: str(tmp), "is a directory"),
    "missing parent": (lambda tmp: str(tmp / "missing" / "state.json"), "does not exist"),
    "file as parent": (_file_as_parent, "is not a directory"),
    "read-only directory": (_read_only_directory, "cannot be written"),
    "proc directory": (lambda tmp: "/proc/cfes-state.json", "cannot be written"),
    "proc file": (lambda tmp: "/proc/self/status", "cannot be written"),
    "fifo": (_fifo, "is a named pipe"),
    "device": (lambda tmp: os.devnull, "is a character device"),
}


@pytest.mark.parametrize("where", ["env", "stack"])
@pytest.mark.parametrize("case", sorted(BAD_LOCATIONS))
def test_a_bad_location_fails_at_first_use_in_one_line(
    monkeypatch: pytest.MonkeyPatch, tmp_path: Path, case: str, where: str
) -> None:
    make_path, problem = BAD_LOCATIONS[case]
    path = make_path(tmp_path)
    source = use_base_url(monkeypatch, where, f"embedded:{path}")
    client, pauses = no_sleep()
    with pytest.raises(ConfigurationError) as caught:
        promptly(lambda: client.get(f"{POLICIES}/x"))
    message = str(caught.value)
    assert problem in message and source in message and f"embedded:{path}" in message
    assert "\n" not in message and pauses == []
    assert scratch_files(tmp_path) == []


def test_a_relative_path_names_the_file_it_resolves_to(monkeypatch: pytest.MonkeyPatch, tmp_path: Path) -> None:
    monkeypatch.chdir(tmp_path)
    use_base_url(monkeypatch, "env", "embedded:missing/state.json")
    with pytest.raises(ConfigurationError, match=f"its directory {tmp_path / 'missing'} does not exist"):
        promptly(lambda: CloudflareClient().list_all(POLICIES))


# --- what the state file holds -----------------------------------------------------------------------

BAD_CONTENTS = {
    "empty": (b"", "is empty"),
    "blank": (b" \n", "is empty"),
    "garbage": (b"not json at all", "is not valid JSON"),
    "truncated": (b'{"accounts": {"a": {', "is not valid JSON"),
    "not utf-8": (b'{"accounts": {"\xff": {}}}', "is not UTF-8 text"),
    "array": (b"[]", "holds an array, not an object"),
    "null": (b"null", "holds null, not an object"),
    "string": (b'"accounts"', "holds a string, not an object"),
    "no accounts": (b"{}", 'has no "accounts" object'),
    "accounts array": (b'{"accounts": []}', 'has no "accounts" object'),
    "account array": (b'{"accounts": {"a": []}}', 'account "a" is not an object'),
    "entries array": (b'{"accounts": {"a": {"allow_policies": []}}}', "is not an object of entry objects"),
    "entry string": (b'{"accounts": {"a": {"allow_policies": {"x": "y"}}}}', "is not an object of entry objects"),
}


@pytest.mark.parametrize("case", sorted(BAD_CONTENTS))
def test_open_refuses_a_bad_file_and_leaves_it_alone(tmp_path: Path, case: str) -> None:
    content, problem = BAD_CONTENTS[case]
    path = tmp_path / "state.json"
    path.write_bytes(content)
    with pytest.raises(StateFileError) as caught:
        promptly(StateFile(path, origin="--state").open)
    message = str(caught.value)
    assert problem in message and str(path) in message and "(from --state)" in message
    assert "move it aside or delete it" in message and "\n" not in message
    assert path.read_bytes() == content


@pytest.mark.parametrize("case", sorted(BAD_CONTENTS))
def test_embedded_mode_raises_a_bad_file_once_without_retrying(
    monkeypatch: pytest.MonkeyPatch, tmp_path: Path, case: str
) -> None:
    content, problem = BAD_CONTENTS[case]
    path = tmp_path / "state.json"
    use_base_url(monkeypatch, "env", f"embedded:{path}")
    client, pauses = no_sleep()
    created = client.post(POLICIES, numbered_body("allow_policies", 1))
    path.write_bytes(content)  # another process breaks the file while this one runs
    with pytest.raises(StateFileError, match=problem):
        promptly(lambda: client.post(POLICIES, numbered_body("allow_policies", 2)))
    assert pauses == [] and path.read_bytes() == content
    transport.close_shared_clients()  # a new process meets the problem when it makes its client
    with pytest.raises(StateFileError, match="CLOUDFLARE_BASE_URL=embedded:"):
        promptly(lambda: client.get(f"{POLICIES}/{created['id']}"))
    assert path.read_bytes() == content and scratch_files(tmp_path) == []


def test_the_http_server_answers_a_bad_file_in_the_api_shape(tmp_path: Path) -> None:
    path = tmp_path / "state.json"
    state = StateFile(path, origin="--state").open()
    path.write_bytes(b"[]")
    with EmulatorServer(Router(state.backend, around=state.transaction), host="127.0.0.1", port=0) as server:
        reply = httpx.get(server.base_url + POLICIES, headers={"Authorization": "Bearer t"}, timeout=10)
    assert reply.status_code == 500
    body = reply.json()
    assert body["success"] is False and str(path) in body["errors"][0]["message"]
    assert path.read_bytes() == b"[]"


def test_a_file_deleted_by_another_process_means_an_empty_emulator(tmp_path: Path) -> None:
    path = tmp_path / "state.json"
    state = StateFile(path).open()
    with state.transaction():
        state.backend.seed(ACCOUNT_ID, PATTERNS, {"pattern": "https://a.example/*"})
    path.unlink()
    with state.transaction():
        assert state.backend.entries(ACCOUNT_ID, PATTERNS) == []


# --- durable writes ----------------------------------------------------------------------------------


def test_a_save_syncs_the_file_before_renaming_and_the_directory_after(
    monkeypatch: pytest.MonkeyPatch, tmp_path: Path
) -> None:
    path = tmp_path / "state.json"
    state = StateFile(path).open()
    events: list[str] = []
    real_fsync, real_replace = os.fsync, os.replace

    def fsync(fd: int) -> None:
        events.append("fsync directory" if stat.S_ISDIR(os.fstat(fd).st_mode) else "fsync file")
        real_fsync(fd)

    def replace(source: Any, target: Any) -> None:
        events.append("replace")
        real_replace(source, target)

    monkeypatch.setattr(os, "fsync", fsync)
    monkeypatch.setattr(os, "replace", replace)
    with state.transaction():
        state.backend.seed(ACCOUNT_ID, PATTERNS, {"pattern": "https://a.example/*"})
    assert events == ["fsync file", "replace", "fsync directory"]
    assert json.loads(path.read_bytes())["accounts"][ACCOUNT_ID][PATTERNS]


def _replace_fails(monkeypatch: pytest.MonkeyPatch, state: StateFile) -> type[BaseException]:
    def replace(source: Any, target: Any) -> None:
        raise OSError(28, "No space left on device")

    monkeypatch.setattr(os, "replace", replace)
    state.backend.seed(ACCOUNT_ID, PATTERNS, {"pattern": "https://b.example/*"})
    return StateFileError


def _value_is_not_json(monkeypatch: pytest.MonkeyPatch, state: StateFile) -> type[BaseException]:
    state.backend.seed(ACCOUNT_ID, PATTERNS, {"pattern": "https://b.example/*", "extra": {1, 2}})
    return TypeError


@pytest.mark.parametrize("failure", [_replace_fails, _value_is_not_json])
def test_a_failed_save_leaves_the_file_as_it_was_and_no_scratch_file(
    monkeypatch: pytest.MonkeyPatch, tmp_path: Path, failure: Callable[..., type[BaseException]]
) -> None:
    path = tmp_path / "state.json"
    state = StateFile(path).open()
    with state.transaction():
        state.backend.seed(ACCOUNT_ID, PATTERNS, {"pattern": "https://a.example/*"})
    before = path.read_bytes()
    with monkeypatch.context() as patch, pytest.raises(failure(patch, state)), state.transaction():
        state.backend.seed(ACCOUNT_ID, PATTERNS, {"pattern": "https://c.example/*"})
    assert path.read_bytes() == before and scratch_files(tmp_path) == []
    with state.transaction():  # what was not saved is forgotten: the file is the truth
        assert [e["pattern"] for e in state.backend.entries(ACCOUNT_ID, PATTERNS)] == ["https://a.example/*"]


# --- another process's changes -----------------------------------------------------------------------


def test_a_same_size_change_within_one_clock_tick_is_not_missed(tmp_path: Path) -> None:
    path = tmp_path / "state.json"
    first, second = StateFile(path).open(), StateFile(path).open()
    with first.transaction():
        first.backend.seed(ACCOUNT_ID, PATTERNS, {"id": "p1", "pattern": "https://a.example/*"})
    with second.transaction():
        assert [e["pattern"] for e in second.backend.entries(ACCOUNT_ID, PATTERNS)] == ["https://a.example/*"]
    seen = path.stat()
    snapshot = first.backend.snapshot()
    snapshot["accounts"][ACCOUNT_ID][PATTERNS]["p1"]["pattern"] = "https://b.example/*"
    with first.transaction():
        first.backend.restore(snapshot)
    os.utime(path, ns=(seen.st_atime_ns, seen.st_mtime_ns))
    assert (path.stat().st_mtime_ns, path.stat().st_size) == (seen.st_mtime_ns, seen.st_size)
    with second.transaction():
        assert [e["pattern"] for e in second.backend.entries(ACCOUNT_ID, PATTERNS)] == ["https://b.example/*"]
        second.backend.seed(ACCOUNT_ID, PATTERNS, {"id": "p2", "pattern": "https://c.example/*"})
    saved = json.loads(path.read_bytes())["accounts"][ACCOUNT_ID][PATTERNS]
    assert {k: v["pattern"] for k, v in saved.items()} == {"p1": "https://b.example/*", "p2": "https://c.example/*"}


def test_a_lock_held_too_long_by_another_process_is_a_clear_error(tmp_path: Path) -> None:
    import subprocess
    import sys

    state_path = tmp_path / "state.json"
    holder = subprocess.Popen(
        [
            sys.executable,
            "-c",
            f"import filelock, sys; lock = filelock.FileLock({str(state_path) + '.lock'!r}); lock.acquire(); "
            "print('held', flush=True); sys.stdin.read()",
        ],
        stdin=subprocess.PIPE,
        stdout=subprocess.PIPE,
        text=True,
    )
    try:
        assert holder.stdout is not None and holder.stdout.readline().strip() == "held"
        state = StateFile(state_path)
        state.lock_wait = 0.2
        with pytest.raises(StateFileError) as caught:
            promptly(state.open)
        message = str(caught.value)
        assert "stayed locked by another process for 0.2 s" in message and str(state_path) in message
    finally:
        holder.kill()
        holder.wait()
    assert StateFile(state_path).open().backend.entries(ACCOUNT_ID, PATTERNS) == []


def test_a_symlinked_state_file_is_written_through_the_link(tmp_path: Path) -> None:
    target = tmp_path / "real.json"
    link = tmp_path / "link.json"
    link.symlink_to(target)
    state = StateFile(link).open()
    with state.transaction():
        state.backend.create(ACCOUNT_ID, PATTERNS, numbered_body(PATTERNS, 1))
    assert link.is_symlink(), "the save replaced the link with a file"
    assert len(json.loads(target.read_text())["accounts"][ACCOUNT_ID][PATTERNS]) == 1
