"""Signet on tpm2-pkcs11 1.9 (Debian 12) over swtpm, behind tpm2-abrmd. The TPM has RSA and P-256
but no EdDSA; tpm2-pkcs11 takes and reports CKA_ALLOWED_MECHANISMS, keeps token objects only (no
session keys), and refuses a public template whose CKA_VERIFY differs from what it derives from the
TPM object (CKR_GENERAL_ERROR), which is why Signet leaves CKA_VERIFY to the token."""
import functools

import pytest

import checks
import tpm
from checks import *  # noqa: F401,F403  (the shared tests, see checks.py)
from checks import made_by

if tpm.unavailable():
    pytest.skip(f"portability suite not run: {tpm.unavailable()}", allow_module_level=True)


# docs/HSMS.md, tpm2-pkcs11 quirk 4: from the first record rewrite (about 10 s after start) a data
# object gets the handle of a live key, which then answers CKA_VALUE with CKR_ATTRIBUTE_TYPE_INVALID
# ("Needed CKA_VALUE but didn't find encrypted blob"), so whatever reads the ring's records on the
# long-lived daemon fails. Not strict: the checks run and pass whenever the fault has not struck yet.
RECORDS_UNREADABLE = ("tpm2-pkcs11 1.9 hands a new data object the handle of a live key, whose CKA_VALUE "
                      "is CKR_ATTRIBUTE_TYPE_INVALID (docs/HSMS.md, tpm2-pkcs11 quirk 4)")


def _expected_to_fail(test):
    """A copy of a shared test marked xfail here only (marking the shared function would mark it
    in every suite)."""
    @functools.wraps(test)
    def copy(*args, **kwargs):
        return test(*args, **kwargs)
    return pytest.mark.xfail(reason=RECORDS_UNREADABLE, strict=False)(copy)


test_ring_records_are_data_objects_in_the_token = _expected_to_fail(checks.test_ring_records_are_data_objects_in_the_token)
test_evidence_and_metrics_agree = _expected_to_fail(checks.test_evidence_and_metrics_agree)
test_a_restart_adopts_the_same_key = _expected_to_fail(checks.test_a_restart_adopts_the_same_key)


@pytest.fixture(scope="module")
def implementation():
    with made_by(tpm.TpmSignet) as make:
        yield make


def test_the_tpm_keeps_every_promise(started):
    said = log_events(started, "hsm_guarantees")[0]  # noqa: F405
    assert said["allowed_mechanisms"] == "enforced"
    assert said["not_enforced_by_token"] == "none"
