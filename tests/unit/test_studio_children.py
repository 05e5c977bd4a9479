"""The desired children of a studio, built without a cluster."""

from studio_operator.studios import children as C
from studio_operator.studios.settings import resolve_settings
from tests.unit.studio_fixtures import studio, template, workspace

REF = C.StudioRef("s", "ns", "uid-1", "alice")


def settings(**studio_spec):
    return resolve_settings(studio(**studio_spec), template(env=[{"name": "A", "value": "t"}]), workspace())


def test_pod_is_restricted_and_mounts_the_home_volume():
    pod = C.build_pod(REF, settings(), None)
    spec = pod["spec"]
    c = spec["containers"][0]
    assert c["image"] == "example.org/py:1"
    assert c["securityContext"] == {
        "allowPrivilegeEscalation": False,
        "capabilities": {"drop": ["ALL"]},
        "runAsNonRoot": True,
        "seccompProfile": {"type": "RuntimeDefault"},
    }
    assert spec["securityContext"]["runAsUser"] == 1000 and spec["securityContext"]["runAsNonRoot"]
    assert spec["automountServiceAccountToken"] is False
    assert spec["volumes"] == [{"name": "home", "persistentVolumeClaim": {"claimName": "s-home"}}]
    assert pod["metadata"]["ownerReferences"][0]["uid"] == "uid-1"
    assert pod["metadata"]["labels"]["studio.dev/codestudio"] == "s"
    assert pod["metadata"]["labels"]["app.kubernetes.io/managed-by"] == "studio-operator"


def test_studio_env_overrides_template_env_by_name():
    env = C.build_pod(REF, settings(env=[{"name": "A", "value": "mine"}, {"name": "B", "value": "b"}]), None)["spec"]["containers"][0]["env"]
    assert {"name": "A", "value": "mine"} in env and {"name": "B", "value": "b"} in env
    assert [e["name"] for e in env].count("A") == 1


def test_restart_annotation_does_not_change_the_spec_hash():
    plain, restarted = C.build_pod(REF, settings(), None), C.build_pod(REF, settings(), "2026-01-01T00:00:00Z")
    key = "studio.dev/spec-hash"
    assert plain["metadata"]["annotations"][key] == restarted["metadata"]["annotations"][key]
    assert restarted["metadata"]["annotations"]["studio.dev/restart-requested-at"] == "2026-01-01T00:00:00Z"


def test_resources_layer_studio_over_template_over_workspace():
    s = resolve_settings(
        studio(resources={"requests": {"cpu": "2"}}),
        template(resources={"requests": {"cpu": "1", "memory": "1Gi"}}),
        workspace(defaults={"resources": {"requests": {"memory": "8Gi"}, "limits": {"memory": "16Gi"}}}),
    )
    assert s.resources == {"requests": {"cpu": "2", "memory": "1Gi"}, "limits": {"memory": "16Gi"}}


def test_storage_size_comes_from_studio_then_template_then_workspace():
    ws = workspace(defaults={"storageSize": "20Gi", "storageClassName": "fast"})
    assert resolve_settings(studio(), template(), ws).storage_size == "20Gi"
    assert resolve_settings(studio(), template(storage={"size": "15Gi"}), ws).storage_size == "15Gi"
    assert resolve_settings(studio(storage={"size": "30Gi"}), template(), ws).storage_size == "30Gi"
    assert resolve_settings(studio(), template(), None).storage_size == "10Gi"
    assert resolve_settings(studio(), template(), ws).storage_class == "fast"


def test_the_volume_is_no_garbage_collector_dependent_and_names_its_studio():
    meta = C.build_pvc(REF, settings(), None)["metadata"]
    assert "ownerReferences" not in meta  # under Delete too: the operator deletes it (reclaim.py)
    assert meta["annotations"]["studio.dev/codestudio-uid"] == "uid-1"


def test_existing_volume_never_shrinks_and_keeps_its_class():
    observed = {"spec": {"storageClassName": "old", "resources": {"requests": {"storage": "50Gi"}}}}
    with_class = resolve_settings(studio(storage={"size": "20Gi"}), template(), workspace(defaults={"storageClassName": "new"}))
    pvc = C.build_pvc(REF, with_class, observed)
    assert pvc["spec"]["resources"]["requests"]["storage"] == "50Gi"
    assert pvc["spec"]["storageClassName"] == "old"
    grown = C.build_pvc(REF, settings(storage={"size": "60Gi"}), observed)
    assert grown["spec"]["resources"]["requests"]["storage"] == "60Gi"


