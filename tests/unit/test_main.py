"""`studio-operator` outlives the errors on which kopf stops: it runs kopf again after a backoff."""

from __future__ import annotations

import pytest

from studio_operator import main as main_module


def test_kopf_stopping_on_an_error_is_run_again(monkeypatch):
    runs: list[str] = []
    sleeps: list[float] = []

    async def operator(**_):
        runs.append("run")
        if len(runs) < 3:
            raise RuntimeError("Error in the watch-stream: {'code': 500}")  # as kopf's WatchingError

    monkeypatch.setattr(main_module.kopf, "operator", operator)
    monkeypatch.setattr(main_module.kopf, "configure", lambda **_: None)
    monkeypatch.setattr(main_module.time, "sleep", sleeps.append)
    main_module.main([])
    assert runs == ["run", "run", "run"]
    assert sleeps == [1, 2]  # growing, and a clean stop (a signal) ends the process


def test_a_signal_still_ends_it(monkeypatch):
    async def operator(**_):
        raise KeyboardInterrupt

    monkeypatch.setattr(main_module.kopf, "operator", operator)
    monkeypatch.setattr(main_module.kopf, "configure", lambda **_: None)
    with pytest.raises(KeyboardInterrupt):
        main_module.main([])
