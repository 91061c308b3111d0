"""The package as users install it: a wheel in a fresh virtualenv, without extras.

``make test`` installs the test extras, which would hide a runtime import of a test-only package. Here the
wheel is built, installed alone into a new virtualenv, and every runtime entry point is used from there:
the import, every ``cfes`` subcommand, the HTTP and embedded emulator, resources (through
``python -m pulumi.dynamic``, as the Pulumi CLI runs them) and lookups.
"""

from __future__ import annotations

import json
import os
import subprocess
import sys
import venv
from collections.abc import Iterator
from pathlib import Path

import pytest

from .conftest import ACCOUNT_ID, CANARY
from .protocol import ProviderProcess, assert_no_canary, provider_env
from .samples import SAMPLE_INPUTS

ROOT = Path(__file__).resolve().parent.parent
TEST_ONLY = ("respx", "pytest", "hypothesis", "mypy", "ruff", "cloudflare")


def run(
    *command: str | Path, env: dict[str, str] | None = None, timeout: float = 120
) -> subprocess.CompletedProcess[str]:
    return subprocess.run([str(c) for c in command], capture_output=True, text=True, timeout=timeout, env=env)


@pytest.fixture(scope="module")
def plain(tmp_path_factory: pytest.TempPathFactory) -> Iterator[Path]:
    """The ``bin`` folder of a fresh virtualenv holding only the wheel and its runtime dependencies."""
    where = tmp_path_factory.mktemp("plain-install")
    built = run(sys.executable, "-m", "pip", "wheel", "-v", "--no-deps", "-w", where / "dist", ROOT, timeout=300)
    assert built.returncode == 0, built.stderr
    log = built.stdout + built.stderr
    for warning in ("BuildBackendWarning", "SetuptoolsDeprecationWarning", "is deprecated"):
        assert warning not in log, f"building the wheel warns: {warning}"
    (wheel,) = (where / "dist").glob("*.whl")
    venv.EnvBuilder(with_pip=True).create(where / "venv")
    bin_dir = where / "venv" / "bin"
    installed = run(bin_dir / "python", "-m", "pip", "install", "--quiet", wheel, timeout=600)
    assert installed.returncode == 0, installed.stderr
    yield bin_dir


def in_plain(plain: Path, code: str, env: dict[str, str] | None = None) -> subprocess.CompletedProcess[str]:
    environment = {k: v for k, v in os.environ.items() if not k.startswith("CLOUDFLARE_")}
    environment.update(env or {})
    return run(plain / "python", "-c", code, env=environment)


def test_no_test_only_package_is_installed(plain: Path) -> None:
    listed = run(plain / "python", "-m", "pip", "list", "--format", "json")
    names = {p["name"].lower() for p in json.loads(listed.stdout)}
    assert "pulumi-cloudflare-email-security" in names
    assert not names & set(TEST_ONLY), names & set(TEST_ONLY)


def test_the_package_imports_and_mock_cloudflare_names_the_extra(plain: Path) -> None:
    done = in_plain(
        plain,
        "import pulumi_cloudflare_email_security as es, pulumi_cloudflare_email_security.emulator as em\n"
        "print(len(es.__all__))\n"
        "try:\n    em.mock_cloudflare\nexcept ModuleNotFoundError as e:\n    print(e)\n",
    )
    assert done.returncode == 0, done.stderr
    assert "pip install 'pulumi-cloudflare-email-security[mock]'" in done.stdout


@pytest.mark.parametrize(
    "args",
    [["--version"], ["--help"], *([command, "--help"] for command in ("emulator", "seed", "export", "list"))],
)
def test_every_cfes_subcommand_runs(plain: Path, args: list[str]) -> None:
    done = run(plain / "cfes", *args)
    assert done.returncode == 0, done.stderr
    assert "Traceback" not in done.stdout + done.stderr
    if args == ["--version"]:
        assert done.stdout.startswith("cfes 0.")


