"""Text from the account or the API never reaches a terminal or a program raw.

The account in the emulator holds entries whose text fields carry what a terminal acts on (ANSI and OSC
sequences, C0 and C1 controls, bidi controls) and what Python's tokenizer or PyYAML take for a line end
(CR, U+2028, U+2029, U+0085, VT, FF); entries that ``cfes export`` leaves out say why in a comment that
quotes such text. Real ``cfes`` processes export it in each form, list it (a table on a pseudo-terminal,
JSON) and seed it; the emulator answers failures whose messages hold the same. Everything written or
printed must show those characters escaped, and what is written must read back to the exact values.
"""

from __future__ import annotations

import ast
import fcntl
import io
import json
import os
import pty
import select
import shutil
import struct
import subprocess
import sys
import termios
import time
import tokenize
from pathlib import Path
from typing import Any

import grpc
import pytest
import yaml
from hypothesis import given
from hypothesis import strategies as st

from pulumi_cloudflare_email_security.cli import json_text
from pulumi_cloudflare_email_security.emulator import EmulatorServer
from pulumi_cloudflare_email_security.emulator.routes import ROUTE, EmulatorResponse
from pulumi_cloudflare_email_security.formats import escaped
from pulumi_cloudflare_email_security.registry import SETTINGS_TYPES
from pulumi_cloudflare_email_security.render import py_comment, yaml_comment

from .conftest import ACCOUNT_ID, CANARY
from .protocol import ProviderProcess
from .test_cli import assert_one_line_error
from .test_export import cfes, cloudflare_env

HOSTILE = (
    "\r",
    "\u2028",
    "\u2029",
    "\x85",
    "\x0b",
    "\x0c",
    "\x1c",
    "\x01",
    "\x07",
    "\x7f",
    "\x1b[2J",  # clear the screen
    "\x1b[99;99H",  # move the cursor
    "\x1b]8;;http://x\x1b\\",  # an OSC 8 link
    "\x9b2J",  # the same, with the one-byte C1 CSI
    "\u202e",
    "\u202a",
    "\u2066",
    "\u2069",
    "\u200e",
    "\u200f",
    "\u061c",
    "\ufeff",
)
TEXT = "start 日本語 " + "|".join(HOSTILE) + " end"
"""One text holding every hostile character, between words that read."""
SEQUENCES = ("\x1b[2J", "\x1b[99;99H", "\x1b]8;;", "\x9b")
"""What the data would make a terminal do, if shown raw (rich itself never writes these)."""
REGEX_BREAKS = ("\r", "\u2028", "\x85", "\x1b")
"""Characters that an invalid pattern's error message quotes as they are (``unknown extension ?\\r``)."""
CFES = shutil.which("cfes", path=str(Path(sys.executable).parent)) or "cfes"


def unprintable(text: str, allowed: str = "\n") -> set[str]:
    """The characters of ``text`` that a terminal or a parser could act on, less ``allowed``."""
    return {char for char in text if not char.isprintable() and char not in allowed}


# --- the rule --------------------------------------------------------------------------------------

ANY_TEXT = st.text(st.characters(exclude_categories=()))
"""Any text at all: surrogates, controls and unassigned code points included."""


@given(ANY_TEXT)
def test_escaped_text_is_printable_and_stays_as_it_is_when_escaped_again(text: str) -> None:
    shown = escaped(text)
    assert unprintable(shown, allowed="") == set()
    assert escaped(shown) == shown
    assert shown == text or not text.isprintable()


@given(ANY_TEXT)
def test_any_text_as_a_comment_is_a_comment_and_nothing_else(text: str) -> None:
    python, yml = "\n".join(py_comment(text, indent=1)), "\n".join(yaml_comment(text, indent=2))
    assert unprintable(python) == unprintable(yml) == set()
    assert ast.dump(ast.parse(python)) == ast.dump(ast.Module(body=[], type_ignores=[]))
    assert yaml.safe_load(yml) is None


