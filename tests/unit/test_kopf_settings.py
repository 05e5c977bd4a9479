"""kopf's own API requests retry for ever: its default gives up and stops the operator."""

from __future__ import annotations

import itertools

from studio_operator.handlers import RetryForever


def test_backoffs_never_run_out_and_stay_capped():
    backoffs = RetryForever()
    first = list(itertools.islice(backoffs, 1000))
    assert len(first) == 1000 and max(first) == 20 and first[:4] == [1, 2, 5, 10]
    assert list(itertools.islice(backoffs, 3)) == [1, 2, 5]  # every request starts afresh
    assert not hasattr(backoffs, "__len__")  # kopf counts attempts only for sized backoffs
