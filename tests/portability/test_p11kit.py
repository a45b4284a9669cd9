"""Signet through p11-kit's PKCS#11 remoting: `p11-kit server` exports a SoftHSM2 token on a Unix
socket and signetd loads p11-kit-client.so as its module. p11-kit 0.24 (Debian 12) carries no
CKA_ALLOWED_MECHANISMS back (C_GetAttributeValue answers CKR_DEVICE_ERROR) and hides the
mechanisms whose parameters it cannot carry, among them CKM_EDDSA and CKM_SHA256_RSA_PKCS_PSS."""
import pytest

import remoted
from checks import *  # noqa: F401,F403  (the shared tests, see checks.py)
from checks import made_by

if remoted.unavailable():
    pytest.skip(f"portability suite not run: {remoted.unavailable()}", allow_module_level=True)


@pytest.fixture(scope="module")
def implementation():
    with made_by(remoted.RemotedSignet) as make:
        yield make


def test_the_binding_is_said_to_be_not_enforced_by_the_token(started):
    """The one guarantee this remoting cannot show: no key reads back as bound to its mechanism,
    and Signet says so rather than refusing to start."""
    said = log_events(started, "hsm_guarantees")[0]  # noqa: F405
    assert said["allowed_mechanisms"] == "not_reported"
    assert said["not_enforced_by_token"] == "allowed_mechanisms"
    assert said["level"] == "warn"
