"""Port-forwarding to a studio's pod through the API server, as `kubectl port-forward` does."""

from __future__ import annotations

import logging
import selectors
import socket
import threading
from collections.abc import Callable
from typing import TYPE_CHECKING, Any

from kubernetes import client as k8s
from kubernetes.stream import portforward

from .errors import StudioError, api_errors

if TYPE_CHECKING:
    from .connection import Client

BUFFER = 65536
# Traffic through the forward is reported at once, then at most this often (seconds).
ACTIVITY_INTERVAL = 60.0
log = logging.getLogger(__name__)


def _pump(a: socket.socket, b: socket.socket, traffic: Callable[[], None]) -> None:
    """Copies bytes both ways until either side closes, calling traffic() for each chunk."""
    with selectors.DefaultSelector() as sel:
        sel.register(a, selectors.EVENT_READ, b)
        sel.register(b, selectors.EVENT_READ, a)
        while True:
            for key, _ in sel.select():
                data = key.fileobj.recv(BUFFER)
                if not data:
                    return
                traffic()
                key.data.sendall(data)


def _listen(address: str, port: int) -> socket.socket:
    """A listening socket on address:port; StudioError naming both and the OS's reason when it
    cannot be had (the port is taken or privileged, the address is not this machine's)."""
    # An IPv6 literal needs an AF_INET6 socket; a host name or IPv4 address an AF_INET one.
    sock = socket.socket(socket.AF_INET6 if ":" in address else socket.AF_INET, socket.SOCK_STREAM)
    try:
        sock.setsockopt(socket.SOL_SOCKET, socket.SO_REUSEADDR, 1)
        sock.bind((address, port))
        sock.listen()
    except OSError as exc:
        sock.close()
        raise StudioError(f"cannot listen on {_host_port(address, port)}: {exc.strerror or exc}") from None
    return sock


def _host_port(host: str, port: int) -> str:
    """host:port, with an IPv6 literal in brackets as URLs write it."""
    return f"[{host}]:{port}" if ":" in host else f"{host}:{port}"


class PortForward:
    """Listens on address:local_port (0 picks a free port; see `.url`) and forwards each
    connection to port of the pod, each over its own API server stream. Serves in a background
    thread from `start()` until `close()`; also a context manager. When bytes flow, calls
    on_activity() at once and then at most every ACTIVITY_INTERVAL seconds (from a thread of
    its own), so the studio's idle timeout counts from the last use."""

    def __init__(self, client: Client, namespace: str, pod: str, port: int, local_port: int = 0, address: str = "127.0.0.1",
                 on_activity: Callable[[], None] | None = None):
        self._client = client
        self._on_activity = on_activity
        self._traffic = threading.Event()
        self.namespace, self.pod, self.port = namespace, pod, port
        self._listener = _listen(address, local_port)
        self.address, self.local_port = self._listener.getsockname()[:2]
        # kubernetes.stream swaps a method on the ApiClient while it opens a stream: one at a time.
        self._opening = threading.Lock()
        self._closed = threading.Event()
        self._thread: threading.Thread | None = None

    @classmethod
    def to_studio(cls, client: Client, studio: dict[str, Any], local_port: int = 0, address: str = "127.0.0.1",
                  on_activity: Callable[[], None] | None = None) -> PortForward:
        """Forwards to the main port (the first the template declares) of a Running studio."""
        name = f"{studio['metadata']['namespace']}/{studio['metadata']['name']}"
        status = studio.get("status") or {}
        if status.get("state") != "Running" or not status.get("pod"):
            raise StudioError(f"CodeStudio {name} is {status.get('state') or 'not started'}, not Running; start it first")
        with api_errors():
            pod = client.api(k8s.CoreV1Api).read_namespaced_pod(status["pod"], studio["metadata"]["namespace"])
        ports = pod.spec.containers[0].ports or []
        if not ports:
            raise StudioError(f"the pod of CodeStudio {name} declares no port")
        return cls(client, pod.metadata.namespace, pod.metadata.name, ports[0].container_port, local_port, address, on_activity)

    @property
    def url(self) -> str:
        return f"http://{_host_port(self.address, self.local_port)}/"

    def _forward(self, conn: socket.socket) -> None:
        with conn:
            core = self._client.api(k8s.CoreV1Api)
            try:
                with self._opening:
                    stream = portforward(core.connect_get_namespaced_pod_portforward, self.pod, self.namespace, ports=str(self.port))
            except Exception as exc:  # noqa: BLE001 - whatever the cause, this one connection is lost
                log.warning("cannot forward to pod %s/%s port %s: %s", self.namespace, self.pod, self.port, exc)
                return
            remote = stream.socket(self.port)
            remote.setblocking(True)
            try:
                _pump(conn, remote, self._traffic.set)
            except OSError:
                pass  # either side reset the connection; nothing to hand back
            finally:
                remote.close()

    def serve_forever(self) -> None:
        """Accepts connections until close()."""
        if self._on_activity:
            threading.Thread(target=self._report_activity, daemon=True, name=f"activity {self.url}").start()
        with self._listener:
            while not self._closed.is_set():
                try:
                    conn, _ = self._listener.accept()
                except OSError:
                    return  # closed
                threading.Thread(target=self._forward, args=(conn,), daemon=True).start()

    def _report_activity(self) -> None:
        on_activity = self._on_activity
        assert on_activity is not None
        while True:
            self._traffic.wait()
            if self._closed.is_set():
                return
            self._traffic.clear()
            try:
                on_activity()
            except Exception as exc:  # noqa: BLE001 - a missed report only shortens the idle time left
                log.warning("cannot report activity on %s/%s: %s", self.namespace, self.pod, exc)
            if self._closed.wait(ACTIVITY_INTERVAL):
                return

    def start(self) -> PortForward:
        self._thread = threading.Thread(target=self.serve_forever, daemon=True, name=f"port-forward {self.url}")
        self._thread.start()
        return self

    def close(self) -> None:
        self._closed.set()
        self._traffic.set()  # wakes the reporter to end
        try:
            self._listener.shutdown(socket.SHUT_RDWR)
        except OSError:
            pass
        self._listener.close()

    def __enter__(self) -> PortForward:
        return self.start()

    def __exit__(self, *exc: object) -> None:
        self.close()
