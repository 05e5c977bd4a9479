"""Pure parts of studioctl: tables, ages, details, durations and argument parsing."""

from __future__ import annotations

import argparse
import datetime

import pytest

from studio_operator.cli import build_parser
from studio_operator.cli.common import parse_duration
from studio_operator.cli.output import age, as_list, clean, details, section, table

NOW = datetime.datetime(2026, 1, 2, 12, 0, 0, tzinfo=datetime.UTC)


def test_table_aligns_columns_and_marks_empty_cells():
    out = table(["NAME", "STATE", "READY"], [["alice", "Running", "True"], ["bob-long-name", None, False]])
    assert out.splitlines() == [
        "NAME            STATE     READY",
        "alice           Running   True",
        "bob-long-name   <none>    false",
    ]


@pytest.mark.parametrize(
    ("seconds", "expected"),
    [(0, "0s"), (59, "59s"), (119, "119s"), (120, "2m"), (185, "3m5s"), (600, "10m"), (3 * 3600 - 1, "179m"),
     (3 * 3600, "3h"), (5 * 3600 + 120, "5h2m"), (30 * 3600, "30h"), (50 * 3600, "2d2h"), (10 * 86400, "10d")],
)
def test_age_reads_like_kubectl(seconds, expected):
    assert age(NOW - datetime.timedelta(seconds=seconds), NOW) == expected


def test_age_of_a_timestamp_string_and_of_nothing():
    assert age("2026-01-02T11:59:00Z", NOW) == "60s"
    assert age(None, NOW) == "<none>"
    assert age("2026-01-02T12:00:10Z", NOW) == "0s"  # a clock a little ahead is not negative


def test_details_align_values_and_sections_indent():
    assert details([("Name", "a"), ("Display name", None)]) == "Name:         a\nDisplay name: <none>"
    assert section("Members", "KIND  NAME\nUser  bob") == "Members:\n  KIND  NAME\n  User  bob"
    assert section("Conditions", "") == "Conditions:\n  <none>"


def test_json_output_drops_managed_fields_and_wraps_lists():
    obj = {"kind": "Workspace", "metadata": {"name": "a", "managedFields": [{"manager": "x"}]}}
    assert clean(obj) == {"kind": "Workspace", "metadata": {"name": "a"}}
    assert as_list([obj]) == {"apiVersion": "v1", "kind": "List", "items": [clean(obj)], "metadata": {}}


@pytest.mark.parametrize(("text", "seconds"), [("90", 90), ("90s", 90), ("5m", 300), ("1h30m", 5400), ("1.5s", 1.5)])
def test_durations(text, seconds):
    assert parse_duration(text) == seconds


@pytest.mark.parametrize("text", ["", "soon", "5x", "m", "-3s"])
def test_bad_durations_are_usage_errors(text):
    with pytest.raises(argparse.ArgumentTypeError, match="invalid duration"):
        parse_duration(text)


def test_global_flags_work_before_and_after_the_subcommand():
    parser = build_parser()
    before = parser.parse_args(["-n", "team-a", "-o", "json", "studio", "stop", "x"])
    after = parser.parse_args(["studio", "stop", "x", "-n", "team-a", "-o", "json"])
    for args in (before, after):
        assert (args.namespace, args.output, args.name, args.wait, args.timeout) == ("team-a", "json", "x", False, 300.0)
    waited = parser.parse_args(["studio", "stop", "x", "--wait", "--timeout", "2m"])
    assert waited.wait and waited.timeout == 120 and waited.output == "table" and waited.namespace is None


def test_the_operator_namespace_is_studio_system_unless_given(monkeypatch):
    """Where `template logs` looks for build pods and doctor for the Deployment."""
    monkeypatch.delenv("STUDIO_OPERATOR_NAMESPACE", raising=False)
    assert build_parser().parse_args(["template", "logs", "t"]).operator_namespace == "studio-system"
    for argv in (["--operator-namespace", "ops", "template", "logs", "t"], ["template", "logs", "t", "--operator-namespace", "ops"],
                 ["doctor", "--operator-namespace", "ops"]):
        assert build_parser().parse_args(argv).operator_namespace == "ops"
    monkeypatch.setenv("STUDIO_OPERATOR_NAMESPACE", "from-env")
    assert build_parser().parse_args(["template", "logs", "t"]).operator_namespace == "from-env"
    assert build_parser().parse_args(["template", "logs", "t", "--operator-namespace", "ops"]).operator_namespace == "ops"


@pytest.mark.parametrize("argv", [[], ["ws"], ["studio", "list", "--state", "Sleeping"], ["ws", "add-user", "w"],
                                  ["template", "logs"], ["template", "logs", "t", "--tail", "-1"],
                                  ["doctor", "--stuck-after", "later"], ["-o", "wide", "ws", "list"]])
def test_usage_errors_exit_2(argv, capsys):
    with pytest.raises(SystemExit) as exit_info:
        build_parser().parse_args(argv)
    assert exit_info.value.code == 2
    assert "usage:" in capsys.readouterr().err
