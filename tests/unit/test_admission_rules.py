"""Admission decisions: who may hand a studio to whom, and what is refused with which message."""

import ssl

import kopf
import pytest
from cryptography import x509

from studio_operator.admission import rules
from studio_operator.admission.webhooks import default_owner
from studio_operator.admission.server import self_signed_certificate
from tests.unit.workspace_fixtures import workspace


@pytest.mark.parametrize("operation, old, new, user, needs", [
    ("CREATE", None, "mia", "mia", False),  # for oneself (also what the mutating webhook defaults)
    ("CREATE", None, "adam", "mia", True),  # for someone else
    ("UPDATE", "mia", "mia", "adam", False),  # anything but the owner
    ("UPDATE", "mia", "adam", "mia", False),  # the owner gives it away
    ("UPDATE", "mia", "oscar", "adam", True),  # someone else moves it
    ("UPDATE", "mia", None, "adam", True),  # or takes the owner away
    ("UPDATE", None, "adam", "adam", True),  # an ownerless studio is nobody's to claim
])
def test_owner_change_needs_privilege(operation, old, new, user, needs):
    assert rules.owner_change_needs_privilege(operation, old, new, user) is needs


def test_owner_change_messages_say_who_may():
    assert rules.owner_change_refusal("ns", "nb", "mia", "oscar", "adam") == (
        "adam may not change the owner of CodeStudio ns/nb from mia to oscar: only its owner, workspace owners "
        "and admins, and cluster admins may")
    assert "mia may not create CodeStudio ns/nb for adam" in rules.owner_change_refusal("ns", "nb", None, "adam", "mia")


@pytest.mark.parametrize("limit, existing, refused", [
    (None, ["a", "b"], False),
    (3, ["a", "b"], False),
    (2, ["a", "b"], True),
    (0, [], True),
])
def test_studio_count(limit, existing, refused):
    ws = workspace(quota={"maxCodeStudios": limit} if limit is not None else {})
    message = rules.studio_count_refusal(ws, existing)
    assert (message is not None) is refused
    if refused:
        assert f"allows at most {limit} CodeStudios (spec.quota.maxCodeStudios={limit})" in message


def test_names_in_messages_are_sorted_and_capped():
    names = [f"s{i:02d}" for i in range(12, 0, -1)]
    message = rules.studio_count_refusal(workspace(quota={"maxCodeStudios": 12}), names)
    assert "holds 12: s01, s02, s03, s04, s05, s06, s07, s08, s09, s10 and 2 more;" in message


@pytest.mark.parametrize("policy, studios, refused", [
    ("Protect", ["b", "a"], True),
    ("Protect", [], False),
    ("Cascade", ["a"], False),
])
def test_workspace_deletion(policy, studios, refused):
    message = rules.workspace_delete_refusal(workspace(deletionPolicy=policy), studios)
    assert (message is not None) is refused
    if refused:
        assert "has deletionPolicy Protect and still holds 2 CodeStudio(s): a, b;" in message


def test_quota_changes_need_privilege_other_changes_do_not():
    old = workspace(quota={"cpu": 2})
    assert rules.quota_change_needs_privilege(old, workspace(quota={"cpu": 3}))
    assert rules.quota_change_needs_privilege(old, workspace())
    assert not rules.quota_change_needs_privilege(old, workspace(quota={"cpu": 2}, displayName="Team", state="Stopped"))


def test_template_in_use_names_its_studios():
    assert rules.template_delete_refusal("py", []) is None
    assert rules.template_delete_refusal("py", ["b/x", "a/y"]) == (
        "CodeStudioTemplate py is used by 2 CodeStudio(s): a/y, b/x; delete them or move them to another template first")


def test_namespace_deletion_points_at_the_workspace():
    assert "delete the workspace instead (kubectl delete workspace team)" in rules.namespace_delete_refusal("team-ns", "team")


def test_self_signed_certificate_serves_its_addresses(tmp_path):
    cert_pem, key_pem = self_signed_certificate(["127.0.0.1", "webhook.example", "0.0.0.0"])
    cert = x509.load_pem_x509_certificate(cert_pem)
    san = cert.extensions.get_extension_for_class(x509.SubjectAlternativeName).value
    assert [str(ip) for ip in san.get_values_for_type(x509.IPAddress)] == ["127.0.0.1"]
    assert san.get_values_for_type(x509.DNSName) == ["webhook.example"]
    assert cert.extensions.get_extension_for_class(x509.BasicConstraints).value.ca
    (tmp_path / "tls.crt").write_bytes(cert_pem)
    (tmp_path / "tls.key").write_bytes(key_pem)
    context = ssl.create_default_context(purpose=ssl.Purpose.CLIENT_AUTH)
    context.load_cert_chain(tmp_path / "tls.crt", tmp_path / "tls.key")  # what the server does with them


@pytest.mark.parametrize("spec, patched", [
    ({"template": "py"}, {"spec": {"owner": "mia"}}),
    ({"template": "py", "owner": "adam"}, {}),
    ({"template": "py", "owner": ""}, {}),  # the schema refuses it, naming the field
])
def test_owner_defaults_to_the_creating_user(spec, patched):
    patch = kopf.Patch()
    default_owner(spec=kopf.Spec(kopf.Body({"spec": spec})), patch=patch, userinfo={"username": "mia"})
    assert dict(patch) == patched


def test_reserved_namespace_refusal_names_the_namespace_and_the_way_out():
    message = rules.reserved_namespace_refusal("kube-system")
    assert "namespace kube-system is reserved" in message and "workspace's namespace" in message
