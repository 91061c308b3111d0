"""``cfes export`` and ``cfes list``, proven by a round trip.

An account in the emulator gets entries of every type, several pages of each (the export reads them
``PAGE_SIZE`` at a time), with names that collide once made into resource names, unicode and quotes in
comments, two entries with the same natural key, a directory-synced impersonation entry, an entry no
program could declare and a protected domain. ``cfes export`` runs as a real process against the emulator
over HTTP, in each form; the program it writes then runs under ``pulumi.runtime.set_mocks``, each resource
it registers going through the real provider process over gRPC (Check, Create, then Diff), as ``pulumi
up`` would. The account must be left exactly as it was: no POST, no DELETE, every entry adopted with every
value unchanged, and every Diff after the Create empty. The written code passes ``ruff check`` and
``ruff format --check`` as it is.
"""

from __future__ import annotations

import ast
import io
import json
import os
import shutil
import socket
import subprocess
import sys
from collections import Counter
from collections.abc import Callable
from dataclasses import dataclass
from pathlib import Path
from typing import Any

import pulumi
import pytest
import yaml
from hypothesis import given
from hypothesis import strategies as st
from rich.console import Console

from pulumi_cloudflare_email_security.emulator import EmulatorServer, StateFile
from pulumi_cloudflare_email_security.emulator.routes import ROUTE, EmulatorResponse
from pulumi_cloudflare_email_security.emulator.seeding import seed_state
from pulumi_cloudflare_email_security.entries import DEPRECATED_FIELDS
from pulumi_cloudflare_email_security.export import RichProgress, plan_type, readable_name, yaml_section
from pulumi_cloudflare_email_security.lookup_filters import FILTERS, LOOKUPS
from pulumi_cloudflare_email_security.registry import SET_PROVIDERS, SETTINGS_TYPES
from pulumi_cloudflare_email_security.render import py_str, yaml_str

from .conftest import ACCOUNT_ID, CANARY, OTHER_ACCOUNT_ID
from .protocol import ProviderProcess
from .registration import RecordingMocks, register
from .test_cli import assert_one_line_error
from .test_program import ROOT, program_at

PAGE_SIZE = 16
"""Entries per list request of the exports below: every type of the seeded account takes several pages."""
PER_TYPE = 40
YAML_PROGRAM = ROOT / "examples" / "policy-from-yaml" / "__main__.py"
BIN = Path(sys.executable).parent
SYNCED_EMAIL = "synced.person@corp.example"
UNICODE = "Ünïcödé — ✓ 日本語, \"double\" and 'single' quotes, a back\\slash,\ta tab\nand a second line"


def cfes(*args: str | Path, env: dict[str, str] | None = None) -> subprocess.CompletedProcess[str]:
    """Run ``cfes`` as a user does (stdin and stdout not a terminal)."""
    command = shutil.which("cfes", path=str(BIN)) or "cfes"
    return subprocess.run(
        [command, *map(str, args)], capture_output=True, text=True, timeout=120, env=env, stdin=subprocess.DEVNULL
    )


def cloudflare_env(base_url: str, **extra: str) -> dict[str, str]:
    """This process's environment (retry settings of the suite included) with Cloudflare settings of its own."""
    env = {k: v for k, v in os.environ.items() if not k.startswith("CLOUDFLARE_") or "EMAIL_SECURITY" in k}
    return {**env, "CLOUDFLARE_BASE_URL": base_url, "CLOUDFLARE_API_TOKEN": CANARY, **extra}


# --- the account -----------------------------------------------------------------------------------