@given(
    st.recursive(
        ANY_TEXT | st.integers() | st.booleans() | st.none(),
        lambda inner: st.lists(inner) | st.dictionaries(ANY_TEXT, inner),
    )
)
def test_json_output_is_printable_and_parses_back_exactly(value: Any) -> None:
    text = json_text(value)
    assert unprintable(text) == set()
    assert json.loads(text) == value


# --- the account -----------------------------------------------------------------------------------

VALID: dict[str, dict[str, Any]] = {
    "allow_policies": {
        "pattern": "hostile.example",
        "pattern_type": "DOMAIN",
        "is_regex": False,
        "is_trusted_sender": True,
        "is_acceptable_sender": False,
        "is_exempt_recipient": False,
        "verify_sender": True,
        "comments": TEXT,
    },
    "trusted_domains": {
        "pattern": "hostile.example",
        "is_recent": True,
        "is_similarity": False,
        "is_regex": False,
        "comments": TEXT,
    },
    "url_ignore_patterns": {"pattern": "https://hostile.example/*", "comments": TEXT},
    "content_policies": {
        "name": "Hostile " + TEXT,
        "pattern": "(?i)hostile",
        "enabled": True,
        "targets": ["SUBJECT"],
        "notes": TEXT,
    },
    "impersonation_registry": {
        "name": TEXT,
        "email": "hostile@corp.example",
        "is_email_regex": False,
        "comments": TEXT,
    },
    "block_senders": {"pattern": "hostile.example", "pattern_type": "DOMAIN", "is_regex": False, "comments": TEXT},
    "sending_domain_restrictions": {"domain": "hostile.example", "exclude": [], "comments": TEXT},
}
"""An entry a program can declare, per collection, with hostile text in every free-text field (every type has
one but protected domains)."""


def seed_hostile_account(server: EmulatorServer) -> list[str]:
    """The entries above, and entries that export skips with a reason quoting hostile text: their ids."""
    backend = server.router.backend
    for collection, body in VALID.items():
        backend.create(ACCOUNT_ID, collection, body)
    skipped = [
        backend.seed(
            ACCOUNT_ID,
            "content_policies",
            {"name": f"Broken {char}", "pattern": f"(?{char})x", "enabled": True, "targets": ["BODY"]},
        )["id"]
        for char in REGEX_BREAKS
    ]
    synced = {"name": "Synced", "email": "synced@corp.example", "is_email_regex": False, "provenance": TEXT}
    skipped.append(backend.seed(ACCOUNT_ID, "impersonation_registry", synced)["id"])
    return skipped


@pytest.fixture
def hostile(emulator_server: EmulatorServer) -> list[str]:
    return seed_hostile_account(emulator_server)


def run_export(server: EmulatorServer, out: Path, *args: str) -> subprocess.CompletedProcess[str]:
    env = cloudflare_env(server.base_url)
    done = cfes("export", "--account-id", ACCOUNT_ID, "--output", out, *args, env=env)
    assert done.returncode == 0, done.stderr
    return done


# --- what export writes ----------------------------------------------------------------------------


def python_entries(source: str) -> list[dict[str, Any]]:
    """The values each resource (or each entry of a set) of an exported program declares."""
    found = []
    for node in ast.walk(ast.parse(source)):
        if isinstance(node, ast.Call) and node.keywords:
            values = {k.arg: ast.literal_eval(k.value) for k in node.keywords if not isinstance(k.value, ast.Name)}
            found += values.pop("entries", [values])
    return found


def python_comments(source: str) -> list[str]:
    return [t.string for t in tokenize.generate_tokens(io.StringIO(source).readline) if t.type == tokenize.COMMENT]


def yaml_entries(source: str) -> list[dict[str, Any]]:
    document = yaml.safe_load(source)
    return [{"name" if k == "display_name" else k: v for k, v in e.items()} for s in document.values() for e in s]


