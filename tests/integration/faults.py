"""A signetd whose token is reached through libsignet-p11fault.so (tests/p11fault), so that a
test can make the HSM fail, stall, reboot, fill up or vanish, and look into the real token
past the daemon with pkcs11-tool."""
import os
import re
import sys
import time
from pathlib import Path

from harness import MODULE, REPO, Signet, run

sys.path.insert(0, str(REPO / "tests" / "p11fault"))
from p11fault import FaultControl, trace_lines  # noqa: E402,F401  (trace_lines: for the tests)

FAULT_MODULE = os.environ.get("SIGNET_P11FAULT", str(REPO / "build" / "lib" / "libsignet-p11fault.so"))
RECOVERY_TIMEOUT = 30.0


class FaultySignet(Signet):
    """A Signet whose token is reached through the fault module."""

    def __init__(self, folder: Path):
        super().__init__(folder)
        self.control = FaultControl(self.dir / "faults")
        self.trace = self.dir / "p11.trace"
        self.config["hsm"]["module"] = FAULT_MODULE
        self.extra_env = {}  # e.g. SIGNET_FAILPOINT for the next start

    def env(self) -> dict:
        return dict(super().env(), SIGNET_P11FAULT_MODULE=MODULE, SIGNET_P11FAULT_CONTROL=str(self.dir / "faults"),
                    SIGNET_P11FAULT_TRACE=str(self.trace), **self.extra_env)

    def p11tool(self, *args) -> str:
        """pkcs11-tool on the real token, logged in."""
        return run(["pkcs11-tool", "--module", MODULE, "--token-label", "signet", "--login", "--pin", self.pin,
                    *args], env=super().env()).stdout

    def key_labels(self) -> set:
        """The labels of the Signet private keys in the token, read past signetd."""
        listing = self.p11tool("--list-objects", "--type", "privkey")
        return set(re.findall(r"label:\s+(signet:[0-9a-f]+)", listing))

    def wait_ready(self, timeout=RECOVERY_TIMEOUT) -> float:
        """Seconds until /readyz says 200."""
        started = time.monotonic()
        while self.get("/readyz").status != 200:
            assert time.monotonic() - started < timeout, f"not ready after {timeout} s:\n{self.stderr()[-3000:]}"
            time.sleep(0.1)
        return time.monotonic() - started

    def metric(self, name: str) -> float:
        text = self.get("/metrics").body.decode()
        match = re.search(rf"^{name} (\S+)$", text, re.M)
        assert match, f"{name} not in /metrics"
        return float(match.group(1))
