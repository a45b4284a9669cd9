"""A signetd on tpm2-pkcs11 over a software TPM: swtpm (TCP), the access broker tpm2-abrmd on a
private D-Bus session bus, and a tpm2-pkcs11 store (sqlite) made with tpm2_ptool, all in the
daemon's folder and stopped by their pids in close().

Setup traps met on Debian 12: without a resource manager, tpm2_ptool addtoken fails with
"out of memory for object contexts" (swtpm keeps 3 transient objects), hence tpm2-abrmd; its TCTI
(libtss2-tcti-tabrmd0) is a package of its own; tpm2-abrmd needs a D-Bus bus and refuses to run as
root without --allow-root; one per bus, so each daemon gets its own bus.
"""
import os
import shutil
import socket
import subprocess
import time
from pathlib import Path

from harness import TOKEN_LABEL, Signet, run

MODULE = "/usr/lib/x86_64-linux-gnu/pkcs11/libtpm2_pkcs11.so"
TABRMD_TCTI = "/usr/lib/x86_64-linux-gnu/libtss2-tcti-tabrmd.so.0"
PROGRAMS = {"swtpm": "swtpm", "tpm2-abrmd": "tpm2-abrmd", "tpm2_ptool": "libtpm2-pkcs11-tools",
            "dbus-daemon": "dbus-daemon"}
SO_PIN = "87654321"


def unavailable() -> str:
    if not os.path.exists(MODULE):
        return f"{MODULE} (Debian package libtpm2-pkcs11-1) is not installed"
    if not os.path.exists(TABRMD_TCTI):
        return f"{TABRMD_TCTI} (Debian package libtss2-tcti-tabrmd0) is not installed"
    for program, package in PROGRAMS.items():
        if shutil.which(program) is None and not os.path.exists(f"/usr/sbin/{program}"):
            return f"{program} (Debian package {package}) is not installed"
    return ""


def free_ports() -> int:
    """A port p with p + 1 free too (swtpm's server and control ports)."""
    for _ in range(50):
        with socket.socket() as s:
            s.bind(("127.0.0.1", 0))
            port = s.getsockname()[1]
        with socket.socket() as s:
            try:
                s.bind(("127.0.0.1", port + 1))
                return port
            except OSError:
                continue
    raise RuntimeError("no two free ports in a row")


class TpmSignet(Signet):
    def __init__(self, folder: Path, algorithm: str = "ES256"):
        super().__init__(folder, algorithm)
        self.children = []
        tpm = self.dir / "tpm"
        (tpm / "state").mkdir(parents=True)
        (tpm / "store").mkdir()
        port = free_ports()
        self.spawn(["swtpm", "socket", "--tpm2", "--tpmstate", f"dir={tpm / 'state'}",
                    "--server", f"type=tcp,port={port}", "--ctrl", f"type=tcp,port={port + 1}",
                    "--flags", "not-need-init,startup-clear"], "swtpm")
        self.wait_for(lambda: self.port_open(port), "swtpm")
        address_file = tpm / "dbus.address"
        with open(address_file, "w") as out:
            self.spawn(["dbus-daemon", "--session", "--nofork", "--print-address=1"], "dbus", stdout=out)
        self.wait_for(lambda: address_file.read_text().strip() != "", "dbus-daemon")
        self.tpm_env = {"DBUS_SESSION_BUS_ADDRESS": address_file.read_text().strip(),
                        "TPM2_PKCS11_TCTI": "tabrmd:bus_type=session",
                        "TPM2TOOLS_TCTI": "tabrmd:bus_type=session",
                        "TPM2_PKCS11_STORE": str(tpm / "store"),
                        "TSS2_LOG": "all+NONE"}
        abrmd = shutil.which("tpm2-abrmd") or "/usr/sbin/tpm2-abrmd"
        self.spawn([abrmd, "--session", f"--tcti=swtpm:port={port}", "--allow-root"], "tpm2-abrmd")
        self.wait_for(lambda: subprocess.run(["tpm2_getrandom", "4"], env=self.env(), capture_output=True).returncode == 0,
                      "tpm2-abrmd")
        self.pin = "12345678"
        self.pin_file.write_text(self.pin)
        run(["tpm2_ptool", "init", f"--path={tpm / 'store'}"], env=self.env())
        run(["tpm2_ptool", "addtoken", "--pid=1", f"--sopin={SO_PIN}", f"--userpin={self.pin}",
             f"--label={TOKEN_LABEL}", f"--path={tpm / 'store'}"], env=self.env())
        self.config["hsm"]["module"] = MODULE

    def spawn(self, argv, name, stdout=None):
        log = open(self.dir / f"{name}.log", "ab")
        proc = subprocess.Popen(argv, env=self.env(), stdin=subprocess.DEVNULL, stdout=stdout or log, stderr=log)
        self.children.append((proc, log))

    def wait_for(self, ready, what, timeout=15):
        deadline = time.monotonic() + timeout
        while not ready():
            for proc, _ in self.children:
                if proc.poll() is not None:
                    raise RuntimeError(f"{what}: {proc.args[0]} exited with {proc.returncode}")
            if time.monotonic() > deadline:
                raise RuntimeError(f"{what} did not start within {timeout} s")
            time.sleep(0.1)

    @staticmethod
    def port_open(port) -> bool:
        with socket.socket() as s:
            return s.connect_ex(("127.0.0.1", port)) == 0

    def env(self) -> dict:
        return dict(super().env(), **getattr(self, "tpm_env", {}))

    def p11tool(self, *args) -> str:
        return run(["pkcs11-tool", "--module", MODULE, "--token-label", TOKEN_LABEL, "--login", "--pin", self.pin,
                    *args], env=self.env()).stdout

    def close(self):
        if self.proc is not None:
            self.stop()
        for proc, log in reversed(self.children):
            proc.terminate()
            try:
                proc.wait(timeout=10)
            except subprocess.TimeoutExpired:
                proc.kill()
                proc.wait()
            log.close()