def bodies(collection: str, index: int) -> dict[str, Any]:
    """Entry ``index`` of a collection: valid, different from the others, with unicode in its notes."""
    note = f"{UNICODE} #{index}" if index % 3 == 0 else None
    i = index
    if collection == "allow_policies":
        kind = ("DOMAIN", "EMAIL", "IP")[i % 3]
        pattern = {"DOMAIN": f"partner{i}.example", "EMAIL": f"relay{i}@partner.example", "IP": f"192.0.2.{i}"}[kind]
        flags = {"is_trusted_sender": i % 2 == 0, "is_acceptable_sender": i % 5 == 0, "is_exempt_recipient": False}
        return {
            "pattern": pattern,
            "pattern_type": kind,
            "is_regex": False,
            "verify_sender": True,
            **flags,
            "comments": note,
        }
    if collection == "block_senders":
        regex = i % 4 == 0
        pattern = rf".*@spam{i}\.example" if regex else f"spam{i}.example"
        return {"pattern": pattern, "pattern_type": "EMAIL" if regex else "DOMAIN", "is_regex": regex, "comments": note}
    if collection == "trusted_domains":
        return {"pattern": f"brand{i}.example", "is_recent": i % 2 == 0, "is_similarity": True, "is_regex": False}
    if collection == "impersonation_registry":
        return {"name": f"Persön {i}", "email": f"person{i}@corp.example", "is_email_regex": False, "comments": note}
    if collection == "sending_domain_restrictions":
        return {"domain": f"bank{i}.example", "exclude": [f"mail{i}.bank{i}.example"][: i % 2], "comments": note}
    if collection == "domains":
        return {
            "domain": f"corp{i}.example",
            "allowed_delivery_modes": ["BCC", "JOURNAL"][: 1 + i % 2],
            "regions": ["GLOBAL"],
            "drop_dispositions": ["MALICIOUS", "SPOOF"][: i % 3],
            "ip_restrictions": [f"198.51.100.{i}/32"] if i % 4 == 0 else [],
        }
    if collection == "url_ignore_patterns":
        return {"pattern": f"https://sso{i}.corp.example/*", "comments": note}
    if collection == "content_policies":
        targets = [["SUBJECT"], ["BODY"], ["SUBJECT", "BODY"]][i % 3]
        return {"name": f"Policy {i}!", "pattern": rf"(?i)\bwire{i}\b", "enabled": i % 2 == 0, "targets": targets}
    raise AssertionError(collection)


TRICKY: dict[str, list[dict[str, Any]]] = {
    # Names that collide once made into resource names, and a natural key held by two entries.
    "url_ignore_patterns": [
        {"pattern": "https://collide.example/a b", "comments": UNICODE},
        {"pattern": "https://collide.example/a?b"},
        {"pattern": "https://collide.example/a-b"},
    ],
    "content_policies": [
        {"name": "Wire transfer!", "pattern": "(?i)wire", "enabled": True, "targets": ["SUBJECT"], "notes": UNICODE},
        {"name": "Wire transfer?", "pattern": "(?i)wire", "enabled": True, "targets": ["BODY"]},
        {"name": 'Quote "this"', "pattern": "x'y\"z", "enabled": False, "targets": ["SUBJECT"]},
    ],
    "block_senders": [
        {"pattern": "twice.example", "pattern_type": "DOMAIN", "is_regex": False, "comments": "first"},
        {"pattern": "twice.example", "pattern_type": "DOMAIN", "is_regex": False, "comments": "second"},
        {"pattern": "Twice.Example", "pattern_type": "DOMAIN", "is_regex": False, "comments": "other case"},
    ],
}


@dataclass
class Account:
    """The seeded account: what the emulator holds, and what is left out of the export and why."""

    server: EmulatorServer
    synced_id: str
    undeclarable_id: str
    requests: list[tuple[str, str]]

    def entries(self, collection: str) -> list[dict[str, Any]]:
        return self.server.router.backend.entries(ACCOUNT_ID, collection)

    def snapshot(self) -> dict[str, dict[str, dict[str, Any]]]:
        """Every entry's fields, by collection and id."""
        return {
            spec.collection: {e["id"]: {f: e.get(f) for f in spec.fields} for e in self.entries(spec.collection)}
            for spec in SETTINGS_TYPES.values()
        }

    def calls(self, method: str) -> list[str]:
        return [path for m, path in self.requests if m == method]

    def list_requests(self, collection: str) -> int:
        return sum(1 for method, path in self.requests if method == "GET" and path.endswith(f"/{collection}"))


