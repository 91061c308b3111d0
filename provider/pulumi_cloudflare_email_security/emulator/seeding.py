"""Seeding an emulator state file with entries, as if someone had made them in the dashboard.

A seed file is JSON: an object that maps API collection names (``allow_policies``, ``domains``, ...) to
lists of request bodies, exactly as ``POST /accounts/{account_id}/email-security/settings/{collection}``
takes them. Every entry is validated as the API would; a seed is applied whole or not at all.
"""

from __future__ import annotations

import json
import os
from collections.abc import Mapping, Sequence
from pathlib import Path
from typing import Any

from . import openapi
from .failures import ApiFailure
from .persistence import StateFile

Seed = dict[str, list[dict[str, Any]]]


class SeedError(ValueError):
    """A seed file that cannot be read or applied; the message names the file and what is wrong."""


def load_seed(path: str | os.PathLike[str]) -> Seed:
    """Read and shape-check a seed file."""
    where = Path(path)
    try:
        document = json.loads(where.read_bytes())
    except OSError as exc:
        raise SeedError(f"cannot read seed file {where}: {exc.strerror or exc}") from None
    except ValueError as exc:
        raise SeedError(f"seed file {where} is not valid JSON: {exc}") from None
    known = sorted(openapi.collections())
    if not isinstance(document, dict):
        raise SeedError(f"seed file {where} must hold a JSON object mapping collections ({', '.join(known)}) to lists")
    for collection, entries in document.items():
        if collection not in known:
            raise SeedError(f"seed file {where}: unknown collection {collection!r}; use one of {', '.join(known)}")
        if not isinstance(entries, list) or not all(isinstance(entry, dict) for entry in entries):
            raise SeedError(f"seed file {where}: {collection} must be a list of objects (API request bodies)")
    return document


def seed_state(
    state: StateFile, account_id: str, seed: Mapping[str, Sequence[Mapping[str, Any]]]
) -> list[tuple[str, dict[str, Any]]]:
    """Create every entry of ``seed`` in ``account_id``; return ``(collection, entry)`` pairs in order.

    All or nothing: when the API would refuse one entry, nothing is kept and :class:`SeedError` names it.
    """
    created: list[tuple[str, dict[str, Any]]] = []
    with state.transaction():
        backend = state.backend
        before = backend.snapshot()
        at = ""
        try:
            for collection, entries in seed.items():
                for position, body in enumerate(entries):
                    at = f"{collection}[{position}]"
                    try:
                        created.append((collection, backend.create(account_id, collection, dict(body))))
                    except ApiFailure as failure:
                        problems = "; ".join(message for _, message in failure.errors)
                        raise SeedError(f"{at} was refused: {problems}") from None
        except SeedError:
            backend.restore(before)
            raise
        except Exception as bug:  # the seed is undone: the error says so, not only what went wrong
            backend.restore(before)
            raise SeedError(
                f"{at}: seeding stopped on an unexpected {type(bug).__name__} ({bug}), and nothing of the seed was "
                "kept: this is a bug of the emulator; please report it with this message"
            ) from bug
        except BaseException:  # an interrupt: whatever stops the seed midway, nothing is kept
            backend.restore(before)
            raise
    return created
