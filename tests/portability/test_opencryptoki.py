"""Signet on opencryptoki 3.8's soft token (Debian 12). It predates PKCS#11 2.40: C_GenerateKeyPair
refuses CKA_ALLOWED_MECHANISMS, CKA_COPYABLE and CKA_DESTROYABLE (CKR_ATTRIBUTE_TYPE_INVALID), so
keys are made without them; and it has no CKM_SHA256_RSA_PKCS, no ECDSA and no EdDSA: PS256 only."""
import pytest

import opencryptoki
from checks import *  # noqa: F401,F403  (the shared tests, see checks.py)
from checks import made_by

_token = opencryptoki.SoftToken()
if _token.unavailable():
    pytest.skip(f"portability suite not run: {_token.unavailable()}", allow_module_level=True)


@pytest.fixture(scope="module")
def preferred_algorithm():
    return "PS256"


@pytest.fixture(scope="module")
def implementation():
    why = _token.prepare()
    if why:
        _token.close()
        pytest.skip(f"portability suite not run: {why}")
    with made_by(opencryptoki.OpencryptokiSignet) as make:
        yield make
    _token.close()


def test_keys_are_made_without_the_attributes_the_token_refuses(started):
    said = log_events(started, "hsm_guarantees")[0]  # noqa: F405
    assert said["allowed_mechanisms"] == "not_accepted"
    assert said["not_enforced_by_token"] == "allowed_mechanisms"