@pytest.fixture
def account(emulator_server: EmulatorServer, monkeypatch: pytest.MonkeyPatch) -> Account:
    backend = emulator_server.router.backend
    for spec in SETTINGS_TYPES.values():
        for index in range(PER_TYPE):
            body = {k: v for k, v in bodies(spec.collection, index).items() if v is not None}
            backend.create(ACCOUNT_ID, spec.collection, body)
        for body in TRICKY.get(spec.collection, []):
            backend.create(ACCOUNT_ID, spec.collection, body)
    synced = backend.seed(
        ACCOUNT_ID,
        "impersonation_registry",
        {
            "name": "Synced Person",
            "email": SYNCED_EMAIL,
            "is_email_regex": False,
            "provenance": "SNOOPY-OFFICE_365",
            "directory_id": 7,
            "directory_node_id": 4242,
        },
    )
    undeclarable = backend.seed(
        ACCOUNT_ID,
        "allow_policies",
        {
            "pattern": "legacy.example",
            "pattern_type": "UNKNOWN",
            "is_trusted_sender": True,
            "is_acceptable_sender": False,
            "is_exempt_recipient": False,
            "is_regex": False,
            "verify_sender": False,
        },
    )
    backend.create(OTHER_ACCOUNT_ID, "trusted_domains", bodies("trusted_domains", 999))  # never exported
    requests: list[tuple[str, str]] = []
    handle = emulator_server.router.handle

    def recording(method: str, path: str, *args: Any) -> EmulatorResponse:
        requests.append((method.upper(), path))
        return handle(method, path, *args)

    monkeypatch.setattr(emulator_server.router, "handle", recording)
    return Account(emulator_server, synced["id"], undeclarable["id"], requests)


def export(account: Account, out: Path, *args: str) -> subprocess.CompletedProcess[str]:
    done = cfes(
        "export",
        "--account-id",
        ACCOUNT_ID,
        "--output",
        out,
        "--page-size",
        str(PAGE_SIZE),
        *args,
        env=cloudflare_env(account.server.base_url),
    )
    assert done.returncode == 0, done.stderr
    return done


# --- running what was exported ---------------------------------------------------------------------


class ProviderMocks(RecordingMocks):
    """Mocks that answer each registration as ``pulumi up`` then ``pulumi preview`` would: through the provider
    process over gRPC, Check and Create, then the Diff of the next preview."""

    def __init__(self, provider: ProviderProcess) -> None:
        super().__init__()
        self.provider = provider
        self.ids: dict[str, str] = {}
        self.outputs: dict[str, dict[str, Any]] = {}
        self.diffs: dict[str, str] = {}
        self.failures: dict[str, list[tuple[str, str]]] = {}

    def new_resource(self, args: Any) -> tuple[str, dict[str, Any]]:
        super().new_resource(args)
        checked = self.provider.check(args.name, dict(args.inputs))
        if checked.failures:
            self.failures[args.name] = checked.failures
            return "", {}
        entry_id, outs = self.provider.create(args.name, checked.inputs)
        self.ids[args.name], self.outputs[args.name] = entry_id, outs
        self.diffs[args.name] = self.provider.diff(args.name, entry_id, outs, checked.inputs).changes
        return entry_id, outs


def run_program(path: Path, provider: ProviderProcess) -> ProviderMocks:
    mocks = ProviderMocks(provider)
    config = {"cloudflare-email-security:accountId": ACCOUNT_ID}
    try:
        register(program_at(path), config=config, project="exported", mocks=mocks)
    finally:
        pulumi.runtime.set_all_config({})  # the program's stack config must not reach later tests
    assert mocks.failures == {}
    return mocks


