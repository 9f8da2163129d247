"""How derive writes files: whole or not at all, with the mode ``open`` would give, under
unique temporary names (so concurrent builds do not collide), and with one clear line
and exit status 3 when the operating system refuses (a read-only folder, a full disk).

Tests may run as root, where chmod does not stop writes: the ``read_only`` fixture then
makes the folder refuse new entries with a monkeypatched os.open/os.mkdir/os.replace
instead, so that the test is real either way.
"""

import builtins
import errno
import os
import subprocess
import sys
from pathlib import Path

import pytest

from derive.build import artefacts, build, compile_sheet, draw_figure, sheet_extras
from derive.cli import main
from derive.files import WriteFailed, make_folder

ROOT = Path(__file__).resolve().parent.parent
SIGMOID = ["--activation", "sigmoid"]
TINY_TEX = "\\documentclass{article}\\begin{document}derive\\end{document}\n"


def quiet(message):
    """A ``say``/``warn`` that drops what it is told."""


def snapshot(folder):
    """{path inside ``folder``: (bytes, permission bits)} of every file, hidden ones too."""
    return {str(path.relative_to(folder)): (path.read_bytes(), path.stat().st_mode & 0o7777)
            for path in sorted(Path(folder).rglob("*")) if path.is_file()}


def one_line(error):
    lines = error.splitlines()
    assert len(lines) == 1 and "Traceback" not in error, error
    return lines[0]


@pytest.fixture(scope="module")
def built(book):
    """The texts of the note's model (sigmoid; se and ce), rendered once."""
    return artefacts(book)


@pytest.fixture
def umask():
    """Set the umask for one test (this test process only) and restore it after."""
    previous = os.umask(0o022)
    yield os.umask
    os.umask(previous)


@pytest.fixture
def read_only(monkeypatch):
    """``read_only(folder)`` makes ``folder`` refuse new files and folders: by chmod
    where that works, else (as root) by refusing them in os.open, os.mkdir, os.replace."""
    folders = []

    def make(folder):
        folder = Path(folder).resolve()
        folders.append(folder)
        folder.chmod(0o555)
        if os.access(folder, os.W_OK):  # root: chmod does not stop writes, simulate
            _refuse_writes_inside(folder, monkeypatch)

    yield make
    for folder in folders:
        folder.chmod(0o755)


def _refuse_writes_inside(folder, monkeypatch):
    def inside(path):
        return folder in Path(path).resolve().parents or Path(path).resolve() == folder

    def refuse(path):
        raise PermissionError(errno.EACCES, os.strerror(errno.EACCES), str(path))

    real_open, real_mkdir, real_replace = os.open, os.mkdir, os.replace

    def open_(path, flags, *arguments, **keywords):
        if flags & os.O_CREAT and inside(path) and not os.path.exists(path):
            refuse(path)
        return real_open(path, flags, *arguments, **keywords)

    def mkdir(path, *arguments, **keywords):
        if inside(path):
            refuse(path)
        return real_mkdir(path, *arguments, **keywords)

    def replace(source, target, *arguments, **keywords):
        if inside(target):
            refuse(target)
        return real_replace(source, target, *arguments, **keywords)

    monkeypatch.setattr(os, "open", open_)
    monkeypatch.setattr(os, "mkdir", mkdir)
    monkeypatch.setattr(os, "replace", replace)


def _disk_full(monkeypatch, after=0):
    """Every os.fsync after the first ``after`` fails as on a full disk (ENOSPC)."""
    calls = []
    real_fsync = os.fsync

    def fsync(handle):
        calls.append(handle)
        if len(calls) > after:
            raise OSError(errno.ENOSPC, os.strerror(errno.ENOSPC))
        return real_fsync(handle)

    monkeypatch.setattr(os, "fsync", fsync)


def _replace_after_a_second_writer(monkeypatch, second_writer):
    """The first os.replace runs ``second_writer`` just before it renames: two writers
    of the same file interleaved at the worst moment. Returns what the second returned."""
    real_replace = os.replace
    started, results = [], []

    def replace(source, target):
        if not started:
            started.append(source)
            results.append(second_writer())
        real_replace(source, target)

    monkeypatch.setattr(os, "replace", replace)
    return results


# --- 9. unique temporaries: two writers of one file do not collide -----------------------


