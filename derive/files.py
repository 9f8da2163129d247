"""Writing files so that no reader ever sees half of one.

Every file is written whole into its own temporary beside it (``.NAME.<random>.tmp``,
created exclusively, so concurrent writers never share one), synced, and renamed over
the target in one step (``publish``; ``stage`` does all but the rename, so ``write``
can prepare every file of a build before it replaces any). A new file gets the mode
``open(path, "w")`` would give (0666 less the umask), an existing one keeps its mode.
A failure removes the temporaries and raises ``WriteFailed``, whose message names the
path, the operating system's reason and what to do.
"""

import contextlib
import errno
import functools
import os
import secrets
import stat
from dataclasses import dataclass
from pathlib import Path


class WriteFailed(Exception):
    """The OS refused to write a file or make a folder (permission denied, no space left,
    a file in the way); the message names the path, the reason and what to do."""


@dataclass(frozen=True)
class Artefact:
    """One output file: its path inside the output folder and its full text."""

    name: str
    text: str


def write(folder, files):
    """Write each artefact into ``folder``; return the paths written. Every file is
    staged before the first is replaced: a failure leaves them all as they were."""
    folder = Path(folder)
    staged = []
    try:
        for artefact in files:
            path = folder / artefact.name
            make_folder(path.parent)
            staged.append((stage(path, functools.partial(_write_text, artefact.text)), path))
    except BaseException:
        _discard(temporary for temporary, _ in staged)
        raise
    _replace(staged)
    return [path for _, path in staged]


def write_atomically(path, text):
    """Replace ``path`` with ``text`` (UTF-8, newline line ends) in one step, making
    its folder if needed; nothing partial is ever visible. Return the path."""
    path = Path(path)
    return write(path.parent, [Artefact(path.name, text)])[0]


def make_folder(folder):
    """Make ``folder`` and its parents if they are missing; WriteFailed if the OS refuses."""
    with _reported("create the folder", folder):
        Path(folder).mkdir(parents=True, exist_ok=True)


def publish(path, fill):
    """Replace ``path`` in one step with what ``fill`` writes (see ``stage``); return
    the path, or None when ``fill`` returned False (``path`` is then untouched)."""
    temporary = stage(path, fill)
    if temporary is None:
        return None
    _replace([(temporary, Path(path))])
    return Path(path)


def stage(path, fill):
    """The new content of ``path``, complete and synced, in a fresh temporary beside
    it (``fill(temporary)`` writes it there); return the temporary, or None when
    ``fill`` returned False (nothing to write). A new file will have the mode
    ``open(path, "w")`` gives (0666 less the umask), an existing one keeps its mode.
    On a failure the temporary is removed and an OSError is raised as WriteFailed."""
    path, kept = Path(path), None
    with _reported("write", path):
        handle, temporary = _create_temporary(path)
        try:
            _keep_mode(handle, path)
            if fill(temporary) is not False:
                os.fsync(handle)
                kept = temporary
        finally:
            if kept is None:
                _discard([temporary])
            os.close(handle)
    return kept


def _create_temporary(path):
    """(descriptor, path) of a new empty file beside ``path`` that no other writer
    uses (64 random bits, created exclusively). Its mode is 0666 less the umask and
    any default ACL: what ``open(path, "w")`` gives a new file."""
    for _ in range(100):
        temporary = path.with_name(f".{path.name}.{secrets.token_hex(8)}.tmp")
        try:
            flags = os.O_WRONLY | os.O_CREAT | os.O_EXCL | os.O_CLOEXEC
            return os.open(temporary, flags, 0o666), temporary
        except FileExistsError:
            continue
    raise FileExistsError(errno.EEXIST, "no unused temporary name", str(path))


def _keep_mode(handle, path):
    """Give the temporary ``handle`` the permission bits of ``path`` if it exists."""
    with contextlib.suppress(FileNotFoundError):
        os.fchmod(handle, stat.S_IMODE(os.stat(path).st_mode))


def _write_text(text, temporary):
    """A ``fill`` for ``stage`` (``text`` bound first): UTF-8, newline line ends."""
    with open(temporary, "w", encoding="utf-8", newline="\n") as stream:
        stream.write(text)


def _replace(staged):
    """Rename each (temporary, path) over its path, in order; on a failure the
    temporaries not yet renamed are removed."""
    try:
        for temporary, path in staged:
            with _reported("replace", path):
                os.replace(temporary, path)
    except BaseException:
        _discard(temporary for temporary, _ in staged)
        raise


def _discard(temporaries):
    """Remove what a failed write staged, as far as the OS lets us."""
    for temporary in temporaries:
        with contextlib.suppress(OSError):
            os.unlink(temporary)


_ADVICE = {
    **dict.fromkeys((errno.EACCES, errno.EPERM), "check its permissions or write elsewhere"),
    errno.EROFS: "the file system is read-only; write elsewhere",
    **dict.fromkeys((errno.ENOSPC, errno.EDQUOT), "free some space and run again"),
    errno.ENOTDIR: "a part of the path is a file, not a folder",
    errno.EEXIST: "a file of that name is in the way",
}  # what to do about the usual reasons a write fails


@contextlib.contextmanager
def _reported(action, path):
    """Raise an OSError in the block as WriteFailed("cannot ACTION PATH: reason; advice")."""
    try:
        yield
    except OSError as error:
        raise WriteFailed(_failure(action, Path(path), error)) from error


def _failure(action, path, error):
    reason = error.strerror or str(error)
    where = Path(error.filename) if error.filename else path
    if where != path and where.parent != path.parent:  # not the file or its temporary
        reason += f" ({where})"
    advice = _ADVICE.get(error.errno)
    return f"cannot {action} {path}: {reason}" + (f"; {advice}" if advice else "")