def adopted_ids(mocks: ProviderMocks) -> Counter[str]:
    """Every entry id the resources took over: a single resource's own, a set's entries'."""
    ids: Counter[str] = Counter()
    for name, outs in mocks.outputs.items():
        if "entries" in outs:
            ids.update(entry["id"] for entry in outs["entries"])
        else:
            assert outs["adopted"] is True, name
            ids[mocks.ids[name]] += 1
    return ids


def ruff(*args: str | Path) -> subprocess.CompletedProcess[str]:
    command = shutil.which("ruff", path=str(BIN)) or "ruff"
    return subprocess.run([command, *map(str, args)], capture_output=True, text=True, timeout=60)


FORMS = {
    "python": ([], "__main__.py"),
    "python-sets": (["--sets"], "__main__.py"),
    "yaml": (["--format", "yaml"], "policy.yaml"),
}


@pytest.mark.parametrize("form", sorted(FORMS))
def test_round_trip_adopts_every_entry_and_changes_nothing(
    form: str, account: Account, provider: ProviderProcess, tmp_path: Path
) -> None:
    before = account.snapshot()
    assert sum(len(entries) for entries in before.values()) >= 300
    out = tmp_path / "exported"
    args, written = FORMS[form]
    done = export(account, out, *args)
    for spec in SETTINGS_TYPES.values():
        pages = account.list_requests(spec.collection)
        assert pages == len(before[spec.collection]) // PAGE_SIZE + 1 >= 3, spec.collection
        assert f"({spec.collection}): {len(before[spec.collection])} entries, {pages} pages" in done.stderr
    assert account.calls("POST") == account.calls("PATCH") == account.calls("DELETE") == []
    text = (out / written).read_text()
    assert CANARY not in text + done.stdout + done.stderr
    never_written = {*DEPRECATED_FIELDS, *(name for spec in SETTINGS_TYPES.values() for name in spec.computed)}
    for name in never_written:
        assert f"{name}=" not in text and f'"{name}":' not in text and f"{name}:" not in text, name
    assert f"{account.synced_id} (email={py_str(SYNCED_EMAIL)})" in text and account.undeclarable_id in text
    assert "Skipped 2 entries" in done.stderr and "pattern_type: UNKNOWN is deprecated" in done.stderr

    if form == "yaml":
        shutil.copy(YAML_PROGRAM, out / "__main__.py")
    else:
        assert ruff("check", "--isolated", out).returncode == 0
        assert ruff("format", "--isolated", "--check", out).returncode == 0
        assert ruff("format", "--isolated", "--line-length", "120", "--check", out).returncode == 0
        project = yaml.safe_load((out / "Pulumi.yaml").read_text())
        assert project["name"] == "exported" and project["runtime"] == {"name": "python"}
    account.requests.clear()
    mocks = run_program(out / "__main__.py", provider)

    assert account.calls("POST") == account.calls("DELETE") == [], "adoption never creates or deletes"
    assert account.snapshot() == before, "every entry keeps its values"
    skipped = {account.synced_id, account.undeclarable_id}
    every_id = {entry_id for entries in before.values() for entry_id in entries}
    ids = adopted_ids(mocks)
    assert set(ids) == every_id - skipped and set(ids.values()) == {1}, "every entry adopted once"
    assert set(mocks.diffs.values()) == {"DIFF_NONE"}
    if form == "python-sets":
        assert {typ.rsplit(":", 1)[-1] for typ in mocks.types.values()} >= set(SET_PROVIDERS)

    domains = {name: outs for name, outs in mocks.outputs.items() if mocks.types[name].endswith(":ProtectedDomain")}
    assert len(domains) == PER_TYPE
    for name, outs in domains.items():
        assert outs["adopted"] is True
        provider.delete(name, mocks.ids[name], outs)
    assert account.calls("DELETE") == [], "destroy releases an adopted protected domain"
    assert len(account.entries("domains")) == PER_TYPE