def test_two_figures_drawn_at_once_into_one_folder_do_not_collide(book, tmp_path,
                                                                  monkeypatch):
    pytest.importorskip("matplotlib")
    extras = sheet_extras(book)
    figure = tmp_path / extras.figure
    second = _replace_after_a_second_writer(
        monkeypatch, lambda: draw_figure(extras, tmp_path, quiet, quiet))
    assert draw_figure(extras, tmp_path, quiet, quiet) == [figure]
    assert second == [[figure]]
    assert figure.read_bytes().startswith(b"\x89PNG")
    assert sorted(snapshot(tmp_path)) == [extras.figure]


def test_two_pdfs_compiled_at_once_into_one_folder_do_not_collide(latex_engine, tmp_path,
                                                                 monkeypatch):
    pdf = tmp_path / "tiny.pdf"
    second = _replace_after_a_second_writer(
        monkeypatch, lambda: compile_sheet(TINY_TEX, pdf, say=quiet, warn=quiet))
    assert compile_sheet(TINY_TEX, pdf, say=quiet, warn=quiet)
    assert second == [True]
    assert pdf.read_bytes().startswith(b"%PDF")
    assert sorted(snapshot(tmp_path)) == ["tiny.pdf"]


def test_two_builds_at_once_into_one_folder_both_succeed_with_identical_files(
        tmp_path, monkeypatch, capsys):
    shared, alone = tmp_path / "shared", tmp_path / "alone"
    environment = {**os.environ, "PYTHONPATH": str(ROOT)}
    command = [sys.executable, "-m", "derive", "build", *SIGMOID, "--no-pdf", "--out",
               str(shared)]
    runs = [subprocess.Popen(command, cwd=ROOT, env=environment, text=True,
                             stdout=subprocess.PIPE, stderr=subprocess.PIPE)
            for _ in range(2)]
    results = [(run.wait(timeout=180), *run.communicate()) for run in runs]
    monkeypatch.chdir(ROOT)  # the same title block (derive.toml, pyproject.toml) as theirs
    assert main(["build", *SIGMOID, "--no-pdf", "--out", str(alone)]) == 0
    capsys.readouterr()
    for status, _, error in results:
        assert status == 0, error
    assert snapshot(shared) == snapshot(alone)


# --- 10. the mode a plain open(path, "w") gives -------------------------------------------


@pytest.mark.parametrize("mask", [0o022, 0o077, 0o002, 0o027])
def test_new_files_get_the_mode_open_gives_under_any_umask(built, tmp_path, umask, mask):
    umask(mask)
    build(tmp_path, [built], pdf=False, say=quiet, warn=quiet)
    modes = {name: mode for name, (_, mode) in snapshot(tmp_path).items()}
    assert len(modes) == 5  # the record, the module, both sheets and the figure
    assert modes == dict.fromkeys(modes, 0o666 & ~mask)


def test_code_and_sheet_give_new_files_the_mode_open_gives(tmp_path, umask, capsys):
    umask(0o027)
    assert main(["code", "-o", str(tmp_path / "lr.py")]) == 0
    assert main(["sheet", "-o", str(tmp_path / "lr.tex"), "--no-pdf"]) == 0
    capsys.readouterr()
    modes = {name: mode for name, (_, mode) in snapshot(tmp_path).items()}
    assert "lr.py" in modes and "lr.tex" in modes
    assert modes == dict.fromkeys(modes, 0o640)


def test_replaced_files_keep_their_mode(built, tmp_path, umask):
    umask(0o022)
    build(tmp_path, [built], pdf=False, say=quiet, warn=quiet)
    chosen = {}
    for mode, path in zip((0o600, 0o640, 0o604, 0o755, 0o660), sorted(tmp_path.iterdir())):
        path.chmod(mode)
        chosen[path.name] = mode
    build(tmp_path, [built], pdf=False, say=quiet, warn=quiet)
    assert {name: mode for name, (_, mode) in snapshot(tmp_path).items()} == chosen


def test_pdfs_get_the_mode_open_gives_and_keep_an_existing_one(latex_engine, tmp_path,
                                                               umask):
    umask(0o027)
    new, existing = tmp_path / "new.pdf", tmp_path / "existing.pdf"
    existing.write_bytes(b"an older PDF")
    existing.chmod(0o604)
    for pdf in (new, existing):
        assert compile_sheet(TINY_TEX, pdf, say=quiet, warn=quiet)
    assert new.stat().st_mode & 0o7777 == 0o640
    assert existing.stat().st_mode & 0o7777 == 0o604
    assert existing.read_bytes().startswith(b"%PDF")


# --- 11. the OS refuses: one line, exit 3, nothing half-written ---------------------------

