"""kopf's wait for its indexes at startup, made linear in the number of objects.

Until every index has seen every listed object, kopf holds back the other handlers: each
object's worker waits on one ToggleSet that holds a toggle per object not yet indexed. That set
recounts all its toggles on every check, and wakes every waiting worker on every toggle added
or dropped: quadratic in the objects listed, at best. An operator restarted among 2,000 studios
(about 12,000 watched objects) spent minutes at full CPU there, holding every listed body in
memory meanwhile (bench/README.md).

This ToggleSet counts its toggles that are on, and wakes its waiters only when its own state
flips: the same answers, kopf's interface, constant time per change.

kopf's index gate (its one ToggleSet of `all`) is an IndexGate: it holds no worker. Every
listed object's worker would wait there, with its task, queue and body, until the last index
is filled; the operator's handlers only queue keys, so they may run at once, and the work queue
starts only once the cache is complete (Cache.wait_ready), told by when_indexed() when the gate
opens.
"""

from __future__ import annotations

from collections.abc import Callable, Iterable, Iterator

from kopf._cogs.aiokits import aiotoggles


class _Member(aiotoggles.Toggle):
    """A toggle of a CountingToggleSet: shares its set's condition, as kopf's do (one per object
    would be a Condition and its deque each, some 1 KB), and tells the set when it flips."""

    def __init__(self, state: bool, *, name: str | None, owner: CountingToggleSet) -> None:
        super().__init__(state, name=name, condition=owner._condition)
        self._owner = owner

    async def turn_to(self, __state: bool) -> None:
        await self._owner._changed(turn=(self, bool(__state)))


class CountingToggleSet(aiotoggles.ToggleSet):
    def __init__(self, fn: Callable[[Iterable[bool]], bool]) -> None:
        if fn not in (all, any):
            raise ValueError(f"a ToggleSet of all or any, not {fn!r}")
        super().__init__(fn)
        self._members: set[_Member] = set()
        self._on = 0

    def __repr__(self) -> str:
        return repr(self._members)

    def __len__(self) -> int:
        return len(self._members)

    def __iter__(self) -> Iterator[aiotoggles.Toggle]:
        return iter(self._members)

    def __contains__(self, toggle: object) -> bool:
        return toggle in self._members

    def is_on(self) -> bool:
        if self._fn is all:
            return self._on == len(self._members)
        return self._on > 0

    async def wait_for(self, __state: bool) -> None:
        async with self._condition:
            await self._condition.wait_for(lambda: self.is_on() == bool(__state))

    async def _changed(self, *, turn: tuple[_Member, bool] | None = None, add: Iterable[_Member] = (),
                       drop: Iterable[_Member] = ()) -> None:
        async with self._condition:
            was = self.is_on()
            on = 0
            if turn is not None:
                toggle, state = turn
                if toggle in self._members:
                    on += state - toggle.is_on()
                if toggle._state != state:
                    toggle._state = state
                    # Its own waiters (rare: kopf turns only the few toggles of its pause set).
                    self._condition.notify_all()
            for toggle in add:
                if toggle not in self._members:
                    self._members.add(toggle)
                    on += toggle.is_on()
            for toggle in drop:
                if toggle in self._members:
                    self._members.discard(toggle)
                    on -= toggle.is_on()
            self._on += on
            if self.is_on() != was:
                self._condition.notify_all()

    async def make_toggle(self, __val: bool = False, *, name: str | None = None) -> aiotoggles.Toggle:
        toggle = _Member(__val, name=name, owner=self)
        await self._changed(add=[toggle])
        return toggle

    async def drop_toggle(self, toggle: aiotoggles.Toggle) -> None:
        await self.drop_toggles([toggle])

    async def drop_toggles(self, toggles: Iterable[aiotoggles.Toggle]) -> None:
        await self._changed(drop=[t for t in toggles if isinstance(t, _Member)])


_opened: list[Callable[[], None]] = []


def when_indexed(callback: Callable[[], None]) -> Callable[[], None]:
    """Calls back when kopf's indexes have all seen their first listing; returns the unsubscriber."""
    _opened.append(callback)
    return lambda: _opened.remove(callback)


class IndexGate(CountingToggleSet):
    def __init__(self, fn: Callable[[Iterable[bool]], bool]) -> None:
        super().__init__(fn)
        self._was_closed = False

    async def wait_for(self, __state: bool) -> None:
        if not __state:
            await super().wait_for(__state)

    async def _changed(self, **changes: object) -> None:
        await super()._changed(**changes)  # type: ignore[arg-type]
        if not self.is_on():
            self._was_closed = True
        elif self._was_closed:
            # Opened for real: an empty set is open before kopf adds its first toggle.
            self._was_closed = False
            for callback in list(_opened):
                callback()


def toggle_set(fn: Callable[[Iterable[bool]], bool]) -> aiotoggles.ToggleSet:
    return IndexGate(fn) if fn is all else CountingToggleSet(fn)


def install() -> None:
    aiotoggles.ToggleSet = toggle_set  # type: ignore[misc, assignment]
