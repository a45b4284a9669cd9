"""Fixtures: a running signetd per test module (one per algorithm where a module asks for it)."""
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