def yaml_comments(source: str) -> list[str]:
    return [line.strip() for line in source.splitlines() if line.lstrip().startswith("#")]


FORMS = {
    "python": ([], "__main__.py", python_entries, python_comments),
    "python-sets": (["--sets"], "__main__.py", python_entries, python_comments),
    "yaml": (["--format", "yaml"], "policy.yaml", yaml_entries, yaml_comments),
}


@pytest.mark.parametrize("form", sorted(FORMS))
def test_export_escapes_account_text_and_reads_back_exactly(
    form: str, hostile: list[str], emulator_server: EmulatorServer, tmp_path: Path
) -> None:
    args, written, entries_of, comments_of = FORMS[form]
    done = run_export(emulator_server, tmp_path / "out", *args)
    source = (tmp_path / "out" / written).read_text(encoding="utf-8")
    assert unprintable(source) == set(), "no raw control, line break or bidi character anywhere in the file"
    entries = entries_of(source)  # ast.parse or yaml.safe_load: the file reads
    for body in VALID.values():
        assert any(all(e.get(k) == v for k, v in body.items()) for e in entries), body
    comments = comments_of(source)
    for entry_id in hostile:
        assert len([c for c in comments if entry_id in c and c.startswith("# Not exported:")]) == 1, entry_id
    for char in REGEX_BREAKS:
        assert any(f"unknown extension ?{escaped(char)} at position 1" in c for c in comments), repr(char)
    assert any(f"(provenance {escaped(TEXT)})" in c for c in comments)
    assert unprintable(done.stderr) == set(), "the summary shows the reasons escaped"
    summary = done.stderr.splitlines()
    assert all(len([line for line in summary if entry_id in line]) == 1 for entry_id in hostile)


# --- on a terminal -----------------------------------------------------------------------------------


def terminal_env(server: EmulatorServer) -> dict[str, str]:
    return cloudflare_env(server.base_url, TERM="xterm-256color", COLUMNS="1000", LINES="60")


def on_a_terminal(*args: str | Path, env: dict[str, str], timeout: float = 60) -> tuple[int, str]:
    """Run ``cfes`` with stdout and stderr on a pseudo-terminal (1000 columns), as a person does: its exit
    code and everything it wrote there, rich's own control sequences included."""
    main, side = pty.openpty()
    fcntl.ioctl(side, termios.TIOCSWINSZ, struct.pack("HHHH", 60, 1000, 0, 0))
    process = subprocess.Popen(
        [CFES, *map(str, args)], stdin=subprocess.DEVNULL, stdout=side, stderr=side, env=env, close_fds=True
    )
    os.close(side)
    chunks, deadline = [], time.monotonic() + timeout
    try:
        while time.monotonic() < deadline:
            if not select.select([main], [], [], max(deadline - time.monotonic(), 0))[0]:
                break
            try:
                chunk = os.read(main, 65536)
            except OSError:  # EIO: the process closed its side
                break
            if not chunk:
                break
            chunks.append(chunk)
    finally:
        os.close(main)
        if process.poll() is None and time.monotonic() >= deadline:
            process.kill()
    return process.wait(timeout=timeout), b"".join(chunks).decode("utf-8", errors="replace")


def assert_shown_escaped(screen: str) -> None:
    """Nothing from the data acts on the terminal: none of its sequences is there raw, and no character
    that is not printable is there but those of rich's own output (ESC of its styles, the line ends)."""
    for sequence in SEQUENCES:
        assert sequence not in screen, repr(sequence)
    assert unprintable(screen, allowed="\r\n\x1b") == set()
    assert "\\x1b]8;;http://x\\x1b\\|" in screen and "\\u202e" in screen and "\\x9b2J" in screen


