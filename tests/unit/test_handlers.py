"""The event handlers run on the event loop, which owns the work queue and the indexes."""

from __future__ import annotations

import inspect

import kopf

from studio_operator import handlers  # noqa: F401 - registers the handlers


def test_every_event_handler_is_a_coroutine():
    registered = kopf.get_default_registry()._watching.get_all_handlers()
    assert registered
    threaded = sorted({h.fn.__name__ for h in registered if not inspect.iscoroutinefunction(h.fn)})
    assert threaded == [], f"kopf would run these in threads: {threaded}"