def test_export_is_deterministic_and_stable_when_entries_are_added(account: Account, tmp_path: Path) -> None:
    first, second, third = tmp_path / "first", tmp_path / "second", tmp_path / "third"
    export(account, first)
    export(account, second)
    assert (first / "__main__.py").read_bytes() == (second / "__main__.py").read_bytes()
    backend = account.server.router.backend
    for spec in SETTINGS_TYPES.values():
        for index in range(PER_TYPE, PER_TYPE + 3):
            body = {k: v for k, v in bodies(spec.collection, index).items() if v is not None}
            backend.create(ACCOUNT_ID, spec.collection, body)
    backend.create(ACCOUNT_ID, "block_senders", TRICKY["block_senders"][0])  # a third entry of a shared key
    export(account, third)

    def names(path: Path) -> dict[str, str]:
        tree = ast.parse((path / "__main__.py").read_text())
        calls = [node for node in ast.walk(tree) if isinstance(node, ast.Call) and node.args]
        return {
            ast.literal_eval(next(k.value for k in call.keywords if k.arg == "adopt_id")): ast.literal_eval(
                call.args[0]
            )
            for call in calls
        }

    before, after = names(first), names(third)
    assert len(after) == len(before) + 3 * len(SETTINGS_TYPES) + 1
    assert {entry_id: after[entry_id] for entry_id in before} == before, "no name changes when entries are added"


def test_resource_names_are_readable_and_unique(account: Account) -> None:
    for spec in SETTINGS_TYPES.values():
        plan = plan_type(spec, ACCOUNT_ID, account.entries(spec.collection))
        names = [resource.name for resource in plan.resources]
        assert len(set(names)) == len(names), spec.collection
    urls = plan_type(SETTINGS_TYPES["UrlIgnorePattern"], ACCOUNT_ID, account.entries("url_ignore_patterns"))
    by_pattern = {r.values["pattern"]: r.name for r in urls.resources}
    assert by_pattern["https://sso1.corp.example/*"].startswith("https-sso1.corp.example-")
    assert len({by_pattern[f"https://collide.example/a{c}b"] for c in " ?-"}) == 3
    assert {by_pattern[f"https://collide.example/a{c}b"][:-7] for c in " ?-"} == {"https-collide.example-a-b"}
    domains = plan_type(SETTINGS_TYPES["ProtectedDomain"], ACCOUNT_ID, account.entries("domains"))
    assert [r.name for r in domains.resources][:2] == ["corp0.example", "corp1.example"], "sorted by natural key"
    blocked = plan_type(SETTINGS_TYPES["BlockedSender"], ACCOUNT_ID, account.entries("block_senders"))
    twice = [r for r in blocked.resources if r.values["pattern"] == "twice.example"]
    assert twice[0].name == "twice.example-DOMAIN" and twice[0].values["comments"] == "first", "the oldest keeps it"
    assert twice[1].name.startswith("twice.example-DOMAIN-") and twice[1].values["comments"] == "second"
    spec = SETTINGS_TYPES["AllowPolicy"]
    regex = {"pattern": "a.example", "pattern_type": "DOMAIN", "is_regex": True}
    assert readable_name(spec, regex) == "a.example-DOMAIN-is_regex"


def test_yaml_sections_are_those_the_example_program_reads() -> None:
    tree = ast.parse(YAML_PROGRAM.read_text())
    (mapping,) = [
        node.value
        for node in tree.body
        if isinstance(node, ast.AnnAssign) and ast.unparse(node.target) == "RESOURCE_CLASSES"
    ]
    assert isinstance(mapping, ast.Dict)
    sections = {
        ast.literal_eval(k): ast.unparse(v).rsplit(".", 1)[-1]
        for k, v in zip(mapping.keys, mapping.values, strict=True)
    }
    assert {yaml_section(spec): spec.resource_name for spec in SETTINGS_TYPES.values()} == sections


