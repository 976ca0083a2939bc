"""What every writing command must do with its output, as checks each command's tests reuse,
end to end through the command line (``contamkit.cli.main`` in this process):

* ``refuses_inputs``: an output that is, or lies inside, an input is a one-line error naming it,
  and no input changes;
* ``refuses_foreign``: an existing folder of the user's is a one-line error asking for
  ``--force``, kept as it was; with ``--force`` it is replaced;
* ``keeps_previous_on_failure``: a run that fails at a step where it changes the file system
  (``contamkit.common.faults.step`` made to raise ENOSPC, as a full disk would) leaves the
  previous output exactly as it was (or the new one whole, once published) and no temporary.
"""

from __future__ import annotations

import errno
import hashlib
import os
from collections.abc import Callable, Iterable
from dataclasses import dataclass
from pathlib import Path

from contamkit.cli import main
from contamkit.common import faults

SLOW = os.environ.get("CONTAM_SLOW_TESTS") == "1"
USER_FILE = "thesis.tex"  # what a user keeps in a folder no command wrote


@dataclass
class Result:
    """A command's exit status and output, as ``subprocess.run`` gives them."""

    returncode: int
    stdout: str
    stderr: str


def run_cli(capsys, args: Iterable) -> Result:
    """``contamkit.cli.main(args)`` here, with what it printed."""
    capsys.readouterr()
    code = main([str(a) for a in args])
    out, err = capsys.readouterr()
    return Result(code, out, err)


def one_line_error(r, *words) -> str:
    """Exit 2 and one line on stderr, no traceback, holding every one of ``words``."""
    assert r.returncode == 2, r.stderr
    lines = r.stderr.strip().splitlines()
    assert len(lines) == 1 and "Traceback" not in r.stderr, r.stderr
    for w in words:
        assert w in lines[0], lines[0]
    return lines[0]


def tree(path: Path) -> dict[str, str]:
    """sha256 of every file of a file or directory tree, by relative path."""
    if path.is_file():
        return {".": hashlib.sha256(path.read_bytes()).hexdigest()}
    return {p.relative_to(path).as_posix(): hashlib.sha256(p.read_bytes()).hexdigest()
            for p in sorted(path.rglob("*")) if p.is_file()}


def listing(folder: Path) -> tuple[int, list[str]]:
    """How many entries, and the hidden ones (every temporary's name starts with a dot)."""
    names = [p.name for p in folder.iterdir()]
    return len(names), sorted(n for n in names if n.startswith("."))


def refuses_inputs(capsys, command: Callable[[Path], list], outs: Iterable[Path],
                   inputs: Iterable[Path]) -> None:
    """``command(out)`` for each ``out`` (an input, or a path inside one) is refused with one
    line naming ``out``, and leaves every input as it was."""
    inputs = list(inputs)
    before = [tree(p) for p in inputs]
    for out in outs:
        one_line_error(run_cli(capsys, command(out)), str(out), "input")
        assert [tree(p) for p in inputs] == before, f"-o {out} changed an input"


def refuses_foreign(capsys, command: Callable[[Path], list], out: Path, kind: str) -> None:
    """A folder ``out`` holding a file of the user's is refused (naming it, its kind and
    ``--force``) and kept; ``--force`` replaces it."""
    out.mkdir()
    (out / USER_FILE).write_text("keep")
    one_line_error(run_cli(capsys, command(out)), str(out), f"is not a {kind}", "--force")
    assert tree(out) == {USER_FILE: hashlib.sha256(b"keep").hexdigest()}
    r = run_cli(capsys, [*command(out), "--force"])
    assert r.returncode == 0, r.stderr
    assert not (out / USER_FILE).exists()


def _failing_at(n: int | None, steps: list[int]) -> Callable[[], None]:
    """A ``faults.step`` that counts into ``steps`` and raises ENOSPC at step ``n``."""
    def step() -> None:
        steps[0] += 1
        if steps[0] == n:
            raise OSError(errno.ENOSPC, "No space left on device (injected)")
    return step


def failure_points(total: int) -> list[int]:
    """Steps to fail at: all with ``CONTAM_SLOW_TESTS=1``; else the first, one in the middle
    (some files written, others not) and the last two (just before and after publishing)."""
    if SLOW:
        return list(range(1, total + 1))
    return sorted({1, max(1, total // 2), max(1, total - 1), total})


def keeps_previous_on_failure(capsys, monkeypatch, args_a: list, args_b: list, out: Path,
                              state: Callable[[Path], object] = tree) -> list[int]:
    """Write ``out`` with ``args_a``, then fail runs of ``args_b`` at their steps: after each,
    ``out`` is exactly A's (or exactly B's, when the failure came after publishing) and its
    folder holds what it held; returns the steps failed at. ``state(out)`` is what is compared
    (default: every file's bytes)."""
    steps = [0]
    monkeypatch.setattr(faults, "step", _failing_at(None, steps))
    assert run_cli(capsys, args_b).returncode == 0
    total, after = steps[0], state(out)
    assert total >= 2
    assert run_cli(capsys, args_a).returncode == 0
    before, entries = state(out), listing(out.parent)
    assert before != after  # else old and new could not be told apart
    points = failure_points(total)
    for n in points:
        steps[0] = 0
        monkeypatch.setattr(faults, "step", _failing_at(n, steps))
        r = run_cli(capsys, args_b)
        assert r.returncode == 1 and "injected" in r.stderr, f"step {n} of {total}: {r.stderr}"
        now = state(out)
        assert now in (before, after), f"failed at step {n} of {total}: neither old nor new"
        assert listing(out.parent) == entries, f"step {n}: debris {listing(out.parent)}"
        if now == after:
            monkeypatch.setattr(faults, "step", _failing_at(None, steps))
            assert run_cli(capsys, args_a).returncode == 0 and state(out) == before
    if SLOW:  # the figures of the full run (docs/reliability.md)
        with capsys.disabled():
            print(f"{args_b[0]}: failed at {len(points)} of {total} steps")
    return points