def test_export_on_a_terminal_shows_account_text_escaped(
    hostile: list[str], emulator_server: EmulatorServer, tmp_path: Path
) -> None:
    env = terminal_env(emulator_server)
    code, screen = on_a_terminal("export", "--account-id", ACCOUNT_ID, "--output", tmp_path / "out", env=env)
    assert code == 0, screen
    assert_shown_escaped(screen)
    assert "\u2713" in screen, "the live progress was shown"
    assert all(entry_id in screen for entry_id in hostile)
    assert f"(provenance {escaped(TEXT)})" in screen


# --- cfes list -------------------------------------------------------------------------------------


@pytest.mark.parametrize("collection", sorted(VALID))
def test_list_shows_account_text_escaped_on_a_terminal(
    collection: str, hostile: list[str], emulator_server: EmulatorServer
) -> None:
    env = terminal_env(emulator_server)
    code, screen = on_a_terminal("list", collection, "--account-id", ACCOUNT_ID, env=env)
    assert code == 0, screen
    assert_shown_escaped(screen)
    assert escaped(TEXT) in screen, "every value whole, escaped"


@pytest.mark.parametrize("collection", sorted(VALID))
def test_list_json_escapes_what_json_leaves_and_parses_back_exactly(
    collection: str, hostile: list[str], emulator_server: EmulatorServer
) -> None:
    done = cfes("list", collection, "--account-id", ACCOUNT_ID, "--json", env=cloudflare_env(emulator_server.base_url))
    assert done.returncode == 0, done.stderr
    assert unprintable(done.stdout) == set()
    listed = {entry["id"]: entry for entry in json.loads(done.stdout)}
    for entry in emulator_server.router.backend.entries(ACCOUNT_ID, collection):
        spec = next(s for s in SETTINGS_TYPES.values() if s.collection == collection)
        assert {k: listed[entry["id"]].get(k) for k in spec.fields} == {k: entry.get(k) for k in spec.fields}
    assert "日本語" in done.stdout, "other unicode stays as it is"


# --- cfes seed, and what cfes echoes ---------------------------------------------------------------


def test_seed_labels_show_the_seeded_text_escaped(tmp_path: Path) -> None:
    seed_file, state = tmp_path / "seed.json", tmp_path / "state.json"
    document = {collection: [VALID[collection]] for collection in ("url_ignore_patterns", "content_policies")}
    document["url_ignore_patterns"].append({"pattern": "https://x.example/" + TEXT.replace(" ", "")})
    seed_file.write_text(json.dumps(document))
    done = cfes("seed", seed_file, "--state", state, "--account-id", ACCOUNT_ID)
    assert done.returncode == 0, done.stderr
    assert unprintable(done.stdout, allowed="\t\n") == set() and unprintable(done.stderr) == set()
    labels = [line.split("\t")[2] for line in done.stdout.splitlines()]
    assert labels == [
        "https://hostile.example/*",
        escaped("https://x.example/" + TEXT.replace(" ", "")),
        escaped("Hostile " + TEXT),
    ]


MARKUP_PATHS = ("[/x].json", "[bold]y.json", ":smile: [link=http://x]z[/link].json")
"""State file names that rich would read as markup (a closing tag with no opening one fails) or emoji."""


@pytest.mark.parametrize("name", MARKUP_PATHS)
def test_an_echoed_path_is_printed_as_it_is(name: str, tmp_path: Path) -> None:
    seed_file, state = tmp_path / "seed.json", tmp_path / "dir[x]" / name
    state.parent.mkdir(parents=True)
    seed_file.write_text(json.dumps({"url_ignore_patterns": [{"pattern": "https://a.example/*"}]}))
    done = cfes("seed", seed_file, "--state", state, "--account-id", ACCOUNT_ID)
    assert done.returncode == 0, done.stderr
    assert done.stderr.strip() == f"Added 1 entry to account {ACCOUNT_ID} in {state}."
    served = subprocess.Popen(
        [CFES, "emulator", "--port", "0", "--state", str(state)],
        stdout=subprocess.PIPE,
        stderr=subprocess.PIPE,
        text=True,
    )
    try:
        assert served.stdout is not None and served.stdout.readline().startswith("export CLOUDFLARE_BASE_URL=")
    finally:
        served.terminate()
        _, stderr = served.communicate(timeout=15)
    assert served.returncode == 0, stderr
    assert f"State is kept in {state}\n" in stderr
    out = tmp_path / name.replace(".json", "")
    exported = cfes("export", "--account-id", ACCOUNT_ID, "--output", out, env=cloudflare_env(f"embedded:{state}"))
    assert exported.returncode == 0, exported.stderr
    assert f" into {out} (" in exported.stderr and f"Next: cd {out}, " in exported.stderr


