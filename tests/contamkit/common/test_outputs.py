"""Inputs are never outputs; outputs appear whole; temporaries of killed runs are cleared."""

from __future__ import annotations

import os
import subprocess
import sys

import pytest

from contamkit.common.atomic import atomic_open
from contamkit.common.errors import UserError
from contamkit.common.outputs import check_output, remove_stale, staged_dir, temp_path


def dead_pid() -> int:
    """The id of a process that has exited (and been reaped)."""
    p = subprocess.run([sys.executable, "-c", "import os; print(os.getpid())"],
                       capture_output=True, text=True, check=True)
    return int(p.stdout)


def test_an_input_is_never_an_output(tmp_path):
    corpus = tmp_path / "corpus"
    corpus.mkdir()
    (corpus / "a.txt").write_text("x")
    (tmp_path / "link").symlink_to(corpus / "a.txt")
    for out in (corpus / "a.txt", corpus / "f.bloom", corpus / "sub" / "f.bloom",
                tmp_path / "link"):
        with pytest.raises(UserError, match="input"):
            check_output(out, [corpus], kind="filter file")
    with pytest.raises(UserError, match="holds the input"):  # a directory output around it
        check_output(tmp_path, [corpus], kind="data directory", directory=True)
    assert (corpus / "a.txt").read_text() == "x"


def test_places_nothing_can_be_written(tmp_path):
    (tmp_path / "file").write_text("x")
    (tmp_path / "dir").mkdir()
    cases = [(tmp_path / "dir", False, "is a directory"),
             (tmp_path / "file" / "f.bloom", False, "is a file, so nothing can be written"),
             (tmp_path / "file", True, "is a file, not a directory"),
             ("/proc/contamkit-test/f.bloom", False, "cannot write")]
    for out, directory, match in cases:
        with pytest.raises(UserError, match=match):
            check_output(out, [], kind="output", directory=directory)


def test_only_its_own_kind_is_replaced_without_force(tmp_path):
    other = tmp_path / "notes.txt"
    other.write_text("precious")
    with pytest.raises(UserError, match="is not a filter file; refusing .* --force"):
        check_output(other, [], kind="filter file", own=lambda p: False)
    check_output(other, [], kind="filter file", own=lambda p: True)
    check_output(other, [], kind="filter file", own=lambda p: False, force=True)
    assert other.read_text() == "precious"  # checking writes nothing


def test_temporaries_are_unique_and_debris_of_dead_runs_is_removed(tmp_path):
    out = tmp_path / "f.bloom"
    assert temp_path(out) != temp_path(out)
    dead, live = dead_pid(), os.getppid()
    debris = [tmp_path / f".f.bloom.{dead}-abcd1234.tmp", tmp_path / f".f.bloom.spill-{dead}-x1"]
    debris[0].write_bytes(b"half")
    debris[1].mkdir()
    running = tmp_path / f".f.bloom.{live}-abcd1234.tmp"  # another run's work in progress
    running.write_bytes(b"busy")
    unrelated = tmp_path / ".g.bloom.1-abcd1234.tmp"
    unrelated.write_bytes(b"")
    assert remove_stale(out) == 2
    assert not any(p.exists() for p in debris) and running.exists() and unrelated.exists()


def test_two_writers_of_one_path_never_share_a_temporary(tmp_path):
    out = tmp_path / "f.bin"
    with atomic_open(out) as a, atomic_open(out) as b:
        a.write(b"first")
        b.write(b"second")
    assert out.read_bytes() == b"first"  # the last to publish wins; no error, no debris
    assert [p.name for p in tmp_path.iterdir()] == ["f.bin"]


def test_a_staged_directory_replaces_the_old_one_whole_or_not_at_all(tmp_path):
    out = tmp_path / "data"
    with staged_dir(out) as tmp:
        (tmp / "a").write_text("old")
    with pytest.raises(RuntimeError), staged_dir(out) as tmp:
        (tmp / "a").write_text("new")
        raise RuntimeError("failed half way")
    assert (out / "a").read_text() == "old" and len(list(tmp_path.iterdir())) == 1
    with staged_dir(out) as tmp:
        (tmp / "b").write_text("new")
    assert sorted(p.name for p in out.iterdir()) == ["b"] and len(list(tmp_path.iterdir())) == 1
