"""Reading the bench cluster's audit log (writes only; bench/audit-policy.yaml) as it grows."""

from __future__ import annotations

import asyncio
import contextlib
import itertools
import json
import pathlib
from collections import Counter
from collections.abc import Iterator, Sequence

from .stats import audit_writes, milestones


class AuditLog:
    def __init__(self, path: pathlib.Path):
        self.path = path
        self._offset = 0

    def _new_lines(self) -> list[str]:
        if not self.path.exists():
            return []
        if self.path.stat().st_size < self._offset:
            self._offset = 0  # rotated
        with self.path.open("rb") as f:
            f.seek(self._offset)
            data = f.read()
        end = data.rfind(b"\n") + 1  # a partly written last line waits for the next read
        self._offset += end
        return data[:end].decode(errors="replace").splitlines()

    async def quiesce(self, user_agents: Sequence[str], quiet: float = 2.0, limit: float = 60.0) -> float:
        """Waits until no writes from `user_agents` arrived for `quiet` seconds (at most `limit`)."""
        self._new_lines()
        waited = idle = 0.0
        while idle < quiet and waited < limit:
            await asyncio.sleep(0.5)
            waited += 0.5
            busy = any(json.loads(line).get("userAgent", "").startswith(tuple(user_agents))
                       for line in self._new_lines() if line.startswith("{"))
            idle = 0.0 if busy else idle + 0.5
        return waited

    @contextlib.contextmanager
    def _lines(self) -> Iterator[Iterator[str]]:
        """Every line logged so far: kube-apiserver rotates its audit log at 100 MB (its default,
        --audit-log-maxsize), which 5,000 studios pass, into audit-<time>.log files next to it."""
        rotated = sorted(self.path.parent.glob(f"{self.path.stem}-*{self.path.suffix}"))
        with contextlib.ExitStack() as stack:
            files = [stack.enter_context(p.open(errors="replace")) for p in [*rotated, self.path] if p.exists()]
            yield itertools.chain.from_iterable(files)

    def writes(self, user_agents: Sequence[str], start: str, end: str, namespaces: str = "") -> Counter:
        with self._lines() as lines:
            return audit_writes(lines, user_agents, start, end, namespaces)

    def milestones(self, namespaces: str, user_agents: Sequence[str], start: str, end: str) -> dict:
        with self._lines() as lines:
            return milestones(lines, namespaces, user_agents, start, end)
