"""``cfes``: the command line for people. ``cfes emulator`` serves the settings API emulator over HTTP;
``cfes seed`` fills an emulator state file with entries to adopt or look up; ``cfes export`` writes an
account's settings as a Pulumi project that adopts them; ``cfes list`` shows the entries of one type.

Every failure a user can cause is one line on stderr that names the problem and the fix, with exit code 2.
Nothing that is not the program's own text is interpreted on the way to the terminal: values from the account,
the API's messages and echoed option values are printed without rich markup or emoji codes, and with every
character that is not printable escaped (:func:`.formats.escaped`), in the table and in JSON alike.
"""

from __future__ import annotations

import contextlib
import errno
import inspect
import json
import signal
import threading
from collections.abc import Callable
from pathlib import Path
from typing import Annotated, Any, NoReturn

import typer
from rich.console import Console
from rich.table import Table
from rich.text import Text

from .client import MAX_PER_PAGE, CloudflareClient
from .emulator import Backend, EmulatorServer, Fault, FaultPlan, Router, StateFile
from .emulator.seeding import SeedError, load_seed, seed_state
from .errors import CloudflareAPIError, ConfigurationError
from .export import (
    FORMATS,
    ExportError,
    PlainProgress,
    RichProgress,
    entries_count,
    export_account,
    one_line,
    package_version,
    settings_type_named,
    summary,
)
from .formats import ACCOUNT_ID_RE, escaped, shown
from .lookup_filters import FILTERS, LOOKUPS, filters_of
from .registry import SETTINGS_TYPES
from .tuning import CLI_RETRY_DEADLINE, ENV_PREFIX, command_line_retries, positive_seconds

NATURAL_KEYS = {spec.collection: spec.natural_key for spec in SETTINGS_TYPES.values()}
"""What names an entry to people, per API collection: the first field of its settings type's natural key."""
DEFAULT_PORT = 9787
"""Not 8787, which ``wrangler dev`` listens on by default: both can run side by side."""
MAX_PORT = 65535

app = typer.Typer(
    help="Cloudflare Email Security settings as code: tools around the Pulumi provider.",
    rich_markup_mode=None,
    pretty_exceptions_enable=False,
    no_args_is_help=True,
)
console = Console(stderr=True, highlight=False, soft_wrap=True)
LOOPBACK_HOSTS = ("127.0.0.1", "::1", "localhost")


def say(message: str) -> None:
    """Print a line on stderr as it reads: no markup, no emoji codes, nothing a terminal would act on."""
    console.print(Text(escaped(message)))


def fail(message: str) -> NoReturn:
    """Print one error line on stderr and exit with code 2."""
    say(f"cfes: error: {message}")
    raise typer.Exit(2)


def _print_version(requested: bool) -> None:
    if requested:
        print(f"cfes {package_version() or 'unknown'}")
        raise typer.Exit()


@app.callback()
def main(
    show_version: Annotated[
        bool,
        typer.Option("--version", help="Print the version and exit.", callback=_print_version, is_eager=True),
    ] = False,
) -> None:
    """Cloudflare Email Security settings as code."""


def _open_state(path: Path, backend: Backend | None = None) -> StateFile:
    try:
        return StateFile(path, backend, origin="--state").open()
    except ConfigurationError as exc:
        fail(str(exc))


def _whole_number(option: str, text: str) -> int:
    try:
        return int(text)
    except ValueError:
        fail(f"{option} {text!r} is not a whole number")


def _listen(router: Router, host: str, port: int) -> EmulatorServer:
    if not 0 <= port <= MAX_PORT:
        fail(f"--port {port} is out of range: use 1 to {MAX_PORT}, or --port 0 to pick a free one")
    try:
        return EmulatorServer(router, host=host, port=port)
    except OSError as exc:
        if exc.errno == errno.EADDRINUSE:
            fail(f"port {port} on {host} is already in use: stop what listens there, or pass --port 0 for a free one")
        if exc.errno == errno.EACCES:
            fail(f"not allowed to listen on port {port} of {host}: use a port above 1023, or --port 0")
        fail(f"cannot listen on {host}:{port} ({exc.strerror or exc}): check --host, or use --host 127.0.0.1")


