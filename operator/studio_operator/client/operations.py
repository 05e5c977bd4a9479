"""Futures for changes the operator carries out: the SDK writes spec, then waits for status."""

from __future__ import annotations

import dataclasses
import time
from collections.abc import Callable
from typing import Any, Generic, TypeVar

from ..conditions import get_condition
from .errors import NotFound, OperationFailed, WaitTimeout

T = TypeVar("T")


@dataclasses.dataclass(frozen=True)
class Progress(Generic[T]):
    """What one look at the object says: done (with the result) or how far along."""

    done: bool
    text: str
    result: T | None = None


class Operation(Generic[T]):
    """A requested change; `wait_for_result()` returns once the operator reports it done.

    `judge` gets the object as read now (None once it is gone) and returns a Progress, or
    raises OperationFailed when the change cannot happen. The object is polled rather than
    watched: a poll survives dropped watches and needs no resourceVersion bookkeeping, and
    state changes take seconds.
    """

    def __init__(self, what: str, read: Callable[[], dict[str, Any]], judge: Callable[[dict[str, Any] | None], Progress[T]]):
        self.what = what
        self._read = read
        self._judge = judge

    def __repr__(self) -> str:
        return f"<Operation {self.what}>"

    def poll(self) -> Progress[T]:
        """One look at the object."""
        try:
            obj = self._read()
        except NotFound:
            obj = None
        return self._judge(obj)

    def done(self) -> bool:
        return self.poll().done

    def wait_for_result(
        self,
        timeout: float | None = 300,
        on_progress: Callable[[str], None] | None = None,
        interval: float = 0.5,
    ) -> T | None:
        """Blocks until done and returns the result (e.g. the new status).

        Raises WaitTimeout after `timeout` seconds (None waits forever) and OperationFailed
        when the operator reports that the change failed. `on_progress` is called with a short
        text each time the reported progress changes.
        """
        deadline = None if timeout is None else time.monotonic() + timeout
        last = None
        while True:
            progress = self.poll()
            if on_progress and progress.text != last:
                on_progress(progress.text)
            last = progress.text
            if progress.done:
                return progress.result
            if deadline is not None and time.monotonic() >= deadline:
                raise WaitTimeout(f"timed out after {timeout:g}s waiting for {self.what} (now: {progress.text})")
            time.sleep(interval if deadline is None else max(0.0, min(interval, deadline - time.monotonic())))


def _summary(status: dict[str, Any]) -> str:
    if status.get("message"):
        return status["message"]
    return (get_condition(status.get("conditions"), "Ready") or {}).get("message", "")


def status_reached(
    what: str,
    field: str,
    target: str,
    generation: int,
    result: Callable[[dict[str, Any]], T],
    also: Callable[[dict[str, Any]], bool] | None = None,
) -> Callable[[dict[str, Any] | None], Progress[T]]:
    """A judge: done when status.<field> is target for the given generation (and `also` holds).

    Until status.observedGeneration reaches the generation our write produced, the status
    describes the object before the change and proves nothing either way.
    """

    def judge(obj: dict[str, Any] | None) -> Progress[T]:
        if obj is None:
            raise OperationFailed(f"{what} was deleted")
        status = obj.get("status") or {}
        value = status.get(field) or "Pending"
        message = _summary(status)
        if (status.get("observedGeneration") or 0) < generation:
            return Progress(False, f"{value} (the operator has not acted on the change yet)")
        if value == target and (also is None or also(status)):
            return Progress(True, value, result(status))
        if value == "Failed":
            raise OperationFailed(f"{what} is Failed: {message}" if message else f"{what} is Failed")
        return Progress(False, f"{value}: {message}" if message else value)

    return judge


def gone(what: str) -> Callable[[dict[str, Any] | None], Progress[None]]:
    """A judge: done when the object no longer exists."""

    def judge(obj: dict[str, Any] | None) -> Progress[None]:
        if obj is None:
            return Progress(True, "deleted")
        finalizers = obj["metadata"].get("finalizers") or []
        return Progress(False, f"deleting, waiting for {', '.join(finalizers)}" if finalizers else "deleting")

    return judge
