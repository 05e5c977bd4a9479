"""A seeded chaos run: many studios driven through random changes while the operator is SIGKILLed.

The driver keeps a model of what it asked for (which studios exist, with which reclaim policy,
which of their claims were retained), watches every home volume for the whole run, and after
the last change waits until every invariant of tests/e2e/invariants.py holds, measuring how
long that took. Replay a failure with the seed it prints: STUDIO_CHAOS_SEED=<seed>.
"""

from __future__ import annotations

import collections
import dataclasses
import datetime
import json
import os
import random
import threading
import time
from typing import Any

from tests.e2e import invariants as inv
from tests.e2e.operator import OperatorProcess
from tests.e2e.rest import Rest, RestError, core_path, rbac_path, studios_path, templates_path, workspaces_path

API = "studio.dev/v1alpha1"
IMAGE = "quay.io/jupyter/base-notebook"


@dataclasses.dataclass(frozen=True)
class ChaosSettings:
    seed: int
    studios: int  # distinct studios; names are reused after deletes, so more incarnations run
    changes: int  # random changes after the creates
    kills: int  # SIGKILLs of the operator, at random moments among the changes
    namespaces: int  # workspaces, each with its namespace
    templates: int
    bound: float  # seconds the operator may take to converge after the last change
    pace: float  # mean seconds between changes, so they find studios in every state

    @classmethod
    def from_env(cls) -> ChaosSettings:
        """The short form by default (it runs in `make test`); `make test-chaos` sets the full one."""
        env = os.environ.get
        return cls(
            seed=int(env("STUDIO_CHAOS_SEED") or random.SystemRandom().randrange(1, 2**31)),
            studios=int(env("STUDIO_CHAOS_STUDIOS", "40")),
            changes=int(env("STUDIO_CHAOS_CHANGES", "120")),
            kills=int(env("STUDIO_CHAOS_KILLS", "3")),
            namespaces=int(env("STUDIO_CHAOS_NAMESPACES", "3")),
            templates=int(env("STUDIO_CHAOS_TEMPLATES", "3")),
            bound=float(env("STUDIO_CHAOS_BOUND", "120")),
            pace=float(env("STUDIO_CHAOS_PACE", "0.1")),
        )


@dataclasses.dataclass
class StudioModel:
    """What the driver asked for one studio name."""

    namespace: str
    name: str
    owner: str
    reclaim: str
    uid: str | None = None  # of the live incarnation; None while deleted or never created
    incarnations: int = 0


def read_snapshot(rest: Rest, namespaces: list[str], templates: list[str]) -> inv.Snapshot:
    """The studios of these namespaces with their children, and these templates."""
    ours = set(namespaces)
    selector = {"labelSelector": inv.STUDIO_LABEL}

    def listed(path: str, **params: str) -> list[dict[str, Any]]:
        return [o for o in rest.items(path, **params) if o["metadata"].get("namespace") in ours]

    return inv.Snapshot(
        studios=listed(f"/apis/{API}/codestudios"),
        templates={t: rest.get(templates_path(t)) for t in templates},
        pods=listed("/api/v1/pods", **selector),
        pvcs=listed("/api/v1/persistentvolumeclaims", **selector),
        services=listed("/api/v1/services", **selector),
        roles=listed("/apis/rbac.authorization.k8s.io/v1/roles", **selector),
        bindings=listed("/apis/rbac.authorization.k8s.io/v1/rolebindings", **selector),
    )


class VolumeWatch(threading.Thread):
    """Records every studio home volume into a ledger for the whole run (list, then watch)."""

    def __init__(self, kubeconfig: str, namespaces: set[str], ledger: inv.VolumeLedger):
        super().__init__(name="volume-watch", daemon=True)
        self.rest = Rest(kubeconfig)
        self.namespaces = namespaces
        self.ledger = ledger
        self.lock = threading.Lock()
        self.done = threading.Event()
        self.error: BaseException | None = None

    def _record(self, pvc: dict[str, Any]) -> None:
        if pvc["metadata"].get("namespace") in self.namespaces:
            with self.lock:
                self.ledger.record(pvc)

    def run(self) -> None:
        selector = {"labelSelector": inv.STUDIO_LABEL}
        try:
            while not self.done.is_set():
                listing = self.rest.request("GET", "/api/v1/persistentvolumeclaims", params=selector)
                for pvc in listing["items"]:
                    self._record(pvc)
                version = listing["metadata"]["resourceVersion"]
                while not self.done.is_set() and version:
                    params = {**selector, "watch": "1", "resourceVersion": version, "timeoutSeconds": "5",
                              "allowWatchBookmarks": "true"}
                    with self.rest.http.stream("GET", "/api/v1/persistentvolumeclaims", params=params,
                                               timeout=15) as resp:
                        for line in resp.iter_lines():
                            if not line:
                                continue
                            event = json.loads(line)
                            if event["type"] == "ERROR":
                                version = None  # expired: list again
                                break
                            version = event["object"]["metadata"]["resourceVersion"]
                            if event["type"] != "BOOKMARK":
                                self._record(event["object"])
        except BaseException as exc:  # noqa: BLE001 - reported by stop()
            self.error = exc

    def stop(self) -> None:
        self.done.set()
        self.join(30)
        self.rest.close()
        if self.error:
            raise AssertionError(f"the volume watch failed: {self.error!r}")


