"""A raw TCP server on a free loopback port for tests that need to misbehave below HTTP (trickle an answer,
hold requests): it accepts connections on a thread, hands each to :meth:`LoopbackServer.serve` on a thread
of its own, and is stopped, its threads joined, on leaving the ``with`` block."""

from __future__ import annotations

import socket
import threading
from collections.abc import Callable
from typing import Any


class LoopbackServer:
    """Subclasses answer one connection in :meth:`serve`; ``connections`` counts those accepted."""

    def __init__(self, backlog: int = 16) -> None:
        self.listener = socket.create_server(("127.0.0.1", 0), backlog=backlog)
        self.listener.settimeout(0.1)
        self.stopping = threading.Event()
        self.threads: list[threading.Thread] = []
        self.connections = 0

    @property
    def base_url(self) -> str:
        return f"http://127.0.0.1:{self.listener.getsockname()[1]}/client/v4"

    def serve(self, connection: socket.socket) -> None:
        raise NotImplementedError

    def __enter__(self) -> Any:
        self._spawn(self._accept)
        return self

    def __exit__(self, *exc: object) -> None:
        self.stopping.set()
        for thread in self.threads:
            thread.join(timeout=5)
        self.listener.close()

    def _spawn(self, target: Callable[..., None], *args: Any) -> None:
        thread = threading.Thread(target=target, args=args, daemon=True)
        self.threads.append(thread)
        thread.start()

    def _accept(self) -> None:
        while not self.stopping.is_set():
            try:
                connection, _ = self.listener.accept()
            except TimeoutError:
                continue
            except OSError:
                return
            self.connections += 1
            self._spawn(self.serve, connection)
