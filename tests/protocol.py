"""Drive ``python -m pulumi.dynamic`` over gRPC the way the Pulumi engine does.

The Pulumi CLI starts exactly this process for dynamic providers, reads the port it prints, and calls the
ResourceProvider service with property bags serialised by the SDK. Doing the same here tests the path
``pulumi up`` takes, including the pickled provider and the worker threads.
"""

from __future__ import annotations

import asyncio
import os
import subprocess
import sys
import threading
from dataclasses import dataclass, field
from typing import Any

import grpc
from google.protobuf import struct_pb2
from pulumi.runtime import rpc
from pulumi.runtime.proto import provider_pb2, provider_pb2_grpc

UNKNOWN = rpc.UNKNOWN


def to_struct(props: dict[str, Any]) -> struct_pb2.Struct:
    """Serialise a property bag as the SDK does for the engine."""
    loop = asyncio.new_event_loop()
    try:
        return loop.run_until_complete(rpc.serialize_properties(props, {}))
    finally:
        loop.close()


def from_struct(struct: struct_pb2.Struct) -> dict[str, Any]:
    """Deserialise a property bag, keeping unknowns as the sentinel."""
    return dict(rpc.deserialize_properties(struct, keep_unknowns=True))


@dataclass
class CheckOutcome:
    inputs: dict[str, Any]
    failures: list[tuple[str, str]]


@dataclass
class DiffOutcome:
    changes: str
    replaces: list[str]
    delete_before_replace: bool


@dataclass
class ProviderProcess:
    """A running ``python -m pulumi.dynamic`` and a gRPC stub to it."""

    env: dict[str, str]
    type_token: str = "pulumi-python:dynamic/cloudflare-email-security:AllowPolicy"
    python: str = sys.executable
    """The interpreter to run the provider with (another virtualenv's, to test an installed wheel)."""
    process: subprocess.Popen[bytes] | None = None
    output: list[str] = field(default_factory=list)
    bags: list[dict[str, Any]] = field(default_factory=list)
    errors: list[str] = field(default_factory=list)

    def start(self) -> ProviderProcess:
        self.process = subprocess.Popen(
            [self.python, "-u", "-m", "pulumi.dynamic"],
            stdout=subprocess.PIPE,
            stderr=subprocess.PIPE,
            env=self.env,
        )
        assert self.process.stdout is not None and self.process.stderr is not None
        port = int(self.process.stdout.readline().decode().strip())
        threading.Thread(target=self._drain, args=(self.process.stderr,), daemon=True).start()
        threading.Thread(target=self._drain, args=(self.process.stdout,), daemon=True).start()
        self.channel = grpc.insecure_channel(f"127.0.0.1:{port}")
        grpc.channel_ready_future(self.channel).result(timeout=20)
        self.stub = provider_pb2_grpc.ResourceProviderStub(self.channel)
        return self

    def _drain(self, stream: Any) -> None:
        for line in iter(stream.readline, b""):
            self.output.append(line.decode(errors="replace"))

    def stop(self) -> None:
        if self.process is not None:
            self.channel.close()
            self.process.terminate()
            try:
                self.process.wait(timeout=10)
            except subprocess.TimeoutExpired:
                self.process.kill()
                self.process.wait()

    def __enter__(self) -> ProviderProcess:
        return self.start()

    def __exit__(self, *exc: object) -> None:
        self.stop()

    def urn(self, name: str) -> str:
        return f"urn:pulumi:test::proj::{self.type_token}::{name}"

    def _call(self, method: str, request: Any) -> Any:
        try:
            return getattr(self.stub, method)(request, timeout=120)
        except grpc.RpcError as exc:
            self.errors.append(exc.details() or "")
            raise

    def _seen(self, struct: struct_pb2.Struct) -> dict[str, Any]:
        bag = from_struct(struct)
        self.bags.append(bag)
        return bag

    # --- the ResourceProvider calls ----------------------------------------------------------------

    def configure(self, config: dict[str, Any]) -> None:
        self._call("Configure", provider_pb2.ConfigureRequest(args=to_struct(config), acceptSecrets=False))

    def check(self, name: str, news: dict[str, Any], olds: dict[str, Any] | None = None) -> CheckOutcome:
        reply = self._call(
            "Check",
            provider_pb2.CheckRequest(urn=self.urn(name), olds=to_struct(olds or {}), news=to_struct(news)),
        )
        return CheckOutcome(self._seen(reply.inputs), [(f.property, f.reason) for f in reply.failures])

    def diff(self, name: str, id_: str, olds: dict[str, Any], news: dict[str, Any]) -> DiffOutcome:
        reply = self._call(
            "Diff",
            provider_pb2.DiffRequest(id=id_, urn=self.urn(name), olds=to_struct(olds), news=to_struct(news)),
        )
        changes = provider_pb2.DiffResponse.DiffChanges.Name(reply.changes)
        return DiffOutcome(changes, list(reply.replaces), reply.deleteBeforeReplace)

    def create(self, name: str, props: dict[str, Any]) -> tuple[str, dict[str, Any]]:
        reply = self._call("Create", provider_pb2.CreateRequest(urn=self.urn(name), properties=to_struct(props)))
        return reply.id, self._seen(reply.properties)

    def read(self, name: str, id_: str, props: dict[str, Any]) -> tuple[str, dict[str, Any]]:
        reply = self._call(
            "Read",
            provider_pb2.ReadRequest(id=id_, urn=self.urn(name), properties=to_struct(props)),
        )
        return reply.id, self._seen(reply.properties)

    def update(self, name: str, id_: str, olds: dict[str, Any], news: dict[str, Any]) -> dict[str, Any]:
        reply = self._call(
            "Update",
            provider_pb2.UpdateRequest(id=id_, urn=self.urn(name), olds=to_struct(olds), news=to_struct(news)),
        )
        return self._seen(reply.properties)

    def delete(self, name: str, id_: str, props: dict[str, Any]) -> None:
        self._call("Delete", provider_pb2.DeleteRequest(id=id_, urn=self.urn(name), properties=to_struct(props)))


def provider_env(base_url: str, **extra: str) -> dict[str, str]:
    """The environment of a provider process: this one's, less Cloudflare settings, plus ``extra``."""
    env = {k: v for k, v in os.environ.items() if not k.startswith("CLOUDFLARE_")}
    env.update(
        CLOUDFLARE_EMAIL_SECURITY_RETRY_DEADLINE="3",
        CLOUDFLARE_EMAIL_SECURITY_RETRY_BASE_DELAY="0.01",
        CLOUDFLARE_EMAIL_SECURITY_RATE_LIMIT="1000000/1",
        CLOUDFLARE_EMAIL_SECURITY_LOG_LEVEL="DEBUG",  # so the canary checks read every log line
    )
    env["CLOUDFLARE_BASE_URL"] = base_url
    env["PYTHONUNBUFFERED"] = "1"
    env.update(extra)
    return env


def assert_no_canary(process: ProviderProcess, canary: str) -> None:
    """The token appears in no property bag, log line or error message of the provider process."""
    assert process.bags, "the test saw no property bags"
    for bag in process.bags:
        assert canary not in repr(bag)
    assert canary not in "".join(process.output)
    for error in process.errors:
        assert canary not in error
