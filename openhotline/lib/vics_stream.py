"""Event-level machinery of the VICS reader: bounded value building and a token guard.

Kept apart from `vics` so that the record logic there reads on its own.
"""

from __future__ import annotations

import re
from collections.abc import Iterator
from dataclasses import dataclass
from typing import IO, Any

from openhotline.lib.vics_fields import VicsError

READ_SIZE = 64 * 1024
SCALARS = frozenset({"string", "number", "boolean", "null"})
_UNESCAPED_QUOTE_RE = re.compile(rb'(?<!\\)"')


@dataclass(frozen=True)
class Limits:
    max_string: int
    max_values: int
    max_depth: int


def map_keys(events: Iterator[tuple[str, Any]]) -> Iterator[str]:
    """Yield each key of the map being read; the caller consumes the key's value."""
    for event, value in events:
        if event == "end_map":
            return
        if event != "map_key":  # pragma: no cover - the parser guarantees this
            raise VicsError(f"Unexpected {event} inside an object")
        yield value


def skip(events: Iterator[tuple[str, Any]], first: str) -> None:
    """Consume one value whose first event was `first`, building nothing."""
    if first in SCALARS:
        return
    depth = 1
    for event, _ in events:
        if event in ("start_map", "start_array"):
            depth += 1
        elif event in ("end_map", "end_array"):
            depth -= 1
            if depth == 0:
                return


class Builder:
    """Builds one field's value from events, within the reader's limits.

    On a breach it notes the problem, consumes the rest of the value and returns None,
    so the record is rejected and reading goes on at the next field.
    """

    def __init__(self, limits: Limits, problems: list[str]) -> None:
        self._limits = limits
        self._problems = problems

    def build(self, events: Iterator[tuple[str, Any]], event: str, value: Any) -> Any:
        if event in SCALARS:
            if type(value) is str and len(value) > self._limits.max_string:
                return self._scalar(value)
            return value
        root: Any = {} if event == "start_map" else []
        stack: list[Any] = [root]
        key: str | None = None
        count = 0
        for event, value in events:
            if event == "map_key":
                key = value.lower()
                continue
            if event in ("end_map", "end_array"):
                stack.pop()
                if not stack:
                    return root
                continue
            count += 1
            item: Any = {} if event == "start_map" else [] if event == "start_array" else None
            if event in SCALARS:
                item = self._scalar(value)
            container = stack[-1]
            if isinstance(container, dict):
                container[key] = item
            else:
                container.append(item)
            if event in ("start_map", "start_array"):
                stack.append(item)
            if len(stack) > self._limits.max_depth or count > self._limits.max_values:
                limit = "nested too deeply" if count <= self._limits.max_values else "too large"
                self._problems.append(f"a field is {limit}")
                for _ in stack:  # consume the rest of each container still open
                    skip(events, "start_map")
                return None
        return root  # pragma: no cover - the parser ends a truncated file with an error

    def _scalar(self, value: Any) -> Any:
        if isinstance(value, str) and len(value) > self._limits.max_string:
            self._problems.append(
                f"a text is {len(value)} characters long (limit {self._limits.max_string})"
            )
            return None
        return value


class TokenGuard:
    """Sits between the file and the parser: strips a BOM, refuses huge tokens.

    A string or number longer than `limit` bytes must be refused before the parser
    holds it whole. Outside strings, a VICS file has a quote every few bytes, so it
    is enough to track the bytes since the last quote that is not escaped. (Runs of
    brackets that long are refused too: they are hostile as well.)
    """

    def __init__(self, file: IO[bytes], limit: int) -> None:
        self._file = file
        self._limit = limit
        self._since_quote = 0
        self.offset = 0
        self.empty = True

    def read(self, size: int = -1) -> bytes:
        size = READ_SIZE if size < 0 else min(size, READ_SIZE)
        chunk = self._file.read(size)
        if not isinstance(chunk, bytes):
            raise VicsError("Open the VICS file in binary mode")
        if self.offset == 0:
            if chunk[:2] in (b"\xff\xfe", b"\xfe\xff"):
                raise VicsError("The file is UTF-16; VICS files are UTF-8")
            if chunk.startswith(b"\xef\xbb\xbf"):
                chunk = chunk[3:]
                self.offset = 3
        self._check(chunk)
        self.offset += len(chunk)
        self.empty = self.empty and not chunk.strip()
        return chunk

    def _check(self, chunk: bytes) -> None:
        first = _UNESCAPED_QUOTE_RE.search(chunk)
        if first is None:
            self._since_quote += len(chunk)
        else:
            self._since_quote += first.start()
            if self._since_quote <= self._limit:
                last = chunk.rfind(b'"')
                while last > 0 and chunk[last - 1] == 0x5C:  # an escaped quote
                    last = chunk.rfind(b'"', 0, last)
                self._since_quote = len(chunk) - last - 1
        if self._since_quote > self._limit:
            raise VicsError(
                f"Near byte {self.offset}: a string, number or nesting is longer than "
                f"{self._limit} bytes; the file is damaged or hostile"
            )
