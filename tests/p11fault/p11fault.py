"""Steering libsignet-p11fault.so from Python tests.

The fault module (see README.md beside this file) re-reads its control file whenever the file
changes. FaultControl keeps the rules in memory and rewrites the whole file atomically (a
temporary file in the same folder, then os.replace) after every change, so calls compose:

    control = FaultControl(tmp_path / "p11fault.control")
    control.fail("C_Sign", "CKR_DEVICE_ERROR", every=3)
    control.latency(200, "C_Sign")
    control.reboot()
    control.clear()

and trace_lines() reads the trace file (SIGNET_P11FAULT_TRACE) as (function, code name) pairs.
"""

from __future__ import annotations

import os
import tempfile
from pathlib import Path
from typing import Iterable, List, Optional, Tuple, Union

Funcs = Union[str, Iterable[str]]


def _funcs_text(funcs: Funcs) -> str:
    names = [funcs] if isinstance(funcs, str) else list(funcs)
    text = ",".join(name.strip() for name in names)
    if not text or any(c.isspace() for c in text):
        raise ValueError(f"bad function list {funcs!r}: '*' or names like C_Sign,C_SignInit")
    return text


def _code_text(code: Union[str, int]) -> str:
    if isinstance(code, int):
        if code < 0:
            raise ValueError(f"bad code {code}")
        return hex(code)
    if code.startswith("CKR_") or code.lower().startswith("0x"):
        return code
    raise ValueError(f"bad code {code!r}: a CKR_ name or 0x-hex")


def trace_lines(trace_path: Union[str, os.PathLike]) -> List[Tuple[str, str]]:
    """The trace file as [(function, code name)], e.g. ("C_Login", "CKR_PIN_INCORRECT");
    codes without a name read as hex ("0x80000042"). A missing file is an empty trace."""
    try:
        text = Path(trace_path).read_text()
    except FileNotFoundError:
        return []
    lines = []
    for line in text.splitlines():
        function, _, rv = line.partition(" ")
        if function:
            lines.append((function, rv))
    return lines


class FaultControl:
    """The control file of a running fault module, rewritten whole on every change."""

    def __init__(self, path: Union[str, os.PathLike]):
        self.path = Path(path)
        self._fails: List[str] = []
        self._latencies: List[str] = []
        self._capacity: Optional[int] = None
        # Go on from the generation already in the file: a process that acted on it would
        # ignore a lower one, so a fresh FaultControl must not start again at 0.
        self.generation = self._generation_in_file()

    def fail(self, funcs: Funcs, code: Union[str, int], every: Optional[int] = None,
             after: Optional[int] = None) -> "FaultControl":
        """Matching calls answer `code` without reaching the token. funcs: "*", "C_Sign",
        "C_Sign,C_SignInit" or a list of names; every=N: only each Nth matching call;
        after=M: let the first M matching calls through first."""
        line = f"fail {_funcs_text(funcs)} {_code_text(code)}"
        if every is not None:
            if int(every) < 1:
                raise ValueError("every must be at least 1")
            line += f" every {int(every)}"
        if after is not None:
            if int(after) < 0:
                raise ValueError("after must not be negative")
            line += f" after {int(after)}"
        self._fails.append(line)
        self._write()
        return self

    def latency(self, ms: int, funcs: Optional[Funcs] = None) -> "FaultControl":
        """Matching calls (all but the set-up functions when funcs is None) wait ms first."""
        if int(ms) < 0:
            raise ValueError("latency must not be negative")
        line = f"latency_ms {int(ms)}"
        if funcs is not None:
            line += f" {_funcs_text(funcs)}"
        self._latencies.append(line)
        self._write()
        return self

    def reboot(self) -> int:
        """The next call into the module first closes every session (logged out, session and
        private-object handles dead). Answers the new generation."""
        self.generation += 1
        self._write()
        return self.generation

    def capacity(self, objects: int) -> "FaultControl":
        """The token holds at most `objects` token objects: creating more answers
        CKR_DEVICE_MEMORY, as a full HSM does, until something is destroyed."""
        self._capacity = objects
        self._write()
        return self

    def clear(self) -> "FaultControl":
        """No fail, latency or capacity rule any more (the reboot generation stays)."""
        self._fails.clear()
        self._latencies.clear()
        self._capacity = None
        self._write()
        return self

    def text(self) -> str:
        """The control file as it is written."""
        lines = ["# written by p11fault.py"] + self._fails + self._latencies
        if self._capacity is not None:
            lines.append(f"capacity {self._capacity}")
        if self.generation > 0:
            lines.append(f"reboot {self.generation}")
        return "\n".join(lines) + "\n"

    @staticmethod
    def trace_lines(trace_path: Union[str, os.PathLike]) -> List[Tuple[str, str]]:
        return trace_lines(trace_path)

    def _generation_in_file(self) -> int:
        try:
            text = self.path.read_text()
        except FileNotFoundError:
            return 0
        generation = 0
        for line in text.splitlines():
            words = line.split("#", 1)[0].split()
            if len(words) == 2 and words[0] == "reboot":
                try:
                    generation = max(generation, int(words[1]))
                except ValueError:
                    pass
        return generation

    def _write(self) -> None:
        folder = self.path.parent
        fd, temporary = tempfile.mkstemp(prefix=f".{self.path.name}.", dir=folder)
        try:
            with os.fdopen(fd, "w") as out:
                out.write(self.text())
            os.chmod(temporary, 0o644)
            os.replace(temporary, self.path)
        except BaseException:
            try:
                os.unlink(temporary)
            except FileNotFoundError:
                pass
            raise
