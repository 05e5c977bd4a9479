"""volumeReclaimPolicy: the finalizer a studio under Delete holds, and what its deletion does."""

import datetime

from studio_operator.actions import Delete, Patch
from studio_operator.studios.plan import Observed, plan_studio
from studio_operator.studios.reclaim import finalizer_patch, release
from tests.unit.studio_fixtures import pvc, studio, template

FINALIZER = "studio.dev/reclaim-volume"


def with_finalizers(s, *finalizers, deleting=False):
    meta = s.metadata.model_copy(update={"finalizers": list(finalizers),
                                         "deletion_timestamp": "2026-01-01T00:00:00Z" if deleting else None})
    return s.model_copy(update={"metadata": meta})


def claim_of(uid="uid-1", deleting=False):
    obj = pvc(deleting=deleting)
    obj["metadata"]["annotations"]["studio.dev/codestudio-uid"] = uid
    return obj


def finalizers_to(p):
    return p.patch["metadata"]["finalizers"] if p else None


def test_a_studio_under_delete_holds_the_finalizer_and_one_under_retain_does_not():
    assert finalizers_to(finalizer_patch(studio(volumeReclaimPolicy="Delete"))) == [FINALIZER]
    assert finalizer_patch(with_finalizers(studio(volumeReclaimPolicy="Delete"), FINALIZER)) is None
    assert finalizer_patch(studio()) is None  # Retain, the default, costs no write
    # Switched back to Retain: the finalizer goes, others' stay; conditional on what was read.
    switched = finalizer_patch(with_finalizers(studio(), "example.com/backup", FINALIZER))
    assert switched == Patch("studio.dev/v1alpha1", "CodeStudio", "ns", "s",
                             {"metadata": {"resourceVersion": "41", "finalizers": ["example.com/backup"]}})


def test_the_plan_adds_the_finalizer_with_the_first_children():
    p = plan_studio(Observed(studio=studio(volumeReclaimPolicy="Delete"), template=template()), now=datetime.datetime(2026, 1, 1, tzinfo=datetime.UTC))
    assert [finalizers_to(a) for a in p.actions if isinstance(a, Patch)] == [[FINALIZER]]


def test_deleted_under_delete_its_own_claim_goes_then_the_finalizer():
    s = with_finalizers(studio(volumeReclaimPolicy="Delete"), FINALIZER, deleting=True)
    assert release(s, claim_of()) == [
        Delete("PersistentVolumeClaim", "s-home", "pvc-uid"),
        Patch("studio.dev/v1alpha1", "CodeStudio", "ns", "s", {"metadata": {"resourceVersion": "41", "finalizers": []}}),
    ]


def test_switched_to_retain_before_the_operator_looked_the_volume_stays():
    # Deleted while the finalizer from its Delete days is still on: the policy now decides.
    s = with_finalizers(studio(volumeReclaimPolicy="Retain"), FINALIZER, deleting=True)
    assert [type(a) for a in release(s, claim_of())] == [Patch]


def test_a_claim_another_studio_made_or_one_already_going_is_not_deleted():
    s = with_finalizers(studio(volumeReclaimPolicy="Delete"), FINALIZER, deleting=True)
    assert [type(a) for a in release(s, claim_of(uid="uid-of-a-predecessor"))] == [Patch]
    assert [type(a) for a in release(s, claim_of(deleting=True))] == [Patch]
    assert [type(a) for a in release(s, None)] == [Patch]


def test_a_claim_made_before_the_finalizer_is_known_by_its_owner_reference():
    legacy = pvc()
    legacy["metadata"]["ownerReferences"] = [{"kind": "CodeStudio", "name": "s", "uid": "uid-1", "controller": True}]
    s = with_finalizers(studio(volumeReclaimPolicy="Delete"), FINALIZER, deleting=True)
    assert [type(a) for a in release(s, legacy)] == [Delete, Patch]
