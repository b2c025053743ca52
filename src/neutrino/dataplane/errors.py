"""Dataplane failures, split by what the caller should do about them.

A reconciler retries a ``TemporaryError`` later (a daemon not up yet, a timeout, a device
busy) and records a ``PermanentError`` without retrying (a bad argument, a missing program).
Both carry the operation and the object it was about, so logs read as "what on which".
"""

from __future__ import annotations

import errno as errno_codes


class DataplaneError(Exception):
    temporary = False

    def __init__(self, op: str, target: str, detail: str = "", errno: int | None = None) -> None:
        self.op = op
        self.target = target
        self.detail = detail.strip()
        self.errno = errno
        super().__init__(f"{op} {target}: {self.detail}" if self.detail else f"{op} {target}")


class TemporaryError(DataplaneError):
    temporary = True


class PermanentError(DataplaneError):
    pass


class CommandFailed(PermanentError):
    """A program exited non-zero; ``argv``, ``returncode`` and ``stderr`` say how."""

    def __init__(self, argv: list[str], returncode: int, stdout: str, stderr: str) -> None:
        self.argv = argv
        self.returncode = returncode
        self.stdout = stdout
        self.stderr = stderr
        super().__init__("run", " ".join(argv), f"exit {returncode}: {stderr.strip() or stdout.strip()}")


class CommandTimeout(TemporaryError):
    def __init__(self, argv: list[str], timeout: float) -> None:
        self.argv = argv
        super().__init__("run", " ".join(argv), f"no answer within {timeout:g}s")


class ProgramMissing(PermanentError):
    def __init__(self, program: str) -> None:
        super().__init__("run", program, "program not installed (see the README's apt packages)")


# errno values that mean "try again later" rather than "the request is wrong"
TEMPORARY_ERRNOS = frozenset({errno_codes.EBUSY, errno_codes.EAGAIN, errno_codes.ENOBUFS, errno_codes.EINTR})


def from_errno(op: str, target: str, code: int, detail: str = "") -> DataplaneError:
    cls = TemporaryError if code in TEMPORARY_ERRNOS else PermanentError
    return cls(op, target, detail or errno_codes.errorcode.get(code, str(code)), errno=code)
