"""A backend persisted to a JSON file, shared safely by threads and processes."""

from __future__ import annotations

import contextlib
import json
import os
import secrets
import stat
import threading
from collections.abc import Iterator, Mapping
from pathlib import Path
from typing import Any

from filelock import FileLock, Timeout

from ..errors import ConfigurationError
from .backend import Backend

_START_EMPTY = "move it aside or delete it to start with an empty emulator"
LOCK_WAIT_SECONDS = 60.0
"""How long a request waits for another process's request on the same file before giving up."""
_JSON_KINDS = {
    list: "an array",
    str: "a string",
    int: "a number",
    float: "a number",
    bool: "a boolean",
    type(None): "null",
}


class StateFileError(ConfigurationError):
    """The emulator's state file cannot be used: a bad location, unreadable or not emulator state.

    The message is one line naming the file, what is wrong and what to do. The file is never overwritten
    or reset because of it.
    """


def _kind(mode: int) -> str:
    kinds = (
        (stat.S_ISDIR, "a directory"),
        (stat.S_ISFIFO, "a named pipe"),
        (stat.S_ISCHR, "a character device"),
        (stat.S_ISBLK, "a block device"),
        (stat.S_ISSOCK, "a socket"),
    )
    return next((name for test, name in kinds if test(mode)), "not a regular file")


def _shape_problem(state: Any) -> str | None:
    """What keeps ``state`` from being a :meth:`Backend.snapshot`, if anything."""
    if not isinstance(state, dict):
        return f"it holds {_JSON_KINDS.get(type(state), 'a JSON value')}, not an object"
    accounts = state.get("accounts")
    if not isinstance(accounts, dict):
        return 'it has no "accounts" object'
    for account, collections in accounts.items():
        if not isinstance(collections, dict):
            return f'account "{account}" is not an object'
        for collection, entries in collections.items():
            if not isinstance(entries, dict) or not all(isinstance(e, dict) for e in entries.values()):
                return f'"{collection}" of account "{account}" is not an object of entry objects'
    return None


def _discard(path: Path) -> None:
    with contextlib.suppress(OSError):
        path.unlink()