@app.command()
def emulator(
    host: Annotated[
        str, typer.Option(metavar="HOST", help="Address to listen on (keep it on loopback).")
    ] = "127.0.0.1",
    port: Annotated[str, typer.Option(metavar="PORT", help="Port to listen on; 0 picks a free one.")] = str(
        DEFAULT_PORT
    ),
    state: Annotated[
        Path | None,
        typer.Option(
            metavar="PATH",
            help="JSON file that keeps the emulator's entries across restarts (e.g. .pulumi/emulator.json).",
        ),
    ] = None,
    token: Annotated[
        list[str] | None,
        typer.Option(
            metavar="TOKEN",
            help="Accept only these API tokens; email + API key authentication is then refused. "
            "Repeatable. Default: any non-empty token, or any email + key pair.",
        ),
    ] = None,
    fault: Annotated[
        list[str] | None,
        typer.Option(
            metavar="FAULT",
            help="Inject a fault: KIND[:key=value,...], KIND one of 429, 500, 502, 503, latency, reset_before, "
            "reset_after; keys collection, method, rate, count, retry_after, latency. Repeatable. "
            "Example: --fault 429:rate=0.1,retry_after=2 --fault reset_after:method=POST,count=3",
        ),
    ] = None,
    fault_seed: Annotated[
        str | None, typer.Option(metavar="SEED", help="Seed for the fault dice (a whole number), to replay a run.")
    ] = None,
    normalise: Annotated[
        bool,
        typer.Option(
            help="Answer like an API that normalises what it stores: lists sorted, domain names and email "
            "addresses lower-cased. For checking that a program's previews stay quiet."
        ),
    ] = False,
) -> None:
    """Serve the Email Security settings API emulator under /client/v4 until interrupted."""
    listen_port = _whole_number("--port", port)
    seed = None if fault_seed is None else _whole_number("--fault-seed", fault_seed)
    try:
        faults = FaultPlan([Fault.parse(text) for text in fault or []], seed=seed)
    except ValueError as exc:
        fail(f"--fault: {exc}")
    if token is not None and not all(t.strip() for t in token):
        fail("--token must not be empty: give the API token to accept, or leave --token out to accept any")
    backend = Backend(normalise=normalise)
    around = _open_state(state, backend).transaction if state is not None else None
    router = Router(backend, accepted_tokens=token, around=around, faults=faults)
    stop = threading.Event()
    signal.signal(signal.SIGTERM, lambda *_: stop.set())
    with _listen(router, host, listen_port) as server:
        say("Email Security emulator listening; point clients at it with:")
        print(f"export CLOUDFLARE_BASE_URL={server.base_url}", flush=True)
        if host not in LOOPBACK_HOSTS and not host.startswith("127."):
            say(f"Warning: listening on {host}, so other machines may reach the emulator.")
        if state is not None:
            say(f"State is kept in {state}")
        else:
            say("Entries live in memory and are lost when the emulator stops (--state keeps them).")
        for active in faults.faults:
            say(f"Injecting fault: {active}")
        with contextlib.suppress(KeyboardInterrupt):
            stop.wait()
    if faults.faults:
        say(f"{faults.total_fired} of {faults.requests} requests were hit by injected faults.")
    say("Emulator stopped.")


@app.command()
def seed(
    seed_file: Annotated[
        Path,
        typer.Argument(
            metavar="SEED_FILE",
            help="JSON object mapping API collections (allow_policies, domains, ...) to request bodies.",
        ),
    ],
    state: Annotated[
        Path,
        typer.Option(
            metavar="PATH", help="The emulator state file to add the entries to (make up uses .pulumi/emulator.json)."
        ),
    ],
    account_id: Annotated[
        str,
        typer.Option(
            envvar="CLOUDFLARE_ACCOUNT_ID",
            metavar="ID",
            help="The account to create the entries in: 32 hexadecimal characters.",
        ),
    ],
) -> None:
    """Create entries in an emulator state file, as if made in the dashboard: something to adopt or look up.

    Prints one line per entry: its collection, its id, and what names it (the first field of its natural key).
    """
    if not ACCOUNT_ID_RE.fullmatch(account_id):
        fail(f"--account-id {shown(account_id)} is not a Cloudflare account id: use its 32 hexadecimal characters")
    try:
        document = load_seed(seed_file)
    except SeedError as exc:
        fail(str(exc))
    state_file = _open_state(state)
    try:
        created = seed_state(state_file, account_id, document)
    except SeedError as exc:
        fail(f"{seed_file}: {exc}; nothing was added")
    except ConfigurationError as exc:
        fail(str(exc))
    for collection, entry in created:
        label = " ".join(str(entry.get(k)) for k in NATURAL_KEYS[collection][:1])
        print(f"{collection}\t{escaped(str(entry['id']))}\t{escaped(label)}")
    say(f"Added {entries_count(len(created))} to account {account_id} in {state}.")


ACCOUNT_OPTION = typer.Option(
    envvar="CLOUDFLARE_ACCOUNT_ID", metavar="ID", help="The account: 32 hexadecimal characters.", show_default=False
)


