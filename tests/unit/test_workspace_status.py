"""What the workspace reads off its ResourceQuota and studios."""

import pytest

from studio_operator.workspaces.status import quota_enforced, studio_counts, usage, waiting_for_quota
from tests.unit.workspace_fixtures import quota, studio


def test_usage_uses_the_names_of_spec_quota():
    q = quota({"requests.cpu": "4", "requests.memory": "8Gi", "requests.storage": "1Ti",
               "requests.nvidia.com/gpu": "1", "count/codestudios.studio.dev": "5", "pods": "10"},
              {"requests.cpu": "1500m", "requests.memory": "2Gi", "requests.storage": "20Gi",
               "requests.nvidia.com/gpu": "0", "count/codestudios.studio.dev": "2", "pods": "2"})
    assert usage(q) == {"codeStudios": "2", "cpu": "1500m", "gpu": "0", "memory": "2Gi", "storage": "20Gi"}
    assert usage(None) == {} and usage({"spec": {"hard": {"requests.cpu": "1"}}}) == {}


@pytest.mark.parametrize("status, enforced", [
    ({}, False),
    ({"hard": {"requests.cpu": "2"}}, False),  # not counted yet
    ({"hard": {"requests.cpu": "2"}, "used": {"requests.cpu": "0"}}, True),
    ({"hard": {"requests.cpu": "2000m"}, "used": {"requests.cpu": "0"}}, True),  # same quantity
    ({"hard": {"requests.cpu": "3"}, "used": {"requests.cpu": "0"}}, False),
    ({"hard": {"requests.cpu": "2", "pods": "1"}, "used": {"requests.cpu": "0", "pods": "0"}}, False),
])
def test_quota_is_enforced_once_counted_against_the_wanted_limits(status, enforced):
    assert quota_enforced({"requests.cpu": "2"}, {"status": status}) is enforced


def test_studio_counts():
    studios = [studio("a"), studio("b", "Stopped"), studio("c", "Starting"), studio("d", None), studio("e", "Stopped")]
    assert studio_counts(studios) == {"total": 5, "running": 1, "stopped": 2}
    assert studio_counts([]) == {"total": 0, "running": 0, "stopped": 0}


def test_waiting_for_quota():
    assert waiting_for_quota(studio("w", "Failed", waiting_for_quota=True))
    assert not waiting_for_quota(studio("f", "Failed"))