@given(st.text())
def test_python_and_yaml_strings_read_back_as_written(text: str) -> None:
    assert ast.literal_eval(py_str(text)) == text
    assert yaml.safe_load(f"key: {yaml_str(text)}") == {"key": text}


def test_written_strings_are_as_ruff_formats_them(tmp_path: Path) -> None:
    samples = [UNICODE, "it's", 'say "hi"', "both ' and \"", '"""', "\x00\x7f\u2028\ufeff", "\U0001f600", "a" * 200]
    source = "".join(f"x{i} = {py_str(text)}\n" for i, text in enumerate(samples))
    (tmp_path / "strings.py").write_text(source)
    assert ruff("format", "--isolated", "--diff", tmp_path / "strings.py").stdout == ""


def test_every_lookup_filter_is_an_option_of_cfes_list() -> None:
    assert set(LOOKUPS) == {spec.collection for spec in SETTINGS_TYPES.values()}
    text = " ".join(cfes("list", "--help").stdout.split())
    for spec in FILTERS.values():
        assert spec.option in text, spec.name


# --- cfes list -------------------------------------------------------------------------------------


def list_entries(account: Account, *args: str) -> subprocess.CompletedProcess[str]:
    return cfes("list", *args, "--account-id", ACCOUNT_ID, env=cloudflare_env(account.server.base_url))


@pytest.mark.parametrize(
    "type_name", ["UrlIgnorePattern", "url_ignore_patterns", "URLIGNOREPATTERN", "url-ignore-patterns"]
)
def test_list_reads_every_page_as_json(type_name: str, account: Account) -> None:
    backend = account.server.router.backend
    for index in range(1001):
        backend.seed(ACCOUNT_ID, "url_ignore_patterns", {"pattern": f"https://many{index}.example/*"})
    done = list_entries(account, type_name, "--json")
    assert done.returncode == 0, done.stderr
    listed = json.loads(done.stdout)
    assert {e["id"] for e in listed} == {e["id"] for e in account.entries("url_ignore_patterns")}
    assert len(listed) == 1001 + PER_TYPE + len(TRICKY["url_ignore_patterns"])
    assert account.list_requests("url_ignore_patterns") == 2


def test_list_shows_a_table_with_the_lookups_filters(account: Account) -> None:
    done = list_entries(account, "allow_policies", "--pattern-type", "domain", "--is-trusted-sender")
    assert done.returncode == 0, done.stderr
    wanted = [e for e in account.entries("allow_policies") if e["pattern_type"] == "DOMAIN" and e["is_trusted_sender"]]
    assert wanted and all(e["id"] in done.stdout and e["pattern"] in done.stdout for e in wanted)
    assert len([line for line in done.stdout.splitlines() if "partner" in line]) == len(wanted)
    assert "is_sender" not in done.stdout and "last_modified" not in done.stdout
    assert f"{len(wanted)} entries." in done.stderr


@pytest.mark.parametrize(
    ("args", "expected"),
    [
        (["domains", "--pattern", "x"], "--pattern does not filter domains (it filters allow_policies,"),
        (["allow_policies", "--order", "name"], "--order 'name' is not one of pattern, created_at for allow_policies"),
        (["allow_polices"], "unknown settings type 'allow_polices': use one of AllowPolicy (allow_policies),"),
    ],
)
def test_list_refuses_what_the_lookup_does_not_take(args: list[str], expected: str, account: Account) -> None:
    assert_one_line_error(list_entries(account, *args), expected)


# --- errors ----------------------------------------------------------------------------------------


def closed_port() -> int:
    with socket.socket() as probe:
        probe.bind(("127.0.0.1", 0))
        port: int = probe.getsockname()[1]
    return port


