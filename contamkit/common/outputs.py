"""Where a command may write: inputs are never outputs, and outputs appear whole or not at all.

Every command that writes calls ``check_output`` before any work: it refuses an output that is,
or lies inside, one of the command's inputs (paths resolved, symlinks followed), one that would
replace something that is not of the command's own kind (unless ``--force``), and one that cannot
be written at all (a directory where a file is wanted, a path below a file, a read-only place),
each as a one-line ``UserError``. It also clears what killed runs left beside the output.

Temporary names carry the writing process's id (``.<name>.<pid>-<random>.tmp``, ``.partial``,
``.spill-<pid>-…``), so two runs never share one, and a later run can tell debris (its process
is gone) from another run's work in progress (its process is alive) and remove only the debris.

Multi-file outputs (a prepared data directory, a decontaminated corpus, an overlap run folder) are
built in a new directory beside the output by ``staged_dir`` and swapped in with one atomic
``renameat2(RENAME_EXCHANGE)``: readers see the complete old directory or the complete new one.
"""

from __future__ import annotations

import contextlib
import ctypes
import ctypes.util
import errno
import json
import os
import re
import secrets
import shutil
from collections.abc import Callable, Iterable, Iterator
from dataclasses import dataclass
from pathlib import Path

from contamkit.common import faults
from contamkit.common.errors import UserError
from contamkit.common.options import option
from contamkit.common.progress import log

# .<name>.<pid>-<random>.<kind> / .<name>.spill-<pid>-<random>: a temporary of the output <name>
_TEMP = re.compile(r"\.(?P<name>.+)\.(?:spill-)?(?P<pid>\d+)-[0-9a-z_]+(?:\.(?:tmp|partial|old))?")


def build_tag() -> str:
    """``<pid>-<random>``: unique to this process and call, and says whose it is."""
    return f"{os.getpid()}-{secrets.token_hex(4)}"


def temp_path(path: str | os.PathLike, kind: str = "tmp") -> Path:
    """A fresh name beside ``path`` for a temporary of it, unique to this process and call."""
    path = Path(path)
    return path.parent / f".{path.name}.{build_tag()}.{kind}"


def pid_alive(pid: int) -> bool:
    """Whether a process with this id runs on this machine (a zombie counts as alive)."""
    if pid == os.getpid():
        return True
    try:
        os.kill(pid, 0)
    except ProcessLookupError:
        return False
    except PermissionError:
        return True
    return True


def stale_temporaries(path: str | os.PathLike, where: Path | None = None) -> list[Path]:
    """Temporaries of ``path`` (in its directory, or ``where``) whose writing process is gone."""
    path = Path(path)
    folder = where or path.parent
    if not folder.is_dir():
        return []
    found = []
    prefix = f".{path.name}."
    for entry in folder.iterdir():
        if not entry.name.startswith(prefix):
            continue
        match = _TEMP.fullmatch(entry.name)
        mine = match and (match["name"] == path.name or match["name"].startswith(prefix[1:]))
        if mine and not pid_alive(int(match["pid"])):  # of the output or one of its shards
            found.append(entry)
    return sorted(found)


def remove_stale(path: str | os.PathLike, where: Path | None = None) -> int:
    """Delete the temporaries that killed runs left for ``path``; says how many it removed."""
    stale = stale_temporaries(path, where)
    for entry in stale:
        _remove(entry)
    if stale:
        log.warning("removed %d temporary file(s) left by an interrupted run: %s", len(stale),
                    ", ".join(e.name for e in stale[:3]) + (" ..." if len(stale) > 3 else ""))
    return len(stale)


def _remove(entry: Path) -> None:
    if entry.is_dir() and not entry.is_symlink():
        shutil.rmtree(entry, ignore_errors=True)
    else:
        entry.unlink(missing_ok=True)


def _inside(child: Path, parent: Path) -> bool:
    return child == parent or child.is_relative_to(parent)


def check_output(out: str | os.PathLike, inputs: Iterable[str | os.PathLike] = (), *,
                 kind: str, own: Callable[[Path], bool] | None = None, force: bool = False,
                 directory: bool = False, resume: bool = False) -> Path:
    """Refuse an output that would destroy an input or a file of another kind; returns ``out``.

    ``kind`` names what the command writes ("filter file", "data directory") in messages;
    ``own(path)`` says whether an existing ``path`` is such an output (it may then be replaced);
    ``directory`` is True for commands that write a directory; with ``resume`` the work
    a killed run left is kept for ``staged_dir`` to continue.
    """
    out = Path(out)
    real = out.resolve()
    for given in inputs:
        src = Path(given).resolve()
        if _inside(real, src):
            where = "is the" if real == src else "lies inside the"
            raise UserError(f"{out}: {where} input {given}; an output must be outside the "
                            "inputs (an input is never overwritten)")
        if directory and _inside(src, real):
            raise UserError(f"{out}: holds the input {given}; replacing it would delete the "
                            "input, choose another output")
    _check_writable(out, real)
    if out.is_symlink() and not out.exists():
        raise UserError(f"{out}: is a dangling symbolic link; remove it or choose another output")
    if real.exists():
        if directory and not real.is_dir():
            raise UserError(f"{out}: exists and is a file, not a directory")
        if not directory and real.is_dir():
            raise UserError(f"{out}: is a directory; give a file name for the {kind}")
        if not force and not _empty_dir(real) and not (own and _safely(own, real)):
            raise UserError(f"{out}: exists and is not a {kind}; refusing to replace it "
                            "(use --force to replace it anyway)")
    if not resume:
        remove_stale(real)
    return out


