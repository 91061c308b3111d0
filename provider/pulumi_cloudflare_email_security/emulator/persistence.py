"""A backend persisted to a JSON file, shared safely by threads and processes."""

from __future__ import annotations

import contextlib
import json
import os
import threading
from collections.abc import Iterator
from pathlib import Path

from filelock import FileLock

from .backend import Backend


class StateFile:
    """Keeps ``backend`` in step with ``path``: reload before a request if the file changed, save after.

    A file lock beside the state file serialises requests from every process that uses the same file, so
    the embedded emulator of one ``pulumi up`` and a ``cfes emulator --state`` server can share it.
    """

    def __init__(self, path: str | os.PathLike[str], backend: Backend | None = None) -> None:
        self.path = Path(path)
        self.backend = backend if backend is not None else Backend()
        self._file_lock = FileLock(f"{self.path}.lock")
        self._thread_lock = threading.Lock()
        self._seen: tuple[int, int] | None = None

    def _stat(self) -> tuple[int, int] | None:
        try:
            stat = self.path.stat()
        except FileNotFoundError:
            return None
        return stat.st_mtime_ns, stat.st_size

    def load(self) -> None:
        """Read the file into the backend when it changed since last seen."""
        current = self._stat()
        if current is not None and current != self._seen:
            self.backend.restore(json.loads(self.path.read_text(encoding="utf-8")))
            self._seen = current

    def save(self) -> None:
        """Write the backend to the file atomically."""
        self.path.parent.mkdir(parents=True, exist_ok=True)
        scratch = self.path.with_name(f".{self.path.name}.{os.getpid()}.tmp")
        scratch.write_text(json.dumps(self.backend.snapshot(), indent=1, sort_keys=True), encoding="utf-8")
        os.replace(scratch, self.path)
        self._seen = self._stat()

    @contextlib.contextmanager
    def transaction(self) -> Iterator[None]:
        """Hold the locks for one request: load before, save after if anything changed."""
        with self._thread_lock, self._file_lock:
            self.load()
            before = self.backend.version
            try:
                yield
            finally:
                if self.backend.version != before:
                    self.save()