def refusing(account: Account, status: int, code: int, message: str, collection: str = "") -> None:
    """Make the emulator answer requests for ``OTHER_ACCOUNT_ID`` (and ``collection``) as Cloudflare refuses."""
    handle = account.server.router.handle

    def answer(method: str, path: str, *args: Any) -> EmulatorResponse:
        route = ROUTE.search(path)
        if route and route["account"] == OTHER_ACCOUNT_ID and route["collection"].startswith(collection):
            body = {"success": False, "errors": [{"code": code, "message": message}], "messages": [], "result": None}
            return EmulatorResponse(status, body, {"content-type": "application/json"})
        return handle(method, path, *args)

    account.server.router.handle = answer  # type: ignore[method-assign]


# An unreachable API is retried, one line per retry, before its error: see tests/test_retry_deadlines.py.
ERRORS: dict[str, tuple[Callable[[Account, dict[str, str]], None], list[str]]] = {
    "no credentials": (
        lambda account, env: env.pop("CLOUDFLARE_API_TOKEN"),
        ["No Cloudflare credentials found: set CLOUDFLARE_API_TOKEN"],
    ),
    "missing permission": (
        lambda account, env: refusing(account, 403, 10000, "Authentication error"),
        [f"cannot list allow_policies of account {OTHER_ACCOUNT_ID}", "[10000] Authentication error", "HTTP 403"],
    ),
    "wrong account": (
        lambda account, env: refusing(
            account, 404, 7003, "Could not route to /accounts/…, perhaps your object identifier is invalid?"
        ),
        ["[7003] Could not route", "check the account id"],
    ),
    "bad base URL": (
        lambda account, env: env.update(CLOUDFLARE_BASE_URL="http://api.example/client/v4"),
        ["CLOUDFLARE_BASE_URL is 'http://api.example/client/v4': plain http:// would send the API token in clear"],
    ),
}


@pytest.mark.parametrize("case", sorted(ERRORS))
def test_an_error_is_one_line_and_writes_nothing(case: str, account: Account, tmp_path: Path) -> None:
    arrange, expected = ERRORS[case]
    env = cloudflare_env(account.server.base_url)
    arrange(account, env)
    out = tmp_path / "out"
    done = cfes("export", "--account-id", OTHER_ACCOUNT_ID, "--output", out, env=env)
    assert_one_line_error(done, *expected)
    assert CANARY not in done.stderr
    assert list(tmp_path.iterdir()) == [], "nothing written, no temporary directory left"


def test_a_failure_midway_writes_nothing(account: Account, tmp_path: Path) -> None:
    refusing(account, 500, 10001, "internal error", collection="domains")
    out = tmp_path / "out"
    done = cfes(
        "export", "--account-id", OTHER_ACCOUNT_ID, "--output", out, env=cloudflare_env(account.server.base_url)
    )
    assert done.returncode == 2
    *progress, last = done.stderr.strip().splitlines()
    assert last.startswith("cfes: error: cannot list domains of account") and "gave up after" in last
    assert any(line.startswith("Read AllowPolicy (allow_policies): 0 entries, 1 page") for line in progress)
    assert list(tmp_path.iterdir()) == []


def test_a_non_empty_output_needs_force_which_replaces_only_the_exported_files(
    account: Account, tmp_path: Path
) -> None:
    out = tmp_path / "out"
    out.mkdir()
    (out / "Pulumi.dev.yaml").write_text("config: {}\n")
    (out / "__main__.py").write_text("old\n")
    env = cloudflare_env(account.server.base_url)
    refused = cfes("export", "--account-id", ACCOUNT_ID, "--output", out, env=env)
    assert_one_line_error(refused, f"--output {out} is not empty", "--force")
    assert account.requests == [], "refused before reading anything"
    assert (out / "__main__.py").read_text() == "old\n"
    done = cfes("export", "--account-id", ACCOUNT_ID, "--output", out, "--force", "--type", "TrustedDomain", env=env)
    assert done.returncode == 0, done.stderr
    assert sorted(p.name for p in out.iterdir()) == [
        "Pulumi.dev.yaml",
        "Pulumi.yaml",
        "__main__.py",
        "requirements.txt",
    ]
    assert (out / "Pulumi.dev.yaml").read_text() == "config: {}\n"
    assert "email_security.TrustedDomain(" in (out / "__main__.py").read_text()
    assert "email_security.AllowPolicy(" not in (out / "__main__.py").read_text()
    assert [p.name for p in tmp_path.iterdir()] == ["out"]


