"""The ToggleSet kopf waits on at startup: kopf's answers, without waking every waiter per object."""

from __future__ import annotations

import asyncio
import random

import pytest
from kopf._cogs.aiokits import aiotoggles

from studio_operator import index_readiness
from studio_operator.index_readiness import CountingToggleSet, IndexGate

KOPF_TOGGLESET = aiotoggles.ToggleSet


@pytest.mark.asyncio
@pytest.mark.parametrize("fn", [all, any])
async def test_same_answers_as_kopfs_toggleset(fn) -> None:
    rng = random.Random(7)
    ours, theirs = CountingToggleSet(fn), KOPF_TOGGLESET(fn)
    pairs: list[tuple[aiotoggles.Toggle, aiotoggles.Toggle]] = []
    for step in range(2000):
        op = rng.choice(["make", "make", "drop", "turn", "drop-many"]) if pairs else "make"
        if op == "make":
            state = rng.random() < 0.5
            pairs.append((await ours.make_toggle(state, name=str(step)), await theirs.make_toggle(state)))
        elif op == "drop":
            a, b = pairs.pop(rng.randrange(len(pairs)))
            await ours.drop_toggle(a)
            await theirs.drop_toggle(b)
            await ours.drop_toggle(a)  # twice: a no-op, as in kopf
        elif op == "turn":
            a, b = rng.choice(pairs)
            state = rng.random() < 0.5
            await a.turn_to(state)
            await b.turn_to(state)
            assert a.is_on() is state
        else:
            dropped = [pairs.pop(rng.randrange(len(pairs))) for _ in range(min(3, len(pairs)))]
            await ours.drop_toggles([a for a, _ in dropped])
            await theirs.drop_toggles([b for _, b in dropped])
        assert (ours.is_on(), len(ours)) == (theirs.is_on(), len(theirs)), f"step {step}: {op}"


@pytest.mark.asyncio
async def test_a_dropped_toggle_turned_later_does_not_count() -> None:
    toggles = CountingToggleSet(all)
    toggle = await toggles.make_toggle(False)
    await toggles.drop_toggle(toggle)
    await toggle.turn_to(True)
    await toggle.turn_to(False)
    assert toggles.is_on() and len(toggles) == 0


@pytest.mark.asyncio
async def test_waiters_wake_once_when_the_last_object_is_indexed() -> None:
    """kopf's set woke every waiting worker for every toggle made or dropped: n objects, n waiters,
    n squared wake-ups. Here the waiters are notified once, when the whole set turns on."""
    toggles = CountingToggleSet(all)
    notified = 0
    notify_all = toggles._condition.notify_all

    def counting() -> None:
        nonlocal notified
        notified += 1
        notify_all()

    toggles._condition.notify_all = counting  # type: ignore[method-assign]
    blocker = await toggles.make_toggle(False)
    objects = [await toggles.make_toggle(False) for _ in range(500)]
    waiters = [asyncio.create_task(toggles.wait_for(True)) for _ in range(500)]
    for toggle in objects:
        await toggles.drop_toggle(toggle)
    await asyncio.sleep(0)
    assert not any(w.done() for w in waiters)
    assert notified == 1  # the first toggle turned the empty set off
    await toggles.drop_toggle(blocker)
    await asyncio.wait_for(asyncio.gather(*waiters), 10)
    assert notified == 2


@pytest.mark.asyncio
async def test_a_toggles_own_waiters_wake_when_it_turns() -> None:
    toggles = CountingToggleSet(any)
    toggle = await toggles.make_toggle(False)
    waiter = asyncio.create_task(toggle.wait_for(True))
    set_waiter = asyncio.create_task(toggles.wait_for(True))
    await asyncio.sleep(0)
    await toggle.turn_to(True)
    await asyncio.wait_for(asyncio.gather(waiter, set_waiter), 10)


def test_only_all_or_any() -> None:
    with pytest.raises(ValueError, match="all or any"):
        CountingToggleSet(lambda states: True)


def test_install_gives_kopf_the_gate_and_the_counting_set(monkeypatch) -> None:
    from kopf._core.reactor import orchestration

    monkeypatch.setattr(aiotoggles, "ToggleSet", KOPF_TOGGLESET)
    index_readiness.install()
    # kopf looks the class up at startup (orchestration, running), through the module.
    assert type(orchestration.aiotoggles.ToggleSet(all)) is IndexGate
    assert type(orchestration.aiotoggles.ToggleSet(any)) is CountingToggleSet


@pytest.mark.asyncio
async def test_the_gate_holds_no_worker_and_says_when_it_opens(monkeypatch) -> None:
    opened: list[str] = []
    monkeypatch.setattr(index_readiness, "_opened", [])
    stop = index_readiness.when_indexed(lambda: opened.append("indexed"))
    gate = IndexGate(all)
    await gate.make_toggle(True, name="an empty set is open: not yet")
    assert opened == []
    blocker = await gate.make_toggle(False, name="orchestration blocker")
    objects = [await gate.make_toggle(False) for _ in range(3)]
    # A worker passes at once, where kopf's set would hold it until every toggle is dropped.
    await asyncio.wait_for(gate.wait_for(True), 1)
    await gate.drop_toggles(objects)
    assert opened == []
    await gate.drop_toggle(blocker)
    assert opened == ["indexed"] and gate.is_on()
    stop()
    await gate.drop_toggle(await gate.make_toggle(False))
    assert opened == ["indexed"]


@pytest.mark.asyncio
async def test_the_gate_still_holds_who_waits_for_it_to_close() -> None:
    gate = IndexGate(all)
    waiter = asyncio.create_task(gate.wait_for(False))
    await asyncio.sleep(0)
    assert not waiter.done()
    toggle = await gate.make_toggle(False)
    await asyncio.wait_for(waiter, 1)
    await gate.drop_toggle(toggle)
