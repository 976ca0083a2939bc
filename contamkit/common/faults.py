"""A test hook that kills this process at its Nth step: proof that a kill anywhere loses nothing.

``step()`` is called at every point where a command changes the file system (a file written
and about to be renamed into place, a rename done, a directory swapped). With the environment
variable ``CONTAM_KILL_AT=N`` the process sends itself SIGKILL at its Nth step; the fault tests
(tests/contamkit/test_kill_steps.py) run each command with N = 1, 2, ... and check that the
previous output survives every kill. Unset (always, outside those tests), a step costs one
dictionary lookup.
"""

from __future__ import annotations

import os
import signal

_steps = 0


def step() -> None:
    """One more step; the one named by ``CONTAM_KILL_AT`` kills this process (SIGKILL)."""
    at = os.environ.get("CONTAM_KILL_AT")
    if not at:
        return
    global _steps
    _steps += 1
    if _steps == int(at):
        os.kill(os.getpid(), signal.SIGKILL)
