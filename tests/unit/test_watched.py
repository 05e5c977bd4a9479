"""What the operator keeps of a watched object: what its indexes and handlers read, no more."""

from __future__ import annotations

import json

from studio_operator.watched import slim


def test_managed_fields_and_kubectls_last_applied_copy_are_dropped() -> None:
    studio = {"apiVersion": "studio.dev/v1alpha1", "kind": "CodeStudio",
              "metadata": {"name": "s", "namespace": "n", "uid": "u", "generation": 3, "resourceVersion": "9",
                           "labels": {"a": "b"}, "finalizers": ["f"], "deletionTimestamp": "t",
                           "annotations": {"kubectl.kubernetes.io/last-applied-configuration": "{...}", "keep": "me"},
                           "managedFields": [{"manager": "kubectl"}], "selfLink": "/x"},
              "spec": {"template": "py"}, "status": {"state": "Running"}}
    assert slim(studio) == {
        "apiVersion": "studio.dev/v1alpha1", "kind": "CodeStudio",
        "metadata": {"name": "s", "namespace": "n", "uid": "u", "generation": 3, "resourceVersion": "9",
                     "labels": {"a": "b"}, "finalizers": ["f"], "deletionTimestamp": "t", "annotations": {"keep": "me"}},
        "spec": {"template": "py"}, "status": {"state": "Running"}}
    assert "managedFields" in studio["metadata"]  # the watch's object itself is left alone


def test_a_pods_spec_is_kept_for_its_images_only() -> None:
    pod = {"kind": "Pod", "metadata": {"name": "p"}, "status": {"phase": "Running"},
           "spec": {"containers": [{"name": "ide", "image": "py:1", "env": []}, {"name": "x", "image": "sidecar:2"}],
                    "volumes": [{"name": "home"}], "securityContext": {}}}
    assert slim(pod) == {"kind": "Pod", "metadata": {"name": "p"}, "status": {"phase": "Running"},
                         "spec": {"containers": [{"image": "py:1"}, {"image": "sidecar:2"}]}}


def test_sections_other_than_spec_and_status_are_dropped() -> None:
    role = {"kind": "Role", "metadata": {"name": "r"}, "rules": [{"verbs": ["get"]}]}
    assert slim(role) == {"kind": "Role", "metadata": {"name": "r"}}


def test_a_studio_services_spec_and_status_are_not_kept() -> None:
    service = {"kind": "Service", "metadata": {"name": "s", "annotations": {"studio.dev/spec-hash": "h"}},
               "spec": {"ports": [{"port": 8080}]}, "status": {"loadBalancer": {}}}
    assert slim(service) == {"kind": "Service", "metadata": {"name": "s", "annotations": {"studio.dev/spec-hash": "h"}}}


def test_bodies_share_their_keys_and_short_strings() -> None:
    """Each watch event is parsed on its own; kept bodies share one copy of what repeats."""
    def parsed(name: str) -> dict:
        return json.loads(json.dumps({"kind": "Pod", "metadata": {"name": name, "labels": {"app.kubernetes.io/name": "studio"}},
                                      "status": {"conditions": [{"type": "Ready", "status": "True"}], "message": "x" * 100}}))

    a, b = slim(parsed("a")), slim(parsed("b"))
    (key_a, value_a), = a["metadata"]["labels"].items()
    (key_b, value_b), = b["metadata"]["labels"].items()
    assert key_a is key_b and value_a is value_b
    assert a["status"]["conditions"][0]["status"] is b["status"]["conditions"][0]["status"]
    assert a["status"]["message"] == b["status"]["message"] and a["status"]["message"] is not b["status"]["message"]
