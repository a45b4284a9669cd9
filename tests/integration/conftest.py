"""Fixtures: a running signetd per test module (one per algorithm where a module asks for it),
and provisioned ones, not started, for a test of its own."""
import pytest

from harness import Signet


@pytest.fixture(scope="module")
def signet(tmp_path_factory):
    """An ES256 signetd with the harness's default clients, stopped (SIGTERM) after the module."""
    with Signet(tmp_path_factory.mktemp("signet")) as daemon:
        yield daemon


@pytest.fixture
def fresh(tmp_path):
    """A provisioned but not started signetd, for start-up and shutdown tests."""
    daemon = Signet(tmp_path / "signet")
    yield daemon
    if daemon.proc is not None:
        daemon.stop()


def _with_the_ledger(daemon):
    daemon.config["audit"] = {"file": "audit.log"}
    yield daemon
    if daemon.proc is not None:
        daemon.stop()


@pytest.fixture
def audited(tmp_path):
    """A provisioned but not started signetd with the audit ledger on, in audit.log."""
    yield from _with_the_ledger(Signet(tmp_path / "s"))


@pytest.fixture
def audited_faulty(tmp_path):
    """The same, its token reached through the fault-injecting PKCS#11 module (faults.py)."""
    from faults import FaultySignet  # only the tests that ask for it need the module built
    yield from _with_the_ledger(FaultySignet(tmp_path / "s"))
