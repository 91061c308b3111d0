"""Register resources under ``pulumi.runtime.set_mocks`` and capture what reaches the engine."""

from __future__ import annotations

from collections.abc import Callable
from typing import Any

import pulumi
from pulumi.runtime.mocks import MockMonitor
from pulumi.runtime.settings import get_root_resource


class RecordingMocks(pulumi.runtime.Mocks):
    """Mocks that record every registered resource's type and inputs, and what the program exports."""

    def __init__(self) -> None:
        self.resources: dict[str, dict[str, Any]] = {}
        self.types: dict[str, str] = {}
        self.retained: set[str] = set()
        """Names of the resources registered with ``retain_on_delete=True``."""
        self.exports: dict[str, Any] = {}
        """The program's stack outputs, resolved."""

    def new_resource(self, args: pulumi.runtime.MockResourceArgs) -> tuple[str, dict[str, Any]]:
        self.resources[args.name] = dict(args.inputs)
        self.types[args.name] = args.typ
        return f"{args.name}-id", dict(args.inputs)

    def call(self, args: pulumi.runtime.MockCallArgs) -> dict[str, Any]:
        return {}


class RecordingMonitor(MockMonitor):
    """The mock monitor, also recording the resource options that ``Mocks.new_resource`` does not see."""

    mocks: RecordingMocks

    def RegisterResource(self, request: Any) -> Any:  # the gRPC method's name
        if request.retainOnDelete:
            self.mocks.retained.add(request.name)
        return super().RegisterResource(request)


def register(
    program: Callable[[], Any],
    *,
    config: dict[str, str] | None = None,
    project: str = "test",
    mocks: RecordingMocks | None = None,
) -> RecordingMocks:
    """Run ``program`` under recording mocks and wait for every registration and stack output to finish.

    ``project`` is the namespace a bare ``pulumi.Config()`` reads; ``mocks`` replaces the recording mocks.
    """
    mocks = RecordingMocks() if mocks is None else mocks
    pulumi.runtime.set_mocks(mocks, project=project, stack="test", preview=False, monitor=RecordingMonitor(mocks))
    if config is not None:
        pulumi.runtime.set_all_config(config)
    stack_outputs: dict[str, Any] = getattr(get_root_resource(), "outputs", {})
    stack_outputs.clear()  # the mocks keep one root stack per process: forget an earlier program's exports

    @pulumi.runtime.test
    def run() -> Any:
        outputs = program()
        exported = pulumi.Output.all(**stack_outputs).apply(mocks.exports.update) if stack_outputs else None
        return pulumi.Output.all(*outputs, exported)

    run()
    return mocks
