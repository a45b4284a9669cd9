"""signetd under systemd's Type=notify protocol: READY=1 only once it serves, RELOADING=1 and
READY=1 around a SIGHUP reload, STOPPING=1 at SIGTERM; sent to $NOTIFY_SOCKET, a unix datagram
socket given as a path or, with '@', as an abstract name."""
import os
import signal
import socket
import subprocess
import tempfile

import pytest

from harness import SIGNETD


def listen(address):
    sock = socket.socket(socket.AF_UNIX, socket.SOCK_DGRAM)
    sock.bind(address)
    sock.settimeout(30)
    return sock


def receive(sock):
    return sock.recv(4096).decode()


@pytest.mark.parametrize("kind", ["path", "abstract"])
def test_notify_ready_reloading_stopping(fresh, kind):
    if kind == "abstract":
        name = f"signet-test-{os.getpid()}-{id(fresh)}"
        sock, notify_socket = listen("\0" + name), "@" + name
    else:
        folder = tempfile.mkdtemp(prefix="signet-notify-", dir="/tmp")  # sun_path holds 107 bytes
        notify_socket = os.path.join(folder, "notify")
        sock = listen(notify_socket)
    with sock:
        env = dict(fresh.env(), NOTIFY_SOCKET=notify_socket)
        fresh.proc = subprocess.Popen([SIGNETD, "--config", str(fresh.write_config())], env=env,
                                      stdin=subprocess.DEVNULL, stdout=subprocess.DEVNULL,
                                      stderr=open(fresh.stderr_file, "ab"))
        assert receive(sock) == "READY=1"
        # Ready means serving: the very next request is answered.
        assert fresh.get("/readyz", timeout=5).status == 200

        fresh.proc.send_signal(signal.SIGHUP)
        assert receive(sock) == "RELOADING=1"
        assert receive(sock) == "READY=1"
        assert "reloaded" in fresh.stderr()

        proc, fresh.proc = fresh.proc, None
        proc.send_signal(signal.SIGTERM)
        assert receive(sock) == "STOPPING=1"
        assert proc.wait(timeout=20) == 0


def test_no_ready_when_the_start_fails(fresh):
    name = f"signet-test-fail-{os.getpid()}"
    with listen("\0" + name) as sock:
        sock.settimeout(2)
        fresh.config["hsm"]["module"] = "/nonexistent/p11.so"
        env = dict(fresh.env(), NOTIFY_SOCKET="@" + name)
        proc = subprocess.run([SIGNETD, "--config", str(fresh.write_config())], env=env, capture_output=True,
                              text=True, timeout=30, stdin=subprocess.DEVNULL)
        assert proc.returncode == 3, proc
        with pytest.raises(socket.timeout):
            sock.recv(4096)