def test_default_storage_class_filled_in_by_the_cluster_is_no_change():
    created = C.build_pvc(REF, settings(), None)
    assert "storageClassName" not in created["spec"]
    observed = {**created, "spec": {**created["spec"], "storageClassName": "standard"}}
    assert C.build_pvc(REF, settings(), observed)["metadata"] == created["metadata"]  # same hash


def test_a_claim_keeps_its_storage_class_once_the_workspace_names_none():
    # Applying the claim without the class the operator named would remove an immutable field (422).
    fast = resolve_settings(studio(), template(), workspace(defaults={"storageClassName": "fast"}))
    created = C.build_pvc(REF, fast, None)
    grown = C.build_pvc(REF, settings(storage={"size": "20Gi"}), created)
    assert grown["spec"]["storageClassName"] == "fast"
    assert grown["spec"]["resources"]["requests"]["storage"] == "20Gi"
    # Naming the class is no change by itself: the claim is not applied again for it.
    assert C.build_pvc(REF, settings(), created)["metadata"] == created["metadata"]


def test_pod_runs_as_the_workspace_service_account_only_in_a_workspace():
    assert C.build_pod(REF, settings(), None)["spec"]["serviceAccountName"] == "studio"
    alone = resolve_settings(studio(), template(), None)
    assert "serviceAccountName" not in C.build_pod(REF, alone, None)["spec"]


def test_access_role_is_limited_to_this_studio():
    role = C.build_access_role(REF)
    for rule in role["rules"]:
        assert rule["resourceNames"] in (["s"],)
        assert "*" not in rule["verbs"]
    # Its owner changes, stops and deletes it; nothing else of the CodeStudio kind.
    assert {"apiGroups": ["studio.dev"], "resources": ["codestudios"], "resourceNames": ["s"],
            "verbs": ["get", "update", "patch", "delete"]} in role["rules"]
    binding = C.build_access_binding(REF)
    assert binding["subjects"] == [{"apiGroup": "rbac.authorization.k8s.io", "kind": "User", "name": "alice"}]
    assert C.build_access_binding(C.StudioRef("s", "ns", "u", None))["subjects"] == []  # no owner: no one


def test_quantities_compare_by_value():
    assert C.larger_quantity("1Gi", "1000Mi") == "1Gi"
    assert C.larger_quantity("1G", "1Gi") == "1Gi"
    assert C.larger_quantity("20Gi", "1e10") == "20Gi"


def test_the_pod_runs_what_the_template_says():
    t = template(command=["start-notebook.sh"], args=["--ServerApp.base_url=/s"], workingDir="/work",
                 resources={"requests": {"cpu": "500m"}}, storage={"mountPath": "/home/jovyan"},
                 securityContext={"runAsUser": 1001, "runAsGroup": 100, "fsGroup": 100},
                 ports=[{"name": "http", "port": 8888}, {"name": "metrics", "port": 9000, "protocol": "UDP"}])
    s = resolve_settings(studio(), t, None)
    pod = C.build_pod(REF, s, None)
    c = pod["spec"]["containers"][0]
    assert (c["command"], c["args"], c["workingDir"]) == (["start-notebook.sh"], ["--ServerApp.base_url=/s"], "/work")
    assert c["resources"] == {"requests": {"cpu": "500m"}}
    assert c["volumeMounts"] == [{"name": "home", "mountPath": "/home/jovyan"}]
    assert {"name": "HOME", "value": "/home/jovyan"} in c["env"] and {"name": "STUDIO_OWNER", "value": "alice"} in c["env"]
    assert c["readinessProbe"] == {"tcpSocket": {"port": 8888}, "periodSeconds": 5}
    # The home volume is writable by the studio's user; no Service environment variables leak in.
    sc = pod["spec"]["securityContext"]
    assert (sc["runAsUser"], sc["runAsGroup"], sc["fsGroup"]) == (1001, 100, 100)
    assert pod["spec"]["enableServiceLinks"] is False
    # The service selects the studio pod by its labels.
    service = C.build_service(REF, s)
    assert service["spec"]["selector"] == {"studio.dev/codestudio": "s", "app.kubernetes.io/component": "studio"}
    assert pod["metadata"]["labels"].items() >= service["spec"]["selector"].items()
    # Only a TCP port is a URL to open.
    assert C.endpoints(REF, s) == [{"name": "http", "url": "http://s.ns.svc:8888"}]


def test_a_built_templates_studios_run_the_image_pinned_by_its_build():
    pinned = "r.example.org/s/py@sha256:" + "ab" * 32
    pod = C.build_pod(REF, resolve_settings(studio(), template(image=None, status={"image": pinned}), None), None)
    assert pod["spec"]["containers"][0]["image"] == pinned
    assert resolve_settings(studio(), template(image=None), None).image is None  # not built yet: nothing to run
