"""A signetd whose token is the harness's SoftHSM2 token exported by `p11-kit server` and reached
through p11-kit-client.so: PKCS#11 over a Unix socket, as a network HSM's client library works."""
import os
import shutil
import subprocess
import tempfile
import time
from pathlib import Path

from harness import MODULE, TOKEN_LABEL, Signet, run

CLIENT = "/usr/lib/x86_64-linux-gnu/pkcs11/p11-kit-client.so"


def unavailable() -> str:
    """Why p11-kit remoting cannot run here, or "" when it can."""
    if shutil.which("p11-kit") is None:
        return "p11-kit (Debian package p11-kit) is not installed"
    if not os.path.exists(CLIENT):
        return f"{CLIENT} (Debian package p11-kit-modules) is not installed"
    return ""


class RemotedSignet(Signet):
    def __init__(self, folder: Path, algorithm: str = "ES256"):
        super().__init__(folder, algorithm)
        # A folder of its own under /tmp: a Unix socket path has at most 107 bytes, which a test's
        # folder in the build tree can exceed (p11-kit server then aborts in create_unix_socket).
        self.socket_dir = Path(tempfile.mkdtemp(prefix="signet-p11kit-"))
        self.socket = self.socket_dir / "p11-kit.sock"
        self.server_log = open(self.dir / "p11-kit-server.log", "ab")
        # --foreground: the server is this process's child, stopped by its pid in close().
        self.server = subprocess.Popen(
            ["p11-kit", "server", "--foreground", f"--provider={MODULE}", f"--name={self.socket}",
             f"pkcs11:token={TOKEN_LABEL}"],
            env=super().env(), stdin=subprocess.DEVNULL, stdout=self.server_log, stderr=self.server_log)
        deadline = time.monotonic() + 10
        while not self.socket.exists():
            if self.server.poll() is not None or time.monotonic() > deadline:
                raise RuntimeError(f"p11-kit server did not start: {(self.dir / 'p11-kit-server.log').read_text()}")
            time.sleep(0.05)
        self.config["hsm"]["module"] = CLIENT

    def env(self) -> dict:
        return dict(super().env(), P11_KIT_SERVER_ADDRESS=f"unix:path={self.socket}")

    def p11tool(self, *args) -> str:
        """pkcs11-tool through the same client module signetd uses."""
        return run(["pkcs11-tool", "--module", CLIENT, "--token-label", TOKEN_LABEL, "--login", "--pin", self.pin,
                    *args], env=self.env()).stdout

    def close(self):
        if self.proc is not None:
            self.stop()
        self.server.terminate()
        self.server.wait(timeout=10)
        self.server_log.close()
        shutil.rmtree(self.socket_dir, ignore_errors=True)