def test_cfes_seed_and_the_http_emulator_share_a_state_file(plain: Path, tmp_path: Path) -> None:
    seed = tmp_path / "seed.json"
    seed.write_text(json.dumps({"url_ignore_patterns": [{"pattern": "https://sso.example/*"}]}))
    state = tmp_path / "emulator.json"
    seeded = run(plain / "cfes", "seed", seed, "--state", state, "--account-id", ACCOUNT_ID)
    assert seeded.returncode == 0, seeded.stderr
    collection, entry_id, label = seeded.stdout.strip().split("\t")
    assert (collection, label) == ("url_ignore_patterns", "https://sso.example/*")

    server = subprocess.Popen(
        [plain / "cfes", "emulator", "--port", "0", "--state", state],
        stdout=subprocess.PIPE,
        stderr=subprocess.PIPE,
        text=True,
    )
    try:
        assert server.stdout is not None
        line = server.stdout.readline().strip()
        assert line.startswith("export CLOUDFLARE_BASE_URL=http://127.0.0.1:"), line
        base_url = line.split("=", 1)[1]
        listed = in_plain(
            plain,
            "import httpx, sys\n"
            f"r = httpx.get('{base_url}/accounts/{ACCOUNT_ID}/email-security/settings/url_ignore_patterns',"
            " headers={'Authorization': 'Bearer any'})\n"
            "print([e['id'] for e in r.json()['result']])\n",
        )
        assert listed.stdout.strip() == repr([entry_id]), listed.stderr
    finally:
        server.terminate()
        assert server.wait(timeout=15) == 0


def test_resources_and_lookups_run_against_the_embedded_emulator(
    plain: Path, tmp_path: Path, registered: dict[str, dict[str, object]]
) -> None:
    """Check and Create over gRPC through the plain install's ``python -m pulumi.dynamic``, then a lookup."""
    base_url = f"embedded:{tmp_path / 'emulator.json'}"
    env = provider_env(base_url, CLOUDFLARE_API_TOKEN=CANARY)
    created: dict[str, str] = {}
    with ProviderProcess(env, python=str(plain / "python")) as provider:
        for name, news in registered.items():
            checked = provider.check(name, news)
            assert checked.failures == [], (name, checked.failures)
            created[name], outs = provider.create(name, checked.inputs)
            assert {k: outs[k] for k in SAMPLE_INPUTS[name]} == SAMPLE_INPUTS[name]
        assert_no_canary(provider, CANARY)
    looked_up = in_plain(
        plain,
        "import pulumi_cloudflare_email_security as es\n"
        f"print(*[p.id for p in es.list_allow_policies(account_id='{ACCOUNT_ID}')])\n",
        env={"CLOUDFLARE_BASE_URL": base_url, "CLOUDFLARE_API_TOKEN": "lookup-token"},
    )
    assert looked_up.returncode == 0, looked_up.stderr
    assert looked_up.stdout.split() == [created["AllowPolicy"]]


def test_cfes_list_and_export_run_from_a_plain_install(plain: Path, tmp_path: Path) -> None:
    seed, state = tmp_path / "seed.json", tmp_path / "emulator.json"
    seed.write_text(json.dumps({"url_ignore_patterns": [{"pattern": "https://sso.example/*"}]}))
    assert run(plain / "cfes", "seed", seed, "--state", state, "--account-id", ACCOUNT_ID).returncode == 0
    environment = {k: v for k, v in os.environ.items() if not k.startswith("CLOUDFLARE_")}
    environment.update(CLOUDFLARE_BASE_URL=f"embedded:{state}", CLOUDFLARE_API_TOKEN="plain-install-token")
    listed = run(plain / "cfes", "list", "url_ignore_patterns", "--account-id", ACCOUNT_ID, "--json", env=environment)
    assert listed.returncode == 0, listed.stderr
    assert [e["pattern"] for e in json.loads(listed.stdout)] == ["https://sso.example/*"]
    out = tmp_path / "exported"
    exported = run(plain / "cfes", "export", "--account-id", ACCOUNT_ID, "--output", out, env=environment)
    assert exported.returncode == 0, exported.stderr
    assert "https://sso.example/*" in (out / "__main__.py").read_text()