class StateFile:
    """Keeps ``backend`` in step with ``path``: reload before a request if the file changed, save after.

    A file lock beside the state file serialises requests from every process that uses the same file, so
    the embedded emulator of one ``pulumi up`` and a ``cfes emulator --state`` server can share it.
    ``origin`` says where the path came from (``--state``, ``CLOUDFLARE_BASE_URL=embedded:...``), for
    error messages. Problems raise :class:`StateFileError`; call :meth:`open` to meet them at startup.
    """

    def __init__(
        self, path: str | os.PathLike[str], backend: Backend | None = None, *, origin: str | None = None
    ) -> None:
        # Resolved, so that a symlink is followed (and kept) and every user of one file shares one lock.
        self.path = Path(path).absolute().resolve()
        self.backend = backend if backend is not None else Backend()
        self.origin = origin
        self._file_lock = FileLock(f"{self.path}.lock")
        self.lock_wait = LOCK_WAIT_SECONDS
        self._thread_lock = threading.Lock()
        self._seen: bytes | None = None
        """The file's bytes as last loaded or saved (``None``: absent); the backend holds exactly them."""
        self._in_step = True
        """False when the backend may differ from ``_seen`` (a save failed or is under way), so the next
        load restores the file's state."""

    def _error(self, problem: str, fix: str) -> StateFileError:
        where = f" (from {self.origin})" if self.origin else ""
        return StateFileError(f"Emulator state file {self.path}{where} {problem}: {fix}.")

    def open(self) -> StateFile:
        """Check that the path can hold the state and load the file once, so that problems show at startup.

        The location is checked with ``stat`` and the creation of a scratch file beside it only, and only a
        regular file is read, so this cannot hang on a special file. Returns ``self``; raises
        :class:`StateFileError`.
        """
        self._check_location()
        with self._thread_lock, self._locked():
            self.load()
        return self

    def _check_location(self) -> None:
        lock = Path(f"{self.path}.lock")
        for path in (self.path, lock):
            try:
                mode = path.stat().st_mode
            except (FileNotFoundError, NotADirectoryError):
                continue
            except OSError as exc:
                raise self._error(
                    f"cannot be examined ({exc.strerror})", "name a file in a writable directory"
                ) from None
            if stat.S_ISDIR(mode) and path == self.path:
                raise self._error("is a directory", f"name a file in it instead, such as {path / 'emulator.json'}")
            if not stat.S_ISREG(mode):
                raise self._error(
                    f"cannot be used: {path.name} is {_kind(mode)}", "name a regular file in a writable directory"
                )
        parent = self.path.parent
        try:
            is_directory = stat.S_ISDIR(parent.stat().st_mode)
        except (FileNotFoundError, NotADirectoryError):
            raise self._error(f"cannot be created: its directory {parent} does not exist", "create it first") from None
        except OSError as exc:
            raise self._error(
                f"cannot be created: its directory {parent} cannot be examined ({exc.strerror})",
                "name a file in a writable directory",
            ) from None
        if not is_directory:
            raise self._error(f"cannot be created: {parent} is not a directory", "name a file in a writable directory")
        probe = parent / f".{self.path.name}.{secrets.token_hex(4)}.probe"
        try:
            os.close(os.open(probe, os.O_WRONLY | os.O_CREAT | os.O_EXCL, 0o600))
        except OSError as exc:
            # os.access trusts permission bits, which root and filesystems such as /proc do not follow
            raise self._error(
                f"cannot be written: creating files in {parent} fails ({exc.strerror})",
                "name a file in a writable directory",
            ) from None
        probe.unlink()

    def _read(self) -> bytes | None:
        try:
            # non-blocking, so that a named pipe put in the file's place cannot hang the open
            fd = os.open(self.path, os.O_RDONLY | getattr(os, "O_NONBLOCK", 0))
        except FileNotFoundError:
            return None
        except OSError as exc:
            raise self._error(f"cannot be read ({exc.strerror})", "check its permissions") from None
        with os.fdopen(fd, "rb") as file:
            mode = os.fstat(fd).st_mode
            if not stat.S_ISREG(mode):
                raise self._error(f"is {_kind(mode)}", "name a regular file in a writable directory")
            return file.read()

    def _parse(self, data: bytes) -> Mapping[str, Any]:
        if not data.strip():
            raise self._error("is empty", _START_EMPTY)
        try:
            state = json.loads(data.decode("utf-8"))
        except UnicodeDecodeError:
            raise self._error("is not UTF-8 text", _START_EMPTY) from None
        except ValueError as exc:
            raise self._error(f"is not valid JSON ({exc})", _START_EMPTY) from None
        problem = _shape_problem(state)
        if problem is not None:
            raise self._error(f"does not hold emulator state: {problem}", _START_EMPTY)
        checked: Mapping[str, Any] = state
        return checked

    def load(self) -> None:
        """Read the file into the backend when its content differs from what was last loaded or saved.

        The bytes are compared, not the modification time and size: another process's write of the same
        size within one clock tick must not be missed. An absent file, once seen, means an empty emulator.
        """
        data = self._read()
        if self._in_step and data == self._seen:
            return
        if data is None:
            self.backend.reset()
        else:
            self.backend.restore(self._parse(data))
        self._seen, self._in_step = data, True

    def save(self) -> None:
        """Write the backend to the file durably: a scratch file in the same directory, flushed and synced,
        then atomically renamed over the file, then the directory synced. A failure leaves no scratch file
        and the file as it was; the backend is then reloaded from the file on the next :meth:`load`."""
        self._in_step = False  # until the file is known to hold what the backend holds
        data = json.dumps(self.backend.snapshot(), indent=1, sort_keys=True).encode("utf-8")
        scratch = self.path.with_name(f".{self.path.name}.{secrets.token_hex(4)}.tmp")
        try:
            fd = os.open(scratch, os.O_WRONLY | os.O_CREAT | os.O_EXCL, 0o666)
            with os.fdopen(fd, "wb") as file:
                file.write(data)
                file.flush()
                os.fsync(file.fileno())
            os.replace(scratch, self.path)
        except OSError as exc:
            _discard(scratch)
            problem = f"cannot be written ({exc.strerror or exc})"
            raise self._error(problem, "check that its directory exists and is writable") from exc
        except BaseException:
            _discard(scratch)
            raise
        self._sync_directory()
        self._seen, self._in_step = data, True

    def _sync_directory(self) -> None:
        try:
            fd = os.open(self.path.parent, os.O_RDONLY | getattr(os, "O_DIRECTORY", 0))
        except OSError:
            return  # directories cannot be opened on Windows; the rename is as durable as it gets there
        try:
            with contextlib.suppress(OSError):
                os.fsync(fd)
        finally:
            os.close(fd)

    @contextlib.contextmanager
    def _locked(self) -> Iterator[None]:
        try:
            self._file_lock.acquire(timeout=self.lock_wait)
        except Timeout:
            raise self._error(
                f"stayed locked by another process for {self.lock_wait:g} s (lock file {self._file_lock.lock_file})",
                "stop the other emulator or program using it, or give this one a file of its own",
            ) from None
        try:
            yield
        finally:
            self._file_lock.release()

    @contextlib.contextmanager
    def transaction(self) -> Iterator[None]:
        """Hold the locks for one request: load before, save after if anything changed."""
        with self._thread_lock, self._locked():
            self.load()
            before = self.backend.version
            try:
                yield
            finally:
                if self.backend.version != before:
                    self.save()