class ChaosRun:
    def __init__(self, kubeconfig: str, operator: OperatorProcess, settings: ChaosSettings, prefix: str):
        self.kubeconfig = kubeconfig
        self.operator = operator
        self.s = settings
        self.rng = random.Random(settings.seed)
        self.rest = Rest(kubeconfig)
        self.prefix = prefix
        self.namespaces = [f"{prefix}-{i}" for i in range(settings.namespaces)]  # workspaces of the same names
        self.members = {ws: [{"kind": "User", "name": "user0", "role": "owner"}] for ws in self.namespaces}
        self.templates = [f"{prefix}-tpl-{i}" for i in range(settings.templates)]
        self.template_tags = {t: 0 for t in self.templates}
        self.model: dict[tuple[str, str], StudioModel] = {}
        self.ledger = inv.VolumeLedger()
        self.deleted_with_volume: set[str] = set()
        self.retained: dict[tuple[str, str], str] = {}
        self.counts: collections.Counter[str] = collections.Counter()
        self.hit: collections.Counter[str] = collections.Counter()  # studio states the changes found
        self.clock = datetime.datetime.now(datetime.UTC).replace(microsecond=0)
        self.watch = VolumeWatch(kubeconfig, set(self.namespaces), self.ledger)
        self.starter: threading.Thread | None = None
        self.down_for = 0  # changes to make before the killed operator is started again
        self.start_errors: list[BaseException] = []

    # --- setup and teardown ------------------------------------------------------------------

    def setup(self) -> None:
        for ws in self.namespaces:
            self.rest.create(workspaces_path(), {"apiVersion": API, "kind": "Workspace", "metadata": {"name": ws},
                                                 "spec": {"members": self.members[ws], "deletionPolicy": "Cascade"}})
        for tpl in self.templates:
            self.rest.create(templates_path(), {
                "apiVersion": API, "kind": "CodeStudioTemplate", "metadata": {"name": tpl},
                "spec": {"image": {"prebuilt": self._image(tpl)}, "ports": [{"name": "http", "port": 8888}]},
            })
        self.watch.start()
        deadline = time.monotonic() + 60
        while not all(self._workspace_ready(ws) for ws in self.namespaces):
            assert time.monotonic() < deadline, "the chaos workspaces did not become Ready in 60s"
            time.sleep(0.5)

    def _workspace_ready(self, ws: str) -> bool:
        return inv.condition(self.rest.get(workspaces_path(ws)) or {}, "Ready").get("status") == "True"

    def teardown(self) -> None:
        """Leaves the operator running (as the next tests expect) and removes what the run made."""
        if self.starter is not None:
            self.starter.join()
        if self.operator.proc is None or self.operator.proc.poll() is not None:
            self.operator.start()
        for ws in self.namespaces:  # with their studios and namespaces (deletionPolicy Cascade)
            self.rest.delete(workspaces_path(ws))
        # A template is not deleted while studios use it (its webhook refuses).
        deadline = time.monotonic() + 120
        while any(self.rest.items(studios_path(ws)) for ws in self.namespaces) and time.monotonic() < deadline:
            time.sleep(1)
        for tpl in self.templates:
            self.rest.delete(templates_path(tpl))
        self.rest.close()

    # --- the run -----------------------------------------------------------------------------

    def drive(self) -> None:
        """Creates every studio, then makes random changes, killing the operator among them."""
        names = [(self.namespaces[i % len(self.namespaces)], f"s{i:04d}") for i in range(self.s.studios)]
        for i, (ns, name) in enumerate(names):
            self.model[(ns, name)] = StudioModel(ns, name, owner=f"user{i % 23}",
                                                 reclaim="Delete" if i % 4 == 0 else "Retain")
        steps = ["create"] * len(names) + ["change"] * self.s.changes
        # Creates come first in order but interleave with changes of studios that already exist.
        order = self._interleave(steps)
        kill_at = sorted(self.rng.sample(range(len(order)), self.s.kills))
        pending_creates = list(names)
        self.rng.shuffle(pending_creates)
        for step, what in enumerate(order):
            while kill_at and kill_at[0] == step:
                kill_at.pop(0)
                self._kill()
            if what == "create":
                ns, name = pending_creates.pop()
                if not self._create(self.model[(ns, name)]):
                    pending_creates.insert(0, (ns, name))  # the user tries again later
                    order.append("create")
            else:
                self._change()
            if self.starter is None and self.operator.proc.poll() is not None:
                self._restart_soon()
            time.sleep(self.rng.uniform(0, 2 * self.s.pace))
        self._join_starter()
        if self.operator.proc is None or self.operator.proc.poll() is not None:
            self.operator.start()

    def _interleave(self, steps: list[str]) -> list[str]:
        creates = [s for s in steps if s == "create"]
        changes = [s for s in steps if s != "create"]
        out: list[str] = []
        while creates or changes:
            take_create = creates and (not changes or self.rng.random() < len(creates) / (len(creates) + len(changes)) + 0.2)
            out.append((creates if take_create else changes).pop())
        return out

    def _kill(self) -> None:
        self._join_starter()
        self.operator.kill()
        self.counts["kills"] += 1
        # Changes keep coming while it is down; it comes back after a few of them.
        self.down_for = self.rng.randint(0, 15)

    def _restart_soon(self) -> None:
        if self.down_for > 0:
            self.down_for -= 1
            return

        def start() -> None:
            try:
                self.operator.start()
            except BaseException as exc:  # noqa: BLE001 - raised from _join_starter
                self.start_errors.append(exc)

        self.starter = threading.Thread(target=start, name="operator-start")
        self.starter.start()

    def _join_starter(self) -> None:
        if self.starter is not None:
            self.starter.join()
            self.starter = None
        if self.start_errors:
            raise AssertionError(f"the operator did not come back: {self.start_errors[0]}")

    # --- changes -----------------------------------------------------------------------------

    def _image(self, tpl: str) -> str:
        return f"{IMAGE}:chaos-{self.template_tags[tpl]}"

    def _refused_while_down(self, exc: RestError) -> bool:
        """A request a fail-closed webhook refused because the operator was down (or had just
        come back and the API server still called its predecessor): users are told to try again
        (docs/decisions/0010-admission-webhooks.md)."""
        if exc.status == 500 and "failed calling webhook" in str(exc):
            self.counts["refused while the operator was down"] += 1
            return True
        return False

    def _create(self, m: StudioModel) -> bool:
        spec = {"template": self.rng.choice(self.templates), "owner": m.owner, "volumeReclaimPolicy": m.reclaim}
        if self.rng.random() < 0.2:
            spec["state"] = "Stopped"
        try:
            obj = self.rest.create(studios_path(m.namespace), {
                "apiVersion": API, "kind": "CodeStudio", "metadata": {"name": m.name, "namespace": m.namespace},
                "spec": spec,
            })
        except RestError as exc:
            if self._refused_while_down(exc):
                return False
            raise
        m.uid = obj["metadata"]["uid"]
        m.incarnations += 1
        self.counts["create"] += 1
        return True

    def _change(self) -> None:
        live = [m for m in self.model.values() if m.uid]
        gone = [m for m in self.model.values() if m.incarnations and not m.uid]
        choices = {"stop": 3, "start": 3, "restart": 2, "delete": 1.5, "retemplate": 1, "template-image": 0.4,
                   "members": 0.5, "reclaim": 0.8}
        if gone:
            choices["recreate"] = 1
        kind = self.rng.choices(list(choices), weights=list(choices.values()))[0]
        if kind == "template-image":
            tpl = self.rng.choice(self.templates)
            self.template_tags[tpl] += 1
            self.rest.merge(templates_path(tpl), {"spec": {"image": {"prebuilt": self._image(tpl)}}})
        elif kind == "members":
            ws = self.rng.choice(self.namespaces)
            users = self.rng.sample([f"user{i}" for i in range(23)], self.rng.randint(1, 6))
            members = [{"kind": "User", "name": u, "role": self.rng.choice(inv.MEMBER_ROLES)} for u in users]
            try:
                self.rest.merge(workspaces_path(ws), {"spec": {"members": members}})
            except RestError as exc:
                if self._refused_while_down(exc):
                    return
                raise
            self.members[ws] = members
        elif kind == "recreate":
            if not self._create(self.rng.choice(gone)):
                return
        elif not live:
            return
        else:
            m = self.rng.choice(live)
            path = studios_path(m.namespace, m.name)
            if kind == "delete":
                obj = self._delete(m)
            elif kind == "restart":
                self.clock = max(self.clock + datetime.timedelta(seconds=1),
                                 datetime.datetime.now(datetime.UTC).replace(microsecond=0))
                obj = self.rest.merge(path, {"spec": {"restartRequestedAt": self.clock.strftime("%Y-%m-%dT%H:%M:%SZ")}})
            elif kind == "retemplate":
                obj = self.rest.merge(path, {"spec": {"template": self.rng.choice(self.templates)}})
            elif kind == "reclaim":
                policy = "Retain" if m.reclaim == "Delete" else "Delete"
                try:
                    obj = self.rest.merge(path, {"spec": {"volumeReclaimPolicy": policy}})
                except RestError as exc:
                    if self._refused_while_down(exc):
                        return
                    raise
                m.reclaim = policy
            else:
                obj = self.rest.merge(path, {"spec": {"state": "Stopped" if kind == "stop" else "Running"}})
            # Which states the changes hit: the run is only as good as this spread.
            self.hit[(obj or {}).get("status", {}).get("state") or "unreconciled"] += 1
        self.counts[kind] += 1

    def _delete(self, m: StudioModel) -> dict[str, Any] | None:
        """Deletes the studio and notes what must become of its claim: kept under Retain; deleted
        under Delete if the studio held the operator's finalizer when deleted. A studio switched
        to Delete and deleted before the operator added it is gone at once, nothing deletes its
        claim (if it had one), and the next studio of that name and owner may start on it."""
        claim = f"{m.name}-home"
        pvc = self.rest.get(core_path("persistentvolumeclaims", m.namespace, claim))
        before = self.rest.get(studios_path(m.namespace, m.name))
        deleted = self.rest.request("DELETE", studios_path(m.namespace, m.name), {"propagationPolicy": "Background"})
        if m.reclaim == "Retain" and pvc is not None:
            self.retained[(m.namespace, claim)] = pvc["metadata"]["uid"]
        elif m.reclaim == "Delete" and inv.RECLAIM_FINALIZER in ((deleted or {}).get("metadata", {}).get("finalizers") or []):
            self.deleted_with_volume.add(m.uid)
            # A claim an earlier studio of that name left, which this one took over, goes with it.
            self.retained.pop((m.namespace, claim), None)
        m.uid = None
        return before

    # --- convergence -------------------------------------------------------------------------

    def violations(self) -> list[str]:
        snap = read_snapshot(self.rest, self.namespaces, self.templates)
        problems = inv.check_all(snap)
        live = {(m.namespace, m.name): m.uid for m in self.model.values() if m.uid}
        found = {inv.key(s): s["metadata"]["uid"] for s in snap.studios}
        if found != live:
            problems.append(f"studios differ from what the driver made: {set(found.items()) ^ set(live.items())}")
        for ws in self.namespaces:
            problems += inv.check_members(ws, self.members[ws], self.rest.items(rbac_path("rolebindings", ws)))
        with self.watch.lock:
            problems += inv.check_volumes(self.ledger, snap.pvcs, self.deleted_with_volume, self.retained)
        return problems

    def converge(self) -> float:
        """Seconds until every invariant holds; fails with what is left after the bound."""
        started = time.monotonic()
        problems: list[str] = []
        while time.monotonic() - started < self.s.bound:
            problems = self.violations()
            if not problems:
                return time.monotonic() - started
            time.sleep(1)
        shown = "\n  ".join(problems[:40])
        raise AssertionError(f"seed {self.s.seed}: not converged after {self.s.bound}s; "
                             f"{len(problems)} violations:\n  {shown}")

    def assert_quiet(self, settle: float = 5.0, window: float = 10.0) -> None:
        """Once converged the operator writes nothing more: a hot loop breaks no other invariant.
        `settle`: for the writes that legitimately trail convergence (rollups, held statuses)."""
        time.sleep(settle)
        before = read_snapshot(self.rest, self.namespaces, self.templates)
        time.sleep(window)
        problems = inv.check_quiet(before, read_snapshot(self.rest, self.namespaces, self.templates))
        assert not problems, f"seed {self.s.seed}: still writing {window:.0f}s after converging:\n  " + "\n  ".join(problems[:40])

    def volume_report(self) -> dict[str, int]:
        return {"claims seen": len(self.ledger.seen), "retained claims checked": len(self.retained),
                "claims deleted with their studio": len(self.deleted_with_volume)}

