"""The packaged systemd unit: hardened to an exposure of 2.0 or less by systemd's own measure,
and saying what the appliance relies on (Type=notify, no restart on exit 2 or 3, the PIN as a
credential, no capabilities)."""
import os
import re
import shutil
import subprocess
from pathlib import Path

import pytest

BUILD = Path(os.environ.get("SIGNET_BUILD_DIR", Path(__file__).resolve().parents[2] / "build"))
UNIT = BUILD / "packaging" / "signetd.service"
MAX_EXPOSURE = 2.0


def directives():
    """{key: [values]} of the unit, in order; an empty assignment is kept as ""."""
    found = {}
    for line in UNIT.read_text().splitlines():
        if "=" in line and not line.startswith(("#", "[")):
            key, value = line.split("=", 1)
            found.setdefault(key.strip(), []).append(value.strip())
    return found


def test_exposure_is_at_most_2():
    analyze = shutil.which("systemd-analyze")
    if analyze is None:
        pytest.skip("systemd-analyze is not installed (Debian package systemd): the exposure score cannot be measured")
    proc = subprocess.run([analyze, "security", "--offline=yes", str(UNIT)], capture_output=True, text=True,
                          timeout=60)
    match = re.search(r"Overall exposure level for signetd\.service: (\d+\.\d+)", proc.stdout)
    assert match, proc.stdout + proc.stderr
    score = float(match.group(1))
    print(f"systemd-analyze security --offline=yes: exposure {score}")
    assert score <= MAX_EXPOSURE, proc.stdout


def test_the_contract_with_systemd():
    d = directives()
    assert d["Type"] == ["notify"]
    assert d["ExecStart"] == ["/usr/sbin/signetd --config /etc/signet/signet.json"]
    assert "HUP" in d["ExecReload"][0] and "$MAINPID" in d["ExecReload"][0]
    assert d["Restart"] == ["on-failure"]
    assert d["RestartPreventExitStatus"] == ["2 3 4"], "configuration, HSM and TLS failures are not retried"
    assert d["User"] == ["signet"] and "DynamicUser" not in d
    assert d["LoadCredential"] == ["hsm.pin:/etc/signet/hsm.pin"]
    assert d["ConditionPathExists"] == ["/etc/signet/signet.json"]


def test_the_sandbox_of_security_5b():
    d = directives()
    assert d["ProtectSystem"] == ["strict"]
    assert d["StateDirectory"] == ["signet"] and "ReadWritePaths" not in d, "only /var/lib/signet is writable"
    assert d["CapabilityBoundingSet"] == [""] and d["AmbientCapabilities"] == [""]
    assert d["SystemCallFilter"][0] == "@system-service"
    for key in ("NoNewPrivileges", "MemoryDenyWriteExecute", "PrivateDevices", "PrivateTmp", "ProtectHome",
                "LockPersonality", "RestrictRealtime", "RestrictSUIDSGID", "RestrictNamespaces",
                "ProtectKernelTunables", "ProtectKernelModules", "ProtectKernelLogs", "ProtectControlGroups",
                "ProtectClock", "ProtectHostname"):
        assert d[key] == ["yes"], key
    assert d["RestrictAddressFamilies"] == ["AF_UNIX AF_INET AF_INET6"]
    assert d["ProtectProc"] == ["invisible"] and d["ProcSubset"] == ["pid"]
    assert d["UMask"] == ["0077"] and d["LimitCORE"] == ["0"]