def _account(account_id: str | None) -> str:
    if not account_id:
        fail("no account given: pass --account-id, or set CLOUDFLARE_ACCOUNT_ID")
    if not ACCOUNT_ID_RE.fullmatch(account_id):
        fail(f"--account-id {shown(account_id)} is not a Cloudflare account id: use its 32 hexadecimal characters")
    return account_id


RETRY_DEADLINE_OPTION = typer.Option(
    "--retry-deadline",
    metavar="SECONDS",
    help=f"Give up on a request, retries included, after this many seconds. Default: {ENV_PREFIX}RETRY_DEADLINE "
    f"if set, else {CLI_RETRY_DEADLINE:g}.",
    show_default=False,
)


def _retry_deadline(text: str | None) -> float | None:
    if text is None:
        return None
    try:
        return positive_seconds("--retry-deadline", text)
    except ConfigurationError as exc:
        fail(str(exc))


def _retrying(line: str) -> None:
    """Say on stderr, in one line, that a request failed and when it is tried again."""
    say(f"cfes: {line}")


def _settings_type(name: str) -> Any:
    try:
        return settings_type_named(name, SETTINGS_TYPES)
    except ExportError as exc:
        fail(str(exc))


@app.command()
def export(
    account_id: Annotated[str | None, ACCOUNT_OPTION] = None,
    type_names: Annotated[
        list[str] | None,
        typer.Option(
            "--type",
            metavar="NAME",
            help="Export only this settings type: a resource class (AllowPolicy) or an API collection "
            "(allow_policies), any letter case. Repeatable. Default: every type.",
            show_default=False,
        ),
    ] = None,
    output_format: Annotated[
        str,
        typer.Option(
            "--format",
            metavar="FORMAT",
            help="python: a Pulumi project (Pulumi.yaml, __main__.py, requirements.txt); yaml: the policy.yaml "
            "that examples/policy-from-yaml reads.",
        ),
    ] = "python",
    sets: Annotated[
        bool,
        typer.Option(
            "--sets",
            help="Declare one set resource per type (adopting by natural key) rather than one resource per entry.",
        ),
    ] = False,
    output: Annotated[
        Path, typer.Option(metavar="DIR", help="The directory to write into: new or empty, unless --force.")
    ] = Path("email-security"),
    force: Annotated[
        bool,
        typer.Option(
            "--force", help="Write into a non-empty DIR, replacing the files the export writes (others stay)."
        ),
    ] = False,
    page_size: Annotated[
        str, typer.Option(metavar="N", help="Entries per list request, 1 to 1000 (the API's most).")
    ] = str(MAX_PER_PAGE),
    retry_deadline: Annotated[str | None, RETRY_DEADLINE_OPTION] = None,
) -> None:
    """Write an account's existing settings as a Pulumi program that adopts every entry.

    Reads every page of each type with the provider's credentials, base URL, rate budget and retries (each
    retry said on stderr; giving up sooner than the provider, see --retry-deadline). The first `pulumi up` of
    the program takes the entries over without creating or changing any.
    """
    account = _account(account_id)
    deadline = _retry_deadline(retry_deadline)
    if output_format not in FORMATS:
        fail(f"--format {shown(output_format)} is not a format: use {' or '.join(FORMATS)}")
    if sets and output_format != "python":
        fail(f"--sets goes with --format python: {output_format} declares one resource per entry")
    per_page = _whole_number("--page-size", page_size)
    if not 1 <= per_page <= MAX_PER_PAGE:
        fail(f"--page-size {per_page} is out of range: use 1 to {MAX_PER_PAGE}")
    specs = list(SETTINGS_TYPES.values())
    if type_names:
        chosen = {_settings_type(name).resource_name for name in type_names}
        specs = [spec for spec in specs if spec.resource_name in chosen]
    try:
        progress = RichProgress(console) if console.is_terminal else contextlib.nullcontext(PlainProgress(console))
        with command_line_retries(deadline, _retrying), progress as reporter:
            client = CloudflareClient()
            plans, files = export_account(
                client,
                account,
                specs,
                reporter,
                output=output,
                form=output_format,
                sets=sets,
                force=force,
                per_page=per_page,
            )
    except (ExportError, ConfigurationError) as exc:
        fail(one_line(exc))
    for line in summary(account, plans, output, files, output_format):
        say(line)


UNBOUNDED_WIDTH = 100_000


def _cell(value: Any) -> Text:
    if value is None:
        return Text("")
    if isinstance(value, list):
        return Text(", ".join(escaped(str(v)) for v in value))
    if isinstance(value, bool):
        return Text("true" if value else "false")
    return Text(escaped(str(value)))


def _json_escape(char: str) -> str:
    return json.dumps(char)[1:-1]  # \u escapes, a surrogate pair past the first plane


