"""Register resources under ``pulumi.runtime.set_mocks`` and capture what reaches the engine."""

from __future__ import annotations

from collections.abc import Callable
from typing import Any

import pulumi


class RecordingMocks(pulumi.runtime.Mocks):
    """Mocks that record every registered resource's type and inputs."""

    def __init__(self) -> None:
        self.resources: dict[str, dict[str, Any]] = {}
        self.types: dict[str, str] = {}

    def new_resource(self, args: pulumi.runtime.MockResourceArgs) -> tuple[str, dict[str, Any]]:
        self.resources[args.name] = dict(args.inputs)
        self.types[args.name] = args.typ
        return f"{args.name}-id", dict(args.inputs)

    def call(self, args: pulumi.runtime.MockCallArgs) -> dict[str, Any]:
        return {}


def register(program: Callable[[], Any], *, config: dict[str, str] | None = None) -> RecordingMocks:
    """Run ``program`` under recording mocks and wait for every registration to finish."""
    mocks = RecordingMocks()
    pulumi.runtime.set_mocks(mocks, project="test", stack="test", preview=False)
    if config is not None:
        pulumi.runtime.set_all_config(config)

    @pulumi.runtime.test
    def run() -> Any:
        outputs = program()
        return pulumi.Output.all(*outputs) if outputs else pulumi.Output.from_input(None)

    run()
    return mocks
