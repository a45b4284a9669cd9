"""A signetd on opencryptoki's soft token (slot 3, libpkcs11_sw.so), reached through
libopencryptoki.so and its slot daemon pkcsslotd.

opencryptoki keeps one system-wide store (/var/lib/opencryptoki/swtok) and one daemon, so the suite
cannot give each daemon a token of its own: it initializes the soft token once, with the label
TOKEN_LABEL, and its daemons share it as replicas do. It never touches a soft token that is
initialized with another label (someone else's keys). Re-initializing a used soft token with
C_InitToken leaves the SO login failing (CKR_FUNCTION_FAILED) in opencryptoki 3.8; the store is
therefore emptied and pkcsslotd restarted instead.
"""
import os
import re
import shutil
import subprocess
import time
from pathlib import Path

from harness import Signet, run

MODULE = "/usr/lib/x86_64-linux-gnu/pkcs11/libopencryptoki.so"
SLOT = "3"  # the soft token in Debian's /etc/opencryptoki/opencryptoki.conf
STORE = Path("/var/lib/opencryptoki/swtok")
PID_FILE = Path("/var/run/pkcsslotd.pid")
TOKEN_LABEL = "signet-portability"
DEFAULT_SO_PIN = "87654321"  # what a fresh soft token has
SO_PIN = "76543210"
USER_PIN = "12345678"  # the soft token takes 4 to 8 characters


def pkcsconf(*args) -> str:
    return run(["pkcsconf", "-c", SLOT, *args], stdin=subprocess.DEVNULL, timeout=60).stdout


def token_label() -> str:
    """The soft token's label, "" when it is not initialized."""
    info = run(["pkcsconf", "-t", "-c", SLOT], timeout=60).stdout
    if "TOKEN_INITIALIZED" not in info:
        return ""
    match = re.search(r"Label:\s*(.*?)\s*$", info, re.M)
    return match.group(1) if match else ""


def slotd_running() -> bool:
    return subprocess.run(["pgrep", "-x", "pkcsslotd"], capture_output=True).returncode == 0


class SoftToken:
    """The soft token, made fresh for one suite; stops the pkcsslotd it started."""

    def __init__(self):
        self.was_running = None  # pkcsslotd before the suite: left running at the end if it was

    def unavailable(self) -> str:
        if not os.path.exists(MODULE):
            return f"{MODULE} (Debian package opencryptoki) is not installed"
        if shutil.which("pkcsslotd") is None or shutil.which("pkcsconf") is None:
            return "pkcsslotd/pkcsconf (Debian package opencryptoki) are not installed"
        if os.geteuid() != 0:
            return "opencryptoki's store and pkcsslotd are system-wide; the suite must run as root"
        return ""

    def prepare(self) -> str:
        """Answers why the token cannot be used, or "" once it is fresh and logged-in-able."""
        self.was_running = slotd_running()
        if not self.was_running:
            self.start_slotd()
        label = token_label()
        if label not in ("", TOKEN_LABEL):
            return f"opencryptoki's soft token is in use (label '{label}'); the suite leaves it alone"
        self.stop_slotd()
        for entry in STORE.iterdir():
            shutil.rmtree(entry) if entry.is_dir() else entry.unlink()
        (STORE / "TOK_OBJ").mkdir(mode=0o770)
        shutil.chown(STORE / "TOK_OBJ", group="pkcs11")
        self.start_slotd()
        subprocess.run(["pkcsconf", "-c", SLOT, "-I", "-S", DEFAULT_SO_PIN], input=TOKEN_LABEL + "\n",
                       capture_output=True, text=True, timeout=60, check=True)
        pkcsconf("-P", "-S", DEFAULT_SO_PIN, "-n", SO_PIN)
        pkcsconf("-u", "-S", SO_PIN, "-n", USER_PIN)
        return ""

    def start_slotd(self):
        # It daemonizes: its output must not be a pipe that subprocess waits on.
        subprocess.run(["pkcsslotd"], stdin=subprocess.DEVNULL, stdout=subprocess.DEVNULL,
                       stderr=subprocess.DEVNULL, timeout=60, check=True)
        deadline = time.monotonic() + 10
        while not slotd_running():
            assert time.monotonic() < deadline, "pkcsslotd did not start"
            time.sleep(0.1)

    def stop_slotd(self):
        if not slotd_running():
            return
        pid = int(PID_FILE.read_text().strip())
        os.kill(pid, 15)
        deadline = time.monotonic() + 10
        while slotd_running() and time.monotonic() < deadline:
            time.sleep(0.1)

    def close(self):
        if self.was_running is False:
            self.stop_slotd()


class OpencryptokiSignet(Signet):
    def __init__(self, folder: Path, algorithm: str = "ES256"):
        super().__init__(folder, algorithm)
        self.pin = USER_PIN
        self.pin_file.write_text(self.pin)
        self.config["hsm"]["module"] = MODULE
        self.config["hsm"]["token_label"] = TOKEN_LABEL

    def p11tool(self, *args) -> str:
        return run(["pkcs11-tool", "--module", MODULE, "--token-label", TOKEN_LABEL, "--login", "--pin", self.pin,
                    *args], env=self.env()).stdout

    def close(self):
        if self.proc is not None:
            self.stop()
