"""``cfes``: the command line for people. ``cfes emulator`` serves the settings API emulator over HTTP."""

from __future__ import annotations

import contextlib
import signal
import threading
from pathlib import Path
from typing import Annotated

import typer
from rich.console import Console

from .emulator import EmulatorServer, Fault, FaultPlan, Router, StateFile

app = typer.Typer(help="Cloudflare Email Security settings as code: tools around the Pulumi provider.")
console = Console(stderr=True)


@app.callback()
def main() -> None:
    """Cloudflare Email Security settings as code."""


@app.command()
def emulator(
    host: Annotated[str, typer.Option(help="Address to listen on (keep it on loopback).")] = "127.0.0.1",
    port: Annotated[int, typer.Option(help="Port to listen on; 0 picks a free one.")] = 8787,
    state: Annotated[
        Path | None, typer.Option(help="JSON file that keeps the emulator's entries across restarts.")
    ] = None,
    token: Annotated[
        list[str] | None, typer.Option(help="Accept only these API tokens (default: any non-empty one).")
    ] = None,
    fault: Annotated[
        list[str] | None,
        typer.Option(
            help="Inject a fault: KIND[:key=value,...], KIND one of 429, 500, 502, 503, latency, reset_before, "
            "reset_after; keys collection, method, rate, count, retry_after, latency. Repeatable. "
            "Example: --fault 429:rate=0.1,retry_after=2 --fault reset_after:method=POST,count=3"
        ),
    ] = None,
    fault_seed: Annotated[int | None, typer.Option(help="Seed for the fault dice, to replay a run.")] = None,
) -> None:
    """Serve the Email Security settings API emulator under /client/v4 until interrupted."""
    try:
        faults = FaultPlan([Fault.parse(text) for text in fault or []], seed=fault_seed)
    except ValueError as exc:
        raise typer.BadParameter(str(exc), param_hint="--fault") from None
    if state is not None:
        state_file = StateFile(state)
        router = Router(state_file.backend, accepted_tokens=token, around=state_file.transaction, faults=faults)
    else:
        router = Router(accepted_tokens=token, faults=faults)
    stop = threading.Event()
    signal.signal(signal.SIGTERM, lambda *_: stop.set())
    with EmulatorServer(router, host=host, port=port) as server:
        console.print("Email Security emulator listening; point clients at it with:")
        print(f"export CLOUDFLARE_BASE_URL={server.base_url}", flush=True)
        if state is not None:
            console.print(f"State is kept in {state}", highlight=False)
        for active in faults.faults:
            console.print(f"Injecting fault: {active}", highlight=False)
        with contextlib.suppress(KeyboardInterrupt):
            stop.wait()
    if faults.faults:
        console.print(f"{faults.total_fired} of {faults.requests} requests were hit by injected faults.")
    console.print("Emulator stopped.")
