"""hack/own_servers.py: a local cluster is used only while its own API server and etcd serve it."""

from __future__ import annotations

import socket
import subprocess
import sys

import pytest

from hack.own_servers import own_servers

# A stand-in server: listens on a free port, prints it, and keeps its argv (as a real
# kube-apiserver's --etcd-servers flag is read from /proc/<pid>/cmdline).
SERVER = """
import socket, sys, time
s = socket.socket(); s.bind(("127.0.0.1", 0)); s.listen()
print(s.getsockname()[1], flush=True)
time.sleep(60)
"""


def serve(*args: str) -> tuple[subprocess.Popen, int]:
    proc = subprocess.Popen([sys.executable, "-c", SERVER, *args], stdout=subprocess.PIPE, text=True)
    return proc, int(proc.stdout.readline())


def free_port() -> int:
    with socket.socket() as s:
        s.bind(("127.0.0.1", 0))
        return s.getsockname()[1]


@pytest.fixture
def servers(request):
    procs: list[subprocess.Popen] = []

    def start(*args: str) -> tuple[subprocess.Popen, int]:
        proc, port = serve(*args)
        procs.append(proc)
        return proc, port

    yield start
    for proc in procs:
        proc.kill()
        proc.wait()


def cluster_dir(tmp_path, apiserver: int, etcd: int):
    (tmp_path / "pids").mkdir(exist_ok=True)
    (tmp_path / "pids" / "kube-apiserver.pid").write_text(f"{apiserver}\n")
    (tmp_path / "pids" / "etcd.pid").write_text(f"{etcd}\n")
    return str(tmp_path)


def test_a_cluster_whose_own_servers_listen_is_its_own(tmp_path, servers):
    etcd, etcd_port = servers()
    apiserver, port = servers(f"--etcd-servers=http://127.0.0.1:{etcd_port}")
    assert own_servers(cluster_dir(tmp_path, apiserver.pid, etcd.pid), port)


def test_a_port_another_process_serves_is_not_this_clusters(tmp_path, servers):
    etcd, etcd_port = servers()
    apiserver, port = servers(f"--etcd-servers=http://127.0.0.1:{etcd_port}")
    assert not own_servers(cluster_dir(tmp_path, apiserver.pid, etcd.pid), free_port())


def test_an_api_server_storing_into_another_clusters_etcd_is_not_this_clusters(tmp_path, servers):
    """Its own etcd lost the port race and exited: the API server stores into the other one's."""
    others_etcd, others_port = servers()
    own_etcd, _ = servers()
    apiserver, port = servers(f"--etcd-servers=http://127.0.0.1:{others_port}")
    assert not own_servers(cluster_dir(tmp_path, apiserver.pid, own_etcd.pid), port)
    assert own_servers(cluster_dir(tmp_path, apiserver.pid, others_etcd.pid), port)


def test_an_exited_api_server_is_not_serving(tmp_path, servers):
    etcd, etcd_port = servers()
    apiserver, port = servers(f"--etcd-servers=http://127.0.0.1:{etcd_port}")
    apiserver.kill()
    apiserver.wait()
    assert not own_servers(cluster_dir(tmp_path, apiserver.pid, etcd.pid), port)
    assert not own_servers(str(tmp_path / "no-such-cluster"), port)
