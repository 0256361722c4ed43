"""An embedded PostgreSQL (pgserver) in the data directory, for single-machine deployments."""

from __future__ import annotations

import logging
import time
from pathlib import Path

import pgserver

logger = logging.getLogger(__name__)


class EmbeddedPostgres:
    """A PostgreSQL server whose data lives in data_dir/pg; start() returns an asyncpg URL."""

    def __init__(self, data_dir: Path) -> None:
        self.pgdata = Path(data_dir) / "pg"
        self._server: pgserver.PostgresServer | None = None

    @property
    def url(self) -> str:
        """The connection URL of the running server."""
        if self._server is None:
            raise RuntimeError("embedded PostgreSQL is not running")
        return self._server.get_uri()

    def start(self) -> str:
        """Starts the server (running initdb the first time) and returns its URL."""
        if self._server is None:
            self.pgdata.parent.mkdir(parents=True, exist_ok=True)
            began = time.monotonic()
            self._server = pgserver.get_server(self.pgdata, cleanup_mode="stop")
            logger.info(
                "embedded postgres ready",
                extra={"start_s": round(time.monotonic() - began, 3)},
            )
        return self.url

    def stop(self) -> None:
        """Stops the server if this process started it; the data stays on disk."""
        server, self._server = self._server, None
        if server is not None:
            server.cleanup()

    def __enter__(self) -> EmbeddedPostgres:
        self.start()
        return self

    def __exit__(self, *exc_info: object) -> None:
        self.stop()
