"""SIGTERM handling: a command run in-process leaves the caller's SIGTERM handler as it was."""

import signal

from contamkit.cli import main


def test_main_restores_the_callers_sigterm_handler(tmp_path):
    def mine(signum, frame):
        pass

    previous = signal.signal(signal.SIGTERM, mine)
    try:
        assert main(["info", str(tmp_path / "missing.bloom")]) == 2  # the command ran and failed
        assert signal.getsignal(signal.SIGTERM) is mine
    finally:
        signal.signal(signal.SIGTERM, previous)
