"""p11fault.py against its promises: the lines it writes are the module's grammar, changes
compose, every rewrite is a new file (atomic replace), the reboot generation only goes up, and
the trace reads back as pairs. (The module's reading of the same lines is p11fault_test's.)"""

import os
import tempfile
import unittest
from pathlib import Path

from p11fault import FaultControl, trace_lines


def rule_lines(path):
    return [line for line in Path(path).read_text().splitlines() if not line.startswith("#")]


class FaultControlTest(unittest.TestCase):
    def setUp(self):
        self.dir = tempfile.TemporaryDirectory()
        self.path = Path(self.dir.name) / "control"

    def tearDown(self):
        self.dir.cleanup()

    def test_calls_compose(self):
        control = FaultControl(self.path)
        control.fail("C_Sign", "CKR_DEVICE_ERROR", every=3)
        control.fail(["C_Login", "C_OpenSession"], 0x80000042, after=2)
        control.latency(200, "C_Sign")
        control.latency(5)
        self.assertEqual(rule_lines(self.path), [
            "fail C_Sign CKR_DEVICE_ERROR every 3",
            "fail C_Login,C_OpenSession 0x80000042 after 2",
            "latency_ms 200 C_Sign",
            "latency_ms 5",
        ])

    def test_clear_keeps_the_generation(self):
        control = FaultControl(self.path)
        control.fail("*", "CKR_DEVICE_REMOVED")
        self.assertEqual(control.reboot(), 1)
        control.clear()
        self.assertEqual(rule_lines(self.path), ["reboot 1"])

    def test_a_new_helper_goes_on_from_the_files_generation(self):
        first = FaultControl(self.path)
        first.reboot()
        first.reboot()
        second = FaultControl(self.path)
        self.assertEqual(second.reboot(), 3)
        self.assertEqual(rule_lines(self.path), ["reboot 3"])

    def test_every_write_replaces_the_file(self):
        control = FaultControl(self.path)
        control.fail("C_Sign", "CKR_DEVICE_ERROR")
        inode = os.stat(self.path).st_ino
        control.latency(10)
        self.assertNotEqual(os.stat(self.path).st_ino, inode)
        self.assertEqual(sorted(os.listdir(self.dir.name)), ["control"])  # no temporary left

    def test_bad_arguments_are_refused(self):
        control = FaultControl(self.path)
        with self.assertRaises(ValueError):
            control.fail("C_Sign", "DEVICE_ERROR")
        with self.assertRaises(ValueError):
            control.fail("C_Sign C_Verify", "CKR_DEVICE_ERROR")
        with self.assertRaises(ValueError):
            control.fail("C_Sign", "CKR_DEVICE_ERROR", every=0)
        with self.assertRaises(ValueError):
            control.latency(-1)
        self.assertFalse(self.path.exists())

    def test_trace_lines(self):
        trace = Path(self.dir.name) / "trace"
        self.assertEqual(trace_lines(trace), [])
        trace.write_text("C_Login CKR_OK\nC_Login CKR_PIN_INCORRECT\nC_Sign 0x80000042\n")
        self.assertEqual(FaultControl.trace_lines(trace), [
            ("C_Login", "CKR_OK"), ("C_Login", "CKR_PIN_INCORRECT"), ("C_Sign", "0x80000042")])


if __name__ == "__main__":
    unittest.main()
