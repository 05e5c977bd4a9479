"""RFC 3339 times as the API server's date-time format accepts them."""

import datetime

import pytest

from studio_operator.conditions import parse_time

UTC = datetime.UTC


@pytest.mark.parametrize(("text", "expected"), [
    ("2026-01-01T00:05:00Z", datetime.datetime(2026, 1, 1, 0, 5, tzinfo=UTC)),
    ("2026-01-01t00:05:00z", datetime.datetime(2026, 1, 1, 0, 5, tzinfo=UTC)),
    ("2026-01-01T00:05:00.123456789Z", datetime.datetime(2026, 1, 1, 0, 5, 0, 123456, tzinfo=UTC)),
    ("2026-01-01T01:05:00.5+01:00", datetime.datetime(2026, 1, 1, 0, 5, 0, 500000, tzinfo=UTC)),
])
def test_rfc3339_times_parse_whatever_their_case_and_precision(text, expected):
    assert parse_time(text) == expected
