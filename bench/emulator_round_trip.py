"""Round trip of the HTTP emulator against a minimal loopback HTTP server, over one keep-alive connection each.

Starts the emulator (``EmulatorServer``) and a baseline server that answers a fixed small JSON body, both on
127.0.0.1 with a free port, sends N sequential GETs to each through one persistent ``httpx.Client`` (taking
turns, so that any drift in the machine's load hits both alike) after a warm-up, and prints the median round
trips, their ratio (emulator / baseline) and the requests per second one connection sustains. It prints
figures, it asserts none: machines are noisy.

    python bench/emulator_round_trip.py [--requests N] [--warmup N]
"""

from __future__ import annotations

import argparse
import statistics
import sys
import threading
import time
from contextlib import contextmanager
from http.server import BaseHTTPRequestHandler, ThreadingHTTPServer

import httpx

from pulumi_cloudflare_email_security.emulator import EmulatorServer

ACCOUNT_ID = "023e105f4ecef8ad9ca31a8372d0c353"
LIST_PATH = f"/client/v4/accounts/{ACCOUNT_ID}/email-security/settings/allow_policies"
HEADERS = {"Authorization": "Bearer bench"}
BASELINE_BODY = b'{"success": true, "errors": [], "messages": [], "result": []}'


class BaselineHandler(BaseHTTPRequestHandler):
    """The least an HTTP/1.1 keep-alive server can do: a fixed JSON body, in one write, with Nagle off."""

    protocol_version = "HTTP/1.1"
    disable_nagle_algorithm = True

    def do_GET(self):
        head = (
            f"HTTP/1.1 200 OK\r\nContent-Type: application/json\r\nContent-Length: {len(BASELINE_BODY)}\r\n\r\n"
        ).encode()
        self.wfile.write(head + BASELINE_BODY)

    def log_message(self, format, *args):
        pass


@contextmanager
def baseline_server():
    """Serve the baseline on 127.0.0.1 (free port) in a thread; yields its origin URL; always stops it."""
    server = ThreadingHTTPServer(("127.0.0.1", 0), BaselineHandler)
    server.daemon_threads = True
    thread = threading.Thread(target=server.serve_forever, kwargs={"poll_interval": 0.1}, daemon=True)
    thread.start()
    try:
        yield f"http://127.0.0.1:{server.server_address[1]}"
    finally:
        server.shutdown()
        thread.join(timeout=10)
        server.server_close()


def round_trip(client, url):
    """Seconds for one GET; a failed request stops the bench, since its timing would mean nothing."""
    started = time.perf_counter()
    response = client.get(url)
    elapsed = time.perf_counter() - started
    if response.status_code != 200:
        sys.exit(f"{url} answered {response.status_code}: {response.text[:200]}")
    return elapsed


def report(name, samples):
    median = statistics.median(samples)
    p90 = statistics.quantiles(samples, n=10)[-1]
    print(
        f"  {name:<9} median {median * 1000:8.3f} ms   p90 {p90 * 1000:8.3f} ms   "
        f"{1 / median:8.0f} requests/s per connection (from the median), "
        f"{len(samples) / sum(samples):8.0f} (from the total)"
    )
    return median


def main(argv=None):
    parser = argparse.ArgumentParser(description=__doc__.split("\n\n")[0])
    parser.add_argument("--requests", type=int, default=500, help="timed requests to each server (default 500)")
    parser.add_argument("--warmup", type=int, default=50, help="untimed requests to each server first (default 50)")
    args = parser.parse_args(argv)
    if args.requests < 2:
        parser.error("--requests must be at least 2")

    with EmulatorServer(host="127.0.0.1", port=0) as emulator, baseline_server() as baseline:
        emulator_url = emulator.base_url.removesuffix("/client/v4") + LIST_PATH
        baseline_url = baseline + LIST_PATH
        with httpx.Client(headers=HEADERS) as client:
            for _ in range(args.warmup):
                round_trip(client, emulator_url)
                round_trip(client, baseline_url)
            emulator_samples, baseline_samples = [], []
            for _ in range(args.requests):
                emulator_samples.append(round_trip(client, emulator_url))
                baseline_samples.append(round_trip(client, baseline_url))

    print(f"{args.requests} sequential GETs to each server over one keep-alive connection ({args.warmup} warm-up)")
    emulator_median = report("emulator", emulator_samples)
    baseline_median = report("baseline", baseline_samples)
    print(f"  ratio emulator/baseline (median round trip): {emulator_median / baseline_median:.2f}")
    return 0


if __name__ == "__main__":
    sys.exit(main())