# --- the API's error messages ----------------------------------------------------------------------

MESSAGE = "refused " + "|".join(HOSTILE) + " here"


def refusing(server: EmulatorServer, monkeypatch: pytest.MonkeyPatch, status: int = 400) -> None:
    """Make the emulator refuse every request for the account with an error whose message is hostile, and
    a ``cf-ray`` id that holds a C1 CSI."""
    handle = server.router.handle

    def answer(method: str, path: str, *args: Any) -> EmulatorResponse:
        route = ROUTE.search(path)
        if route and route["account"] == ACCOUNT_ID:
            body = {"success": False, "errors": [{"code": 1234, "message": MESSAGE}], "messages": [], "result": None}
            return EmulatorResponse(status, body, {"content-type": "application/json", "cf-ray": "ab\x9b2J-EWR"})
        return handle(method, path, *args)

    monkeypatch.setattr(server.router, "handle", answer)


@pytest.mark.parametrize("command", ["list", "export"])
def test_an_api_error_message_is_one_line_shown_escaped(
    command: str, emulator_server: EmulatorServer, monkeypatch: pytest.MonkeyPatch, tmp_path: Path
) -> None:
    refusing(emulator_server, monkeypatch)
    args = ["list", "url_ignore_patterns"] if command == "list" else ["export", "--output", tmp_path / "out"]
    done = cfes(*args, "--account-id", ACCOUNT_ID, env=cloudflare_env(emulator_server.base_url))
    assert_one_line_error(done, f"[1234] {escaped(MESSAGE)}", "HTTP 400", "cf-ray ab\\x9b2J-EWR")
    assert unprintable(done.stderr) == set()


def test_an_api_error_reaches_pulumi_escaped(
    settings_type_name: str,
    registered: dict[str, dict[str, Any]],
    provider: ProviderProcess,
    emulator_server: EmulatorServer,
    monkeypatch: pytest.MonkeyPatch,
) -> None:
    checked = provider.check(settings_type_name, registered[settings_type_name])
    refusing(emulator_server, monkeypatch)
    with pytest.raises(grpc.RpcError) as caught:
        provider.create(settings_type_name, checked.inputs)
    text = caught.value.details() or ""
    assert f"[1234] {escaped(MESSAGE)}" in text and "cf-ray ab\\x9b2J-EWR" in text
    assert unprintable(text) == set() and CANARY not in text


def test_adopting_a_synced_entry_says_why_not_with_the_api_text_escaped(
    registered: dict[str, dict[str, Any]], provider: ProviderProcess, emulator_server: EmulatorServer
) -> None:
    synced = {"name": "Synced", "email": "synced@corp.example", "is_email_regex": False, "provenance": TEXT}
    entry = emulator_server.router.backend.seed(ACCOUNT_ID, "impersonation_registry", synced)
    name = "ImpersonationRegistryEntry"
    checked = provider.check(name, {**registered[name], "adopt_id": entry["id"]})
    with pytest.raises(grpc.RpcError) as caught:
        provider.create(name, checked.inputs)
    text = caught.value.details() or ""
    assert f"(provenance {escaped(TEXT)})" in text
    assert unprintable(text) == set()