@pytest.mark.parametrize(
    ("args", "expected"),
    [
        (["--format", "xml"], "--format 'xml' is not a format: use python or yaml"),
        (["--type", "Nope"], "unknown settings type 'Nope': use one of AllowPolicy (allow_policies),"),
        (["--page-size", "0"], "--page-size 0 is out of range: use 1 to 1000"),
        (["--page-size", "x"], "--page-size 'x' is not a whole number"),
        (["--sets", "--format", "yaml"], "--sets goes with --format python"),
        (["--account-id", "abc"], "--account-id 'abc' is not a Cloudflare account id"),
    ],
)
def test_a_bad_export_option_is_one_line(args: list[str], expected: str, tmp_path: Path) -> None:
    env = cloudflare_env("http://127.0.0.1:9/client/v4", CLOUDFLARE_ACCOUNT_ID=ACCOUNT_ID)
    assert_one_line_error(cfes("export", "--output", tmp_path / "out", *args, env=env), expected)
    assert list(tmp_path.iterdir()) == []


def test_no_account_is_one_line(tmp_path: Path) -> None:
    env = cloudflare_env("http://127.0.0.1:9/client/v4")
    assert_one_line_error(cfes("export", "--output", tmp_path / "out", env=env), "no account given: pass --account-id")


def test_export_reads_an_embedded_emulator_and_warns_of_an_empty_account(tmp_path: Path) -> None:
    state = StateFile(tmp_path / "emulator.json")
    seeded = seed_state(state, ACCOUNT_ID, {"trusted_domains": [bodies("trusted_domains", 1)]})
    env = cloudflare_env(f"embedded:{tmp_path / 'emulator.json'}")
    done = cfes("export", "--account-id", ACCOUNT_ID, "--output", tmp_path / "out", env=env)
    assert done.returncode == 0, done.stderr
    assert f'adopt_id="{seeded[0][1]["id"]}"' in (tmp_path / "out" / "__main__.py").read_text()
    assert "Warning" not in done.stderr
    other = cfes("export", "--account-id", OTHER_ACCOUNT_ID, "--output", tmp_path / "other", env=env)
    assert other.returncode == 0, other.stderr
    assert f"Warning: account {OTHER_ACCOUNT_ID} has no entries of these types" in other.stderr


def test_progress_on_a_terminal_is_a_bar_per_type_with_counts() -> None:
    screen = io.StringIO()
    console = Console(file=screen, force_terminal=True, width=120)
    spec, empty = SETTINGS_TYPES["AllowPolicy"], SETTINGS_TYPES["TrustedDomain"]
    with RichProgress(console) as progress:
        progress.started(spec)
        progress.advanced(spec, 1000)
        progress.finished(spec, 1234, 2)
        progress.started(empty)
        progress.finished(empty, 0, 1)
    shown = screen.getvalue()
    assert "AllowPolicy (allow_policies), 2 pages" in shown and "1234 entries" in shown
    assert "TrustedDomain (trusted_domains), 1 page" in shown and "0 entries" in shown and "1 entries" not in shown


def test_list_without_credentials_is_one_line(account: Account) -> None:
    env = cloudflare_env(account.server.base_url)
    del env["CLOUDFLARE_API_TOKEN"]
    done = cfes("list", "trusted_domains", "--account-id", ACCOUNT_ID, env=env)
    assert_one_line_error(done, "No Cloudflare credentials found")
