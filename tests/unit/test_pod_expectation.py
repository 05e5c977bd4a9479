"""A pod the operator created is waited for, not created again, until the watch shows it or a
few seconds pass."""

from __future__ import annotations

import types

from studio_operator.studios import reconcile

KEY = ("ns", "s")


def test_expected_until_seen_or_lapsed(monkeypatch) -> None:
    ctrl = types.SimpleNamespace(memo={})
    clock = [100.0]
    monkeypatch.setattr(reconcile.time, "monotonic", lambda: clock[0])
    assert reconcile._pod_expected_in(ctrl, KEY, seen=False) is None  # nothing created

    reconcile._pods_created(ctrl)[KEY] = clock[0] + reconcile.POD_EXPECTATION
    clock[0] += 2
    assert reconcile._pod_expected_in(ctrl, KEY, seen=False) == reconcile.POD_EXPECTATION - 2

    clock[0] += reconcile.POD_EXPECTATION  # lapsed: create again (a 409 if it exists after all)
    assert reconcile._pod_expected_in(ctrl, KEY, seen=False) is None
    assert KEY not in reconcile._pods_created(ctrl)


def test_seen_ends_the_wait() -> None:
    ctrl = types.SimpleNamespace(memo={})
    reconcile._pods_created(ctrl)[KEY] = reconcile.time.monotonic() + 60
    assert reconcile._pod_expected_in(ctrl, KEY, seen=True) is None
    assert reconcile._pods_created(ctrl) == {}
