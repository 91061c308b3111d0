"""Every exception class of the package pickles and copies with all it carries (issue 15.7): a Pulumi program,
an Automation API host or a worker pool that moves an error between processes gets the same error back.

The classes are found by walking the package's modules, so a new one is covered without being listed here.
"""

from __future__ import annotations

import copy
import dataclasses
import importlib
import inspect
import pickle
import pkgutil
from collections.abc import Callable
from typing import Any

import pytest

import pulumi_cloudflare_email_security as package
from pulumi_cloudflare_email_security.errors import ApiMessage, CloudflareAPIError


def exception_classes() -> list[type[BaseException]]:
    """Every exception class defined in a module of the package."""
    found: dict[str, type[BaseException]] = {}
    for module_info in pkgutil.walk_packages(package.__path__, f"{package.__name__}."):
        module = importlib.import_module(module_info.name)
        for _, cls in inspect.getmembers(module, inspect.isclass):
            if issubclass(cls, BaseException) and cls.__module__ == module.__name__:
                found[f"{cls.__module__}.{cls.__qualname__}"] = cls
    return [found[name] for name in sorted(found)]


CLASSES = exception_classes()

API_FACTS: dict[str, Any] = {
    "method": "POST",
    "path": "/accounts/023e105f4ecef8ad9ca31a8372d0c353/email-security/settings/block_senders/batch",
    "status": 429,
    "errors": [ApiMessage(10013, "Rate limited"), ApiMessage(None, "slow down")],
    "ray_id": "8a1b2c3d4e5f6789-LHR",
    "outcome_unknown": True,
    "retry_after": 2.5,
}
"""What an API error carries, by constructor argument."""
FIELDS: dict[str, Any] = {"status": 409, "errors": [(1003, "conflict")]}
"""Sample values of the fields of an exception that is a dataclass, by field name."""


def sample(cls: type[BaseException]) -> BaseException:
    """An instance of ``cls`` carrying everything its class lets it carry."""
    if issubclass(cls, CloudflareAPIError):
        takes = inspect.signature(cls).parameters
        facts = {name: value for name, value in API_FACTS.items() if name != "retry_after" or name in takes}
        error: BaseException = cls("Cloudflare answered \x1b[31m badly", **facts)
        error.add_detail("gave up after 3 tries in 2.0s")
        if hasattr(error, "deadline_passed"):
            error.deadline_passed = True
        return error
    if dataclasses.is_dataclass(cls):
        missing = [f.name for f in dataclasses.fields(cls) if f.name not in FIELDS]
        assert not missing, f"add sample values for {cls.__name__}'s fields {missing} to FIELDS"
        return cls(**{f.name: FIELDS[f.name] for f in dataclasses.fields(cls)})
    return cls("entries[3].pattern: must be an email address (got 'a\u202eb')")


def test_the_walk_finds_the_package_errors() -> None:
    names = {cls.__name__ for cls in CLASSES}
    assert {"NotFoundError", "TransportError", "RateLimitedError", "UnexpectedError", "InputError"} <= names
    assert {"ExportError", "SeedError", "StateFileError", "ApiFailure"} <= names


@pytest.mark.parametrize(
    "again",
    [lambda e: pickle.loads(pickle.dumps(e)), copy.copy, copy.deepcopy],
    ids=["pickle", "copy", "deepcopy"],
)
@pytest.mark.parametrize("cls", CLASSES, ids=[cls.__qualname__ for cls in CLASSES])
def test_every_error_pickles_and_copies_whole(
    cls: type[BaseException], again: Callable[[BaseException], BaseException]
) -> None:
    error = sample(cls)
    restored = again(error)
    assert type(restored) is cls
    assert str(restored) == str(error) and restored.args == error.args
    assert vars(restored) == vars(error)
    if isinstance(error, CloudflareAPIError):
        assert isinstance(restored, CloudflareAPIError)
        assert (restored.status, restored.codes, restored.ray_id) == (429, (10013,), API_FACTS["ray_id"])
        assert restored.outcome_unknown and restored.details == ["gave up after 3 tries in 2.0s"]
        assert (restored.method, restored.path, restored.summary) == (error.method, error.path, error.summary)
        restored.add_detail("checked again")  # the copy renders as its own; the original stays as it was
        assert str(restored).endswith("; checked again") and "checked again" not in str(error)
        assert error.details == ["gave up after 3 tries in 2.0s"]
