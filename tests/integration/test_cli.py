"""The command lines of signetd and signetctl: --version, --help (also per verb), and usage
errors (exit 2, one line naming the option) for unknown options and missing values."""
import os
import re
import subprocess

import pytest

from harness import SIGNETCTL, SIGNETD

VERSION = re.compile(r"^(signetd|signetctl) \d+\.\d+\.\d+ \(git ([0-9a-f]{7,40}|unknown)\)$")
VERBS = ["init", "hash-secret", "jwks", "token", "keys", "verify", "audit"]


def run(program, *args):
    return subprocess.run([program, *args], capture_output=True, text=True, timeout=30,
                          stdin=subprocess.DEVNULL)


def usage_error(proc, program, option):
    assert proc.returncode == 2, proc
    lines = proc.stderr.strip().splitlines()
    assert len(lines) == 1, proc.stderr
    assert lines[0].startswith(program + ":"), proc.stderr
    assert option in lines[0], f"the error names {option}: {proc.stderr}"
    assert proc.stdout == ""


@pytest.mark.parametrize("program", [SIGNETD, SIGNETCTL])
def test_version_names_the_program_version_and_revision(program):
    proc = run(program, "--version")
    assert proc.returncode == 0, proc
    assert VERSION.match(proc.stdout.strip()), proc.stdout
    assert proc.stdout.split()[0] in program


def test_version_matches_the_project():
    cmake = (__import__("harness").REPO / "CMakeLists.txt").read_text()
    project_version = re.search(r"project\(signet VERSION (\S+)", cmake).group(1)
    for program in (SIGNETD, SIGNETCTL):
        assert run(program, "--version").stdout.split()[1] == project_version


@pytest.mark.parametrize("program", [SIGNETD, SIGNETCTL])
def test_help_exits_0_with_usage(program):
    proc = run(program, "--help")
    assert proc.returncode == 0, proc
    assert proc.stdout.startswith("usage:"), proc.stdout
    assert proc.stderr == ""


def test_signetd_help_names_the_default_config():
    assert "(default /etc/signet/signet.json)" in run(SIGNETD, "--help").stdout


@pytest.mark.parametrize("verb", VERBS)
def test_each_verb_has_help(verb):
    proc = run(SIGNETCTL, verb, "--help")
    assert proc.returncode == 0, proc
    first = proc.stdout.splitlines()[0]
    assert first.startswith(f"usage: signetctl {verb}"), proc.stdout
    # Not the overview: a verb's own text.
    assert proc.stdout != run(SIGNETCTL, "--help").stdout


def test_help_after_a_verb_does_not_run_it():
    proc = run(SIGNETCTL, "hash-secret", "--help")  # would otherwise wait for stdin
    assert proc.returncode == 0 and "SHA-256" in proc.stdout


def test_no_verb_is_a_usage_error():
    usage_error(run(SIGNETCTL), "signetctl", "verb")


@pytest.mark.parametrize("args, option", [
    (["token", "issue", "--url", "https://x", "--profile", "p", "--sub", "s", "--tll", "10m"], "--tll"),
    (["jwks", "--bogus"], "--bogus"),
    (["jwks", "-x"], "-x"),                             # an operand jwks does not take
    (["keys", "list", "extra", "--url", "https://x"], "extra"),
    (["keys", "revoke", "a/../b", "--url", "https://x"], "a/../b"),  # not a key id
    (["jwks", "--url", "https://x", "--", "--json"], "--json"),  # after --, an operand
    (["jwks", "--url"], "--url"),                       # missing value at the end
    (["jwks", "--url", "--cacert", "ca.crt"], "--url"),  # the next option is not its value
    (["jwks", "--url="], "--url"),
    (["jwks", "--json=yes", "--url", "https://x"], "--json"),  # a flag takes no value
    (["jwks", "--url", "https://x", "--url", "https://y"], "--url"),
    (["jwks", "--url", "https://x", "--sub", "alice"], "--sub"),  # an option of another verb
    (["init", "--config-dir", "/tmp/x"], "--module"),    # a required option
])
def test_signetctl_usage_errors_name_the_option(args, option):
    usage_error(run(SIGNETCTL, *args), "signetctl", option)


def test_help_text_is_not_printed_on_usage_errors():
    proc = run(SIGNETCTL, "--frobnicate")
    usage_error(proc, "signetctl", "--frobnicate")


@pytest.mark.parametrize("args, option", [
    (["--bogus"], "--bogus"),
    (["--config"], "--config"),
    (["--config", "--check"], "--config"),
    (["--check", "extra"], "extra"),
])
def test_signetd_usage_errors_name_the_option(args, option):
    usage_error(run(SIGNETD, *args), "signetd", option)


def test_signetd_without_config_reads_the_default_path():
    if os.path.exists("/etc/signet/signet.json"):
        pytest.skip("this machine has an installed /etc/signet/signet.json")
    proc = run(SIGNETD, "--check")
    # No installed configuration here: the error names the default file.
    assert proc.returncode == 2, proc
    assert proc.stderr.startswith("signetd: /etc/signet/signet.json: cannot be read"), proc.stderr


@pytest.mark.parametrize("kid", ["-Dz7uhg-xQ6ihU9YnjxkAe5JmXgxCVe_-1_CKa5tqEQ", "--Dz7uhg-xQ6ihU9YnjxkAe5JmXgxCVe_-1_CKa5tqE"])
def test_a_key_id_starting_with_a_dash_is_an_operand(kid):
    """Key ids are base64url and may start with '-': one is an operand as it is, and one that
    starts with '--' is after '--'. Both reach the server (here none listens: exit 1, not 2)."""
    env = dict(os.environ, SIGNET_API_KEY="k")
    words = [kid] if not kid.startswith("--") else ["--", kid]
    proc = subprocess.run([SIGNETCTL, "keys", "--url", "https://127.0.0.1:1", "revoke", *words],
                          capture_output=True, text=True, timeout=30, stdin=subprocess.DEVNULL, env=env)
    assert proc.returncode == 1, proc
    assert "127.0.0.1" in proc.stderr or "connect" in proc.stderr.lower(), proc.stderr