WRITERS = {
    "build": lambda folder: ["build", *SIGMOID, "--no-pdf", "--out", str(folder)],
    "sheet": lambda folder: ["sheet", "-o", str(folder / "lr.tex"), "--no-pdf"],
    "code": lambda folder: ["code", "-o", str(folder / "lr.py")],
}
"""Each command that writes, as arguments that write into ``folder``."""


@pytest.mark.parametrize("command", list(WRITERS))
def test_a_read_only_folder_fails_with_one_line_and_changes_nothing(command, tmp_path,
                                                                    read_only, capsys):
    out = tmp_path / "out"
    assert main(WRITERS[command](out)) == 0
    before = snapshot(out)
    read_only(out)
    capsys.readouterr()
    assert main(WRITERS[command](out)) == 3
    line = one_line(capsys.readouterr().err)
    assert line.startswith(f"derive {command}: cannot write {out}/"), line
    assert "Permission denied; check its permissions or write elsewhere" in line
    assert snapshot(out) == before


@pytest.mark.parametrize("command", list(WRITERS))
def test_a_full_disk_fails_with_one_line_and_changes_nothing(command, tmp_path,
                                                             monkeypatch, capsys):
    out = tmp_path / "out"
    assert main(WRITERS[command](out)) == 0
    before = snapshot(out)
    _disk_full(monkeypatch)
    capsys.readouterr()
    assert main(WRITERS[command](out)) == 3
    line = one_line(capsys.readouterr().err)
    assert line.startswith(f"derive {command}: cannot write {out}/"), line
    assert line.endswith("No space left on device; free some space and run again")
    assert snapshot(out) == before


def test_a_build_that_runs_out_of_space_halfway_changes_no_text_file(built, tmp_path,
                                                                    monkeypatch):
    for artefact in built.files:
        (tmp_path / artefact.name).write_text("an older version\n")
    before = snapshot(tmp_path)
    _disk_full(monkeypatch, after=2)
    with pytest.raises(WriteFailed, match="No space left on device"):
        build(tmp_path, [built], pdf=False, say=quiet, warn=quiet)
    assert snapshot(tmp_path) == before


def test_a_write_cut_short_leaves_no_half_written_file(built, tmp_path, monkeypatch):
    (tmp_path / "derivations.json").write_text("an older version\n")
    before = snapshot(tmp_path)
    real_open = builtins.open

    def open_(file, mode="r", *arguments, **keywords):
        stream = real_open(file, mode, *arguments, **keywords)
        if "w" in mode and str(file).endswith(".tmp"):
            real_write = stream.write

            def write(data):
                real_write(data[:len(data) // 2])
                raise OSError(errno.ENOSPC, os.strerror(errno.ENOSPC))

            stream.write = write
        return stream

    monkeypatch.setattr(builtins, "open", open_)
    with pytest.raises(WriteFailed, match=r"cannot write .*derivations\.json: No space"):
        build(tmp_path, [built], pdf=False, say=quiet, warn=quiet)
    assert snapshot(tmp_path) == before


@pytest.mark.parametrize("command", list(WRITERS))
def test_an_output_path_through_a_file_is_a_usage_error(command, tmp_path, capsys):
    a_file = tmp_path / "afile"
    a_file.write_text("not a folder\n")
    assert main(WRITERS[command](a_file / "sub")) == 2
    line = one_line(capsys.readouterr().err)
    assert line.startswith(f"derive {command}: ") and "afile exists and is not a folder" in line
    assert sorted(snapshot(tmp_path)) == ["afile"]
    assert a_file.read_text() == "not a folder\n"


def test_write_failed_names_the_path_the_reason_and_what_to_do(tmp_path):
    (tmp_path / "afile").write_text("")
    with pytest.raises(WriteFailed) as failure:
        make_folder(tmp_path / "afile" / "sub")
    assert str(failure.value) == (f"cannot create the folder {tmp_path}/afile/sub: Not a "
                                  "directory; a part of the path is a file, not a folder")


def test_an_unreadable_config_file_is_a_usage_error(tmp_path, capsys):
    assert main(["build", "--config", str(tmp_path), "--out", str(tmp_path / "out")]) == 2
    line = one_line(capsys.readouterr().err)
    assert line == f"derive build: cannot read config file {tmp_path}: Is a directory"
    assert not (tmp_path / "out").exists()


@pytest.mark.parametrize("command", [[], ["build"], ["sheet"], ["code"]])
def test_help_documents_exit_status_3(command, capsys):
    with pytest.raises(SystemExit):
        main([*command, "--help"])
    assert "3 when a file could not be written" in " ".join(capsys.readouterr().out.split())
