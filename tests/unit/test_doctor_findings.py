"""Pure parts of doctor: the checks of stuck and failed objects, and the report."""

from __future__ import annotations

import datetime

from studio_operator.doctor import Options
from studio_operator.doctor.findings import fixed, healthy, ok, problem, render, summary
from studio_operator.doctor.install import _without_empty, check_webhooks
from studio_operator.doctor.stuck import check_stuck, failed_build, failed_studio, failed_workspace, never_reconciled, stuck_deletion
from studio_operator.client.workspaces import namespace_of
from studio_operator.doctor.workspaces import _without_access, differs

NOW = datetime.datetime(2026, 1, 2, 12, 0, 0, tzinfo=datetime.UTC)
OPTIONS = Options(stuck_after=60)


def cs(name="a", namespace="team", **extra):
    meta = {"name": name, "namespace": namespace, "creationTimestamp": "2026-01-02T11:00:00Z", **extra.pop("metadata", {})}
    return {"kind": "CodeStudio", "metadata": meta, "spec": {}, "status": extra}


def test_report_lines_and_verdict():
    findings = [ok("crds", "crd/x", "fine"), problem("operator", "deployment/y", "down", "start it"),
                fixed(problem("workspace", "workspace/w rb", "missing", "fix it"), "recreated")]
    assert render(findings).splitlines() == [
        "[ok]      crds       crd/x: fine",
        "[PROBLEM] operator   deployment/y: down",
        "                     next: start it",
        "[FIXED]   workspace  workspace/w rb: missing; recreated",
        "unhealthy: 3 checked, 1 problem, 1 fixed",
    ]
    assert not healthy(findings)
    assert healthy(findings[::2]) and summary(findings[::2]) == "healthy: 2 checked, 0 problems, 1 fixed"


def test_a_deletion_is_stuck_only_after_the_grace_period():
    deleting = cs(metadata={"deletionTimestamp": "2026-01-02T11:59:30Z", "finalizers": ["studio.dev/cleanup"]},
                  observedGeneration=1)
    assert stuck_deletion(deleting, NOW, OPTIONS) is None
    later = stuck_deletion(deleting, NOW + datetime.timedelta(minutes=5), OPTIONS)
    assert later.status == "problem" and later.subject == "codestudio/team/a"
    assert later.message == "deleting for 330s, held by finalizers studio.dev/cleanup"
    assert "kubectl patch -n team codestudio a --type=json" in later.next_step
    no_finalizer = cs(metadata={"deletionTimestamp": "2026-01-02T11:00:00Z"})
    assert stuck_deletion(no_finalizer, NOW, OPTIONS) is None


def test_never_reconciled_after_the_grace_period():
    assert never_reconciled(cs(), NOW, OPTIONS).message == "created 3600s ago and the operator has not reported on it yet"
    assert never_reconciled(cs(observedGeneration=1), NOW, OPTIONS) is None
    assert never_reconciled(cs(metadata={"creationTimestamp": "2026-01-02T11:59:50Z"}), NOW, OPTIONS) is None


def test_failed_studios_builds_and_workspaces():
    assert failed_studio(cs(state="Running")) is None
    failed = failed_studio(cs(state="Failed", message="ErrImagePull: nope"))
    assert failed.message == "Failed: ErrImagePull: nope" and "studioctl studio status a -n team" in failed.next_step
    template = {"kind": "CodeStudioTemplate", "metadata": {"name": "py"}, "status": {"build": {"phase": "Failed", "message": "exit 1"}}}
    assert failed_build(template).message == "image build Failed: exit 1"
    assert "studioctl template logs py" in failed_build(template).next_step
    ws = {"kind": "Workspace", "metadata": {"name": "w"}, "status": {"phase": "Active", "conditions": [
        {"type": "RBACReady", "status": "False", "message": "cannot bind"}, {"type": "Ready", "status": "False"}]}}
    assert failed_workspace(ws).message == "not ready: RBACReady: cannot bind"
    assert failed_workspace({"kind": "Workspace", "metadata": {"name": "w"}, "status": {"phase": "Active"}}) is None


def test_nothing_stuck_is_one_ok_line():
    findings = check_stuck(OPTIONS, NOW, [], [cs(observedGeneration=1, state="Running")], [])
    assert [(f.status, f.message) for f in findings] == [("ok", "0 workspaces, 1 studios, 0 templates: nothing stuck, Failed or unreconciled")]


def test_children_compare_what_the_builder_declares():
    want = {"apiVersion": "v1", "kind": "ResourceQuota", "metadata": {"name": "q"}, "spec": {"hard": {"requests.cpu": "1.5"}}}
    server = {**want, "metadata": {"name": "q", "uid": "u"}, "spec": {"hard": {"requests.cpu": "1500m"}}, "status": {}}
    assert differs(want, server) == []  # canonical quantities and server-added fields are no difference
    assert differs(want, {**server, "spec": {"hard": {"requests.cpu": "2"}}}) == ["spec"]
    binding = {"kind": "RoleBinding", "metadata": {}, "roleRef": {"name": "studio-workspace-member"},
               "subjects": [{"kind": "User", "name": "bob"}]}
    assert differs(binding, {**binding, "subjects": [{"kind": "User", "name": "bob"}, {"kind": "User", "name": "eve"}]}) == ["subjects"]
    assert differs(binding, {**binding, "subjects": []}) == ["subjects"]
    nobody = {**binding, "subjects": []}
    assert differs(nobody, {k: v for k, v in nobody.items() if k != "subjects"}) == []  # the server drops []


def test_a_missing_binding_names_who_has_no_access():
    ws = {"spec": {"members": [{"name": "bob"}, {"name": "ann", "role": "owner"}, {"kind": "Group", "name": "devs"}]}}
    assert _without_access(ws, {"roleRef": {"name": "studio-workspace-member"}}) == ": User bob, Group devs (member) have no access"
    assert _without_access(ws, {"roleRef": {"name": "studio-workspace-owner"}}) == ": User ann (owner) has no access"
    assert _without_access(ws, {"roleRef": {"name": "studio-workspace-viewer"}}) == ""


def test_workspace_namespace_and_crd_comparison():
    assert namespace_of({"metadata": {"name": "w"}, "spec": {}}) == "w"
    assert namespace_of({"metadata": {"name": "w"}, "spec": {"namespace": "n"}}) == "n"
    assert _without_empty({"required": [], "properties": {"a": {"type": "string", "enum": []}}}) == {"properties": {"a": {"type": "string"}}}


def test_no_webhooks_names_the_settings_that_turn_them_off():
    class NoWebhooks:
        def request(self, method, path, query=None):
            return {"items": []}

    [finding] = check_webhooks(NoWebhooks(), OPTIONS)
    assert finding.status == "problem" and finding.subject == "studio.dev admission"
    assert "webhook.enabled=false" in finding.next_step and "STUDIO_WEBHOOK_MANAGED=false" in finding.next_step