def json_text(value: Any) -> str:
    """``value`` as indented JSON that reads back as it is: unicode as it is, except that every character
    that is not printable is a ``\\u`` escape (json.dumps leaves C1 controls, line separators and bidi
    controls as they are)."""
    return escaped(json.dumps(value, indent=2, ensure_ascii=False), {"\n": "\n"}, escape=_json_escape)


def list_entries(
    type_name: str, account_id: str | None, as_json: bool, retry_deadline: str | None = None, **filters: Any
) -> None:
    """Print an account's entries of one settings type (every page), as a table or as JSON.

    TYPE is a resource class (AllowPolicy) or an API collection (allow_policies), any letter case. The
    filters are the lookups': each applies to the types whose lookup takes it. Each retry is said on stderr.
    """
    spec = _settings_type(type_name)
    collection = spec.collection
    given = {}
    for name, value in filters.items():
        if value is None or value == []:
            continue
        try:
            given[name] = FILTERS[name].value_for(collection, value)
        except ValueError as exc:
            fail(str(exc))
    account = _account(account_id)
    deadline = _retry_deadline(retry_deadline)
    try:
        with command_line_retries(deadline, _retrying):
            entries = LOOKUPS[collection](account, **given)
    except ConfigurationError as exc:
        fail(one_line(exc))
    except CloudflareAPIError as exc:
        fail(f"cannot list {collection} of account {account}: {' '.join(str(exc).split())}")
    if as_json:
        print(json_text([entry.model_dump(mode="json") for entry in entries]))
        return
    columns = ["id", *spec.fields, *spec.api_managed, "modified_at"]
    table = Table(title=Text(f"{spec.resource_name} ({collection}) of account {account}"), title_justify="left")
    for column in columns:
        table.add_column(column, overflow="fold")
    for entry in entries:
        table.add_row(*(_cell(getattr(entry, column, None)) for column in columns))
    out = Console(highlight=False)
    if not out.is_terminal:
        out.width = UNBOUNDED_WIDTH  # a file or a pipe gets every value whole, one line per entry
    out.print(table)
    takes = ", ".join(f.option for f in filters_of(collection)) or "none"
    say(f"{entries_count(len(entries))}. Filters of {collection}: {takes}.")


def _filter_parameter(name: str) -> inspect.Parameter:
    spec = FILTERS[name]
    by_choices: dict[tuple[str, ...] | None, list[str]] = {}
    for collection, allowed in sorted(spec.choices.items()):
        by_choices.setdefault(allowed, []).append(collection)
    takers = "; ".join(
        ", ".join(collections) + (f" ({'|'.join(allowed)})" if allowed else "")
        for allowed, collections in by_choices.items()
    )
    if spec.kind == "flag":
        option = typer.Option(f"{spec.option}/--no-{spec.option[2:]}", help=f"Filter of {takers}.", show_default=False)
        annotation: Any = Annotated[bool | None, option]
    elif spec.kind == "values":
        option = typer.Option(spec.option, metavar="VALUE", help=f"Filter of {takers}; repeatable.", show_default=False)
        annotation = Annotated[list[str] | None, option]
    else:
        option = typer.Option(spec.option, metavar="VALUE", help=f"Filter of {takers}.", show_default=False)
        annotation = Annotated[str | None, option]
    return inspect.Parameter(name, inspect.Parameter.KEYWORD_ONLY, default=None, annotation=annotation)


def _list_command() -> Callable[..., None]:
    """``list_entries`` with an option for every filter of the lookups (typer reads ``__signature__``)."""
    keyword = inspect.Parameter.KEYWORD_ONLY

    def command(**params: Any) -> None:
        positional = [params.pop(name) for name in ("type_name", "account_id", "as_json", "retry_deadline")]
        list_entries(*positional, **params)

    fixed = [
        inspect.Parameter(
            "type_name",
            keyword,
            annotation=Annotated[str, typer.Argument(metavar="TYPE", help="A resource class or an API collection.")],
        ),
        inspect.Parameter("account_id", keyword, default=None, annotation=Annotated[str | None, ACCOUNT_OPTION]),
        inspect.Parameter(
            "as_json",
            keyword,
            default=False,
            annotation=Annotated[bool, typer.Option("--json", help="Print the entries as a JSON array.")],
        ),
        inspect.Parameter(
            "retry_deadline", keyword, default=None, annotation=Annotated[str | None, RETRY_DEADLINE_OPTION]
        ),
    ]
    command.__signature__ = inspect.Signature([*fixed, *map(_filter_parameter, FILTERS)])  # type: ignore[attr-defined]
    command.__doc__ = list_entries.__doc__
    return command


app.command("list")(_list_command())
