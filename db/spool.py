"""Records kept on disk while the database is away, to be replayed in order once it is back."""

from __future__ import annotations

import json
import logging
import os
import struct
import threading
import zlib
from collections.abc import Callable
from pathlib import Path
from typing import Any, BinaryIO

logger = logging.getLogger(__name__)


class SpoolFull(Exception):
    """Appending a record would take the spool past its size limit."""


class Spool:
    """Append-only segment files of JSON records, fsync'd, read back oldest first.

    A record is a 4-byte big-endian payload length, a CRC-32 of the payload, then the payload
    (JSON). A process appends to a segment of its own, so a torn record left by a crash only
    ends that older segment. Appends may run in a worker thread, serialised by a lock; reads
    and removals come from the owner's one task, never while it appends. `name` says in logs
    whose spool it is; `default` encodes what JSON cannot (as json.dumps's default).
    """

    _HEADER = struct.Struct(">II")
    _SUFFIX = ".spool"

    def __init__(
        self, directory: Path, max_bytes: int, *, name: str, default: Callable[[Any], Any] | None = None
    ) -> None:
        self.directory = Path(directory)
        self.max_bytes = max_bytes
        self.name = name
        self._default = default
        self._segments: list[Path] = []  # oldest first
        self._sizes: dict[Path, int] = {}
        self._total_bytes = 0  # read from the event loop while a thread appends
        self._replayed_to: dict[Path, int] = {}  # replay progress made by this process
        self._writing: Path | None = None
        self._file: BinaryIO | None = None
        self._next_seq = 1
        # A cancelled owner appends from the loop's thread while a worker may still be at it.
        self._lock = threading.Lock()
        self._last_marker: object | None = None

    def open(self) -> None:
        """Finds the segments left by earlier runs."""
        self.directory.mkdir(parents=True, exist_ok=True)
        found = sorted(
            p for p in self.directory.iterdir() if p.suffix == self._SUFFIX and p.stem.isdigit()
        )
        self._segments = found
        self._sizes = {p: p.stat().st_size for p in found}
        self._total_bytes = sum(self._sizes.values())
        self._next_seq = max((int(p.stem) for p in found), default=0) + 1

    @property
    def has_pending(self) -> bool:
        return bool(self._segments)

    @property
    def size_bytes(self) -> int:
        return self._total_bytes

    def append(self, payload: Any, *, marker: object | None = None) -> int:
        """Appends one record durably; returns its size in bytes. `marker` names the record
        for was_appended()."""
        data = json.dumps(payload, default=self._default, separators=(",", ":")).encode()
        record = self._HEADER.pack(len(data), zlib.crc32(data)) + data
        with self._lock:
            self._append_record(record)
            self._last_marker = marker
        return len(record)

    def was_appended(self, marker: object) -> bool:
        """Whether the record named `marker` was the last one appended (waits for an append under way)."""
        with self._lock:
            return marker is not None and self._last_marker is marker

    def _append_record(self, record: bytes) -> None:
        if self.size_bytes + len(record) > self.max_bytes:
            raise SpoolFull
        if self._file is None:
            path = self.directory / f"{self._next_seq:012d}{self._SUFFIX}"
            self._next_seq += 1
            self._file = open(path, "ab")  # noqa: SIM115 - kept open across appends
            self._fsync_directory()
            self._writing = path
            self._segments.append(path)
            self._sizes[path] = 0
        path = self._writing
        assert path is not None
        try:
            self._file.write(record)
            self._file.flush()
            os.fsync(self._file.fileno())
        except OSError:
            # A partial record would end this segment: later appends go to a new one.
            self._close_file()
            self._set_size(path, path.stat().st_size)
            raise
        self._set_size(path, self._sizes[path] + len(record))

    def _set_size(self, path: Path, size: int) -> None:
        self._total_bytes += size - self._sizes.get(path, 0)
        self._sizes[path] = size

    def oldest(self) -> Path | None:
        return self._segments[0] if self._segments else None

    def read_next(self, segment: Path) -> tuple[Any, int] | None:
        """The next record not yet replayed (its decoded JSON) and the offset past it; None at
        the segment's end, or at a record that cannot be read (the rest is skipped)."""
        offset = self._replayed_to.get(segment, 0)
        try:
            with open(segment, "rb") as f:
                f.seek(offset)
                header = f.read(self._HEADER.size)
                if not header:
                    return None
                if len(header) == self._HEADER.size:
                    length, crc = self._HEADER.unpack(header)
                    data = f.read(length)
                    if len(data) == length and zlib.crc32(data) == crc:
                        return json.loads(data), offset + self._HEADER.size + length
        except (OSError, ValueError):
            pass
        self.skip_rest(segment, offset)
        return None

    def skip_rest(self, segment: Path, offset: int) -> None:
        """Logs that a segment ends in a record that cannot be used from `offset` on."""
        logger.warning(
            f"{self.name} spool segment ends in an unreadable record; skipping the rest",
            extra={"segment": segment.name, "offset": offset},
        )

    def mark_replayed(self, segment: Path, offset: int) -> None:
        self._replayed_to[segment] = offset

    def remove(self, segment: Path) -> None:
        """Deletes a fully replayed segment."""
        if segment == self._writing:
            self._close_file()
        self._segments.remove(segment)
        self._set_size(segment, 0)
        self._sizes.pop(segment)
        self._replayed_to.pop(segment, None)
        try:
            segment.unlink(missing_ok=True)
            self._fsync_directory()
        except OSError as exc:
            # Left for the next run to replay again, which duplicates nothing.
            logger.warning(
                f"could not delete a replayed {self.name} spool segment",
                extra={"segment": segment.name, "error": type(exc).__name__},
            )

    def close(self) -> None:
        with self._lock:
            self._close_file()

    def _close_file(self) -> None:
        file, self._file, self._writing = self._file, None, None
        if file is not None:
            file.close()

    def _fsync_directory(self) -> None:
        fd = os.open(self.directory, os.O_RDONLY)
        try:
            os.fsync(fd)
        finally:
            os.close(fd)
