"""The install tree, the Debian packages cpack makes from this build, and the verifier library as
another C++ project uses it (find_package and pkg-config), all from the real build folder."""
import gzip
import os
import subprocess
from pathlib import Path

import pytest

from harness import SIGNETCTL

BUILD = Path(os.environ.get("SIGNET_BUILD_DIR", Path(__file__).resolve().parents[2] / "build"))
HERE = Path(__file__).resolve().parent
VERSION = subprocess.run([SIGNETCTL, "--version"], capture_output=True, text=True).stdout.split()[1]
MULTIARCH = subprocess.run(["dpkg-architecture", "-qDEB_HOST_MULTIARCH"], capture_output=True,
                           text=True).stdout.strip() or "x86_64-linux-gnu"


def run(*args, **kw):
    proc = subprocess.run(args, capture_output=True, text=True, timeout=600, **kw)
    assert proc.returncode == 0, f"{args}: {proc.stdout}\n{proc.stderr}"
    return proc.stdout


@pytest.fixture(scope="module")
def installed(tmp_path_factory):
    root = tmp_path_factory.mktemp("destdir")
    run("cmake", "--install", str(BUILD), env=dict(os.environ, DESTDIR=str(root)))
    return root


@pytest.fixture(scope="module")
def packages(tmp_path_factory):
    out = tmp_path_factory.mktemp("debs")
    run("cpack", "-G", "DEB", "-B", str(out), cwd=BUILD)
    return {p.name: p for p in out.glob("*.deb")}


EXPECTED = [
    "usr/sbin/signetd", "usr/bin/signetctl", "usr/lib/systemd/system/signetd.service",
    "usr/share/man/man8/signetd.8.gz", "usr/share/man/man1/signetctl.1.gz", "etc/signet/softhsm2.conf",
    "usr/share/doc/signet/examples/signet.json", "usr/share/doc/signet/API.md",
    "usr/include/signet/firmware/verify/verifier.h", "usr/include/signet/firmware/verify/jwks_fetcher.h",
    f"usr/lib/{MULTIARCH}/libsignet-verify.a", f"usr/lib/{MULTIARCH}/pkgconfig/signet-verify.pc",
    f"usr/lib/{MULTIARCH}/cmake/SignetVerify/SignetVerifyConfig.cmake",
]


def test_install_tree(installed):
    present = sorted(str(p.relative_to(installed)) for p in installed.rglob("*") if p.is_file())
    print("\n".join(present))
    for path in EXPECTED:
        assert path in present, path
    for program in ("usr/sbin/signetd", "usr/bin/signetctl"):
        assert os.access(installed / program, os.X_OK)
        assert run(str(installed / program), "--version").startswith(Path(program).name + " " + VERSION)


@pytest.mark.parametrize("page, title", [("man8/signetd.8.gz", ".TH SIGNETD 8"), ("man1/signetctl.1.gz", ".TH SIGNETCTL 1")])
def test_man_pages(installed, page, title):
    path = installed / "usr/share/man" / page
    text = gzip.decompress(path.read_bytes()).decode()
    assert title in text and VERSION in text
    rendered = run("man", "-l", str(path), env=dict(os.environ, MANWIDTH="80")) if os.path.exists("/usr/bin/man") else text
    assert "EXIT STATUS" in rendered


def test_the_packages(packages):
    assert {f"signet_{VERSION}_amd64.deb", f"libsignet-verify-dev_{VERSION}_amd64.deb"} <= set(packages), packages
    deb = packages[f"signet_{VERSION}_amd64.deb"]
    info = run("dpkg-deb", "-I", str(deb))
    print(info)
    fields = dict(line.strip().split(": ", 1) for line in run("dpkg-deb", "-f", str(deb)).splitlines()
                  if ": " in line and not line.startswith(" "))
    assert fields["Package"] == "signet" and fields["Version"] == VERSION
    for dependency in ("libgnutls30", "libmicrohttpd12", "libssl3", "libcurl4", "libc6", "procps"):
        assert dependency in fields["Depends"], f"{dependency} (shlibdeps) missing from {fields['Depends']}"
    for control in ("postinst", "prerm", "postrm", "conffiles"):
        assert f" {control}" in info, control
    control = subprocess.run(["dpkg-deb", "--ctrl-tarfile", str(deb)], capture_output=True).stdout
    listing = run("dpkg-deb", "-c", str(deb))
    print(listing)
    for path in EXPECTED[:8]:
        assert f"./{path}" in listing, path
    assert "/usr/local" not in listing and "root/root" in listing
    assert b"/etc/signet/softhsm2.conf" in control
    assert b"useradd --system" in control and b"deb-systemd-helper enable" in control


def test_the_dev_package(packages):
    deb = packages[f"libsignet-verify-dev_{VERSION}_amd64.deb"]
    listing = run("dpkg-deb", "-c", str(deb))
    assert "libsignet-verify.a" in listing and "SignetVerifyConfig.cmake" in listing and "verifier.h" in listing
    assert "signetd" not in listing
    assert "nlohmann-json3-dev" in run("dpkg-deb", "-f", str(deb), "Depends")


def test_find_package_signet_verify(installed, tmp_path):
    build = tmp_path / "consumer"
    run("cmake", "-S", str(HERE / "consumer"), "-B", str(build), f"-DCMAKE_PREFIX_PATH={installed}/usr")
    run("cmake", "--build", str(build))
    assert run(str(build / "consumer")).split() == ["1", "malformed"]


def test_pkg_config_signet_verify(installed, tmp_path):
    env = dict(os.environ, PKG_CONFIG_PATH=str(installed / f"usr/lib/{MULTIARCH}/pkgconfig"))
    flags = run("pkg-config", f"--define-variable=prefix={installed}/usr", "--cflags", "--libs", "signet-verify",
                env=env).split()
    assert any(f.endswith("/usr/include/signet") for f in flags), flags
    run("g++", "-std=c++20", "-o", str(tmp_path / "consumer"), str(HERE / "consumer/main.cpp"), *flags)
    assert run(str(tmp_path / "consumer")).split() == ["1", "malformed"]