@dataclass(frozen=True)
class OutputOptions:
    """``--force``, declared once for the commands whose options dataclass does not carry it
    (``build-filter``, ``overlap`` and ``decontaminate`` have theirs in ``overlap.options``)."""

    force: bool = option(False, "replace an existing output even if this command did not "
                         "write it")


def has_format(name: str, fmt: str) -> Callable[[Path], bool]:
    """An ``own`` for ``check_output``: the directory holds the JSON file ``name`` whose
    ``"format"`` is ``fmt`` (the run summaries and checkpoint configs say what wrote them)."""
    def own(path: Path) -> bool:
        obj = json.loads((path / name).read_text(encoding="utf-8"))
        return isinstance(obj, dict) and obj.get("format") == fmt
    return own


def _safely(own: Callable[[Path], bool], path: Path) -> bool:
    try:
        return bool(own(path))
    except (OSError, ValueError, RecursionError, UserError):
        return False


def _empty_dir(path: Path) -> bool:
    return path.is_dir() and not any(path.iterdir())


def _check_writable(out: Path, real: Path) -> None:
    """The first existing ancestor of ``real`` must be a directory this process may write."""
    parent = real.parent
    while not parent.exists():
        if parent.is_symlink():
            raise UserError(f"{out}: {parent} is a dangling symbolic link")
        parent = parent.parent
    if not parent.is_dir():
        raise UserError(f"{out}: {parent} is a file, so nothing can be written below it")
    probe = parent / f".contamkit-probe.{os.getpid()}-{secrets.token_hex(4)}.tmp"
    try:
        probe.touch(exist_ok=False)
        probe.unlink()
    except OSError as e:
        raise UserError(f"{out}: cannot write in {parent} ({e.strerror})") from None


# ---------------------------------------------------------------------------- directory swaps

_RENAME_EXCHANGE = 2
_AT_FDCWD = -100


def _renameat2():
    libc = ctypes.CDLL(ctypes.util.find_library("c") or None, use_errno=True)
    fn = getattr(libc, "renameat2", None)
    if fn is not None:
        fn.argtypes = [ctypes.c_int, ctypes.c_char_p, ctypes.c_int, ctypes.c_char_p, ctypes.c_uint]
    return fn


def exchange(a: Path, b: Path) -> bool:
    """Swap two existing paths in one atomic step (Linux ``renameat2``); False if unsupported."""
    fn = _renameat2()
    if fn is None:
        return False
    if fn(_AT_FDCWD, os.fsencode(a), _AT_FDCWD, os.fsencode(b), _RENAME_EXCHANGE) == 0:
        return True
    err = ctypes.get_errno()
    if err in (errno.EINVAL, errno.ENOSYS, errno.EOPNOTSUPP):
        return False
    raise OSError(err, os.strerror(err), str(b))


def publish_dir(tmp: Path, out: Path) -> None:
    """Put the finished directory ``tmp`` at ``out``, replacing what was there atomically."""
    faults.step()
    if not out.exists() and not out.is_symlink():
        os.rename(tmp, out)
        faults.step()
        return
    if exchange(tmp, out):
        faults.step()
        _remove(tmp)  # now the previous output
        return
    old = temp_path(out, "old")  # no atomic swap here: a kill between the renames leaves
    os.rename(out, old)  # the previous output under a temporary name, removed by the next run
    os.rename(tmp, out)
    faults.step()
    _remove(old)


RESUME_KEY = ".resume-key"  # in a staged directory: what a run resuming it must match
# (every ``.resume-*`` file at its top is such bookkeeping, removed before it is published)


@contextlib.contextmanager
def staged_dir(out: str | os.PathLike, resume_key: str | None = None,
               resume: bool = False) -> Iterator[Path]:
    """A directory beside ``out`` to build the output in; published on success, deleted on a
    failure (the previous ``out`` is then untouched).

    Resumable commands give a ``resume_key`` (a digest of their inputs and options): an
    interrupted run then keeps its directory (hidden, and removed by the next run that does
    not resume), and a run with ``resume`` continues in the one whose key matches.
    """
    out = Path(out)
    out.parent.mkdir(parents=True, exist_ok=True)
    tmp = temp_path(out, "tmp")
    earlier = _resumable(out, resume_key) if resume and resume_key else None
    if earlier is not None:
        os.rename(earlier, tmp)
        log.info("resuming the interrupted run's work in %s", earlier.name)
        for folder in [tmp, *(p for p in tmp.rglob("*") if p.is_dir())]:
            for entry in folder.iterdir():  # files the killed run had not finished
                match = _TEMP.fullmatch(entry.name)
                if match and not pid_alive(int(match["pid"])):
                    _remove(entry)
    else:
        tmp.mkdir()
        if resume_key:
            (tmp / RESUME_KEY).write_text(resume_key)
    remove_stale(out)  # older debris, resumable or not
    try:
        yield tmp
        for bookkeeping in tmp.glob(".resume-*"):
            bookkeeping.unlink()
        publish_dir(tmp, out)
    except KeyboardInterrupt:
        if resume_key:
            log.warning("work so far kept in %s: rerun with --resume to continue", tmp.name)
        else:
            _remove(tmp)
        raise
    except BaseException:
        _remove(tmp)
        raise


def _resumable(out: Path, key: str) -> Path | None:
    """The newest directory a killed run left for ``out`` with this resume key."""
    for entry in reversed(sorted(stale_temporaries(out), key=lambda p: p.stat().st_mtime)):
        marker = entry / RESUME_KEY
        if entry.is_dir() and marker.is_file() and marker.read_text() == key:
            return entry
    return None
