"""The command line: exit codes, output formats, determinism and the build check."""

import json
import os
import subprocess
import sys
from pathlib import Path

import pytest

from derive.cli import main
from derive.engine.registry import valid_pairs
from derive.engine.softmax import vector_pairs

ROOT = Path(__file__).resolve().parent.parent


def run_derive(*arguments, seed="0", cwd=ROOT):
    """``python -m derive ARGS`` in a fresh interpreter (PYTHONHASHSEED fixed by ``seed``)."""
    environment = {**os.environ, "PYTHONHASHSEED": seed, "PYTHONPATH": str(ROOT)}
    return subprocess.run(
        [sys.executable, "-m", "derive", *arguments],
        capture_output=True, text=True, cwd=cwd, env=environment, timeout=120,
    )


def test_verify_lists_every_step_and_a_summary(capsys):
    assert main(["verify"]) == 0
    output = capsys.readouterr().out
    assert "Derivative of the logistic sigmoid  [act-prime]" in output
    assert "by chain rule; symbolic" in output
    last = output.strip().splitlines()[-1]
    assert last.startswith("61 derivations, ") and "symbolic" in last and "numeric" in last


def test_verify_json_has_every_field_per_step(capsys):
    assert main(["verify", "--json"]) == 0
    records = json.loads(capsys.readouterr().out)
    steps = [step for d in records["derivations"] for step in d["steps"]]
    assert len(steps) == records["summary"]["steps"] >= 50
    for step in steps:
        assert {"derivation", "label", "rule", "method", "lhs", "rhs"} <= set(step)
        assert step["method"] in ("symbolic", "numeric")
        for side in ("lhs", "rhs"):
            assert set(step[side]) == {"srepr", "latex"}
    chain = next(s for s in steps if s["rule"] == "chain rule")
    assert chain["derivation"].startswith("Gradient of the squared error")
    assert "Derivative(Symbol('L_se'" in chain["lhs"]["srepr"]
    assert r"\frac{\partial \mathcal{L}_{\mathrm{se}}}{\partial w_{j}}" == chain["lhs"]["latex"]


def test_output_is_identical_under_different_hash_seeds(tmp_path):
    """verify --json, and every file build writes (.json, .py, .tex), byte for byte, for
    the note's model. (Every pair's files are compared under two seeds too: by
    test_committed_generated_folder_is_up_to_date, against files written under another.)"""
    outputs = {}
    for seed in ("1", "4242"):
        folder = tmp_path / seed
        verify = run_derive("verify", "--json", seed=seed)
        build = run_derive("build", "--activation", "sigmoid", "--out", str(folder),
                           "--no-pdf", seed=seed)
        assert verify.returncode == build.returncode == 0, verify.stderr + build.stderr
        files = {path.name: path.read_bytes() for path in sorted(folder.iterdir())}
        assert len(files) == 5  # with the saturation figure's PNG
        outputs[seed] = (verify.stdout, files)
    assert outputs["1"] == outputs["4242"]


@pytest.mark.parametrize("command", [[], ["verify"], ["build"], ["code"], ["sheet"], ["list"]])
def test_help_for_every_command(command, capsys):
    with pytest.raises(SystemExit) as exited:
        main([*command, "--help"])
    assert exited.value.code == 0
    assert "usage: derive" in capsys.readouterr().out


@pytest.mark.parametrize("arguments", [["frobnicate"], ["verify", "--bogus"], ["build", "--out"]])
def test_usage_errors_exit_2(arguments, capsys):
    with pytest.raises(SystemExit) as exited:
        main(arguments)
    assert exited.value.code == 2
    assert "usage: derive" in capsys.readouterr().err


def test_no_command_prints_help_and_exits_2(capsys):
    assert main([]) == 2
    assert "usage: derive" in capsys.readouterr().err


def test_build_writes_then_check_passes_then_detects_staleness(tmp_path, capsys):
    out = tmp_path / "out"
    assert main(["build", "--out", str(out), "--no-pdf"]) == 0
    written = sorted(path.name for path in out.iterdir())
    assert written == ["derivations.json", "logistic_regression.py",
                       "logistic_regression.tex", "logistic_regression_problems.tex",
                       "logistic_regression_saturation.png", "pairs"]
    pairs = sorted(path.name for path in (out / "pairs").iterdir())
    assert len(pairs) == 4 * (len(valid_pairs()) + len(vector_pairs())) and "tanh_se.py" in pairs
    assert not [name for name in written + pairs if name.endswith(".tmp")]
    assert main(["build", "--out", str(out), "--check"]) == 0
    capsys.readouterr()

    pair_sheet = out / "pairs" / "tanh_se.tex"
    pair_sheet.write_text(pair_sheet.read_text() + "% edited by hand\n")
    (out / "pairs" / "relu_se.py").write_text("# a pair the registry no longer has\n")
    target = out / "derivations.json"
    target.write_text(target.read_text().replace('"act-prime"', '"act-prim"', 1))
    assert main(["build", "--out", str(out), "--check"]) == 1
    captured = capsys.readouterr()
    lines = captured.out.splitlines()
    assert any(line.startswith("-") and '"label": "act-prim",' in line for line in lines)
    assert any(line.startswith("+") and '"label": "act-prime",' in line for line in lines)
    assert "+++ " + str(pair_sheet) + " (generated now)" in captured.out
    assert "-% edited by hand" in lines
    assert f"{out / 'pairs' / 'relu_se.py'}: not generated any more; delete it" in lines
    assert "is stale" in captured.err and "derive build --out" in captured.err


def test_check_writes_nothing(tmp_path, capsys):
    out = tmp_path / "absent"
    assert main(["build", "--activation", "sigmoid", "--out", str(out), "--check"]) == 1
    assert not out.exists()
    assert "(missing)" in capsys.readouterr().out


def test_build_refuses_a_file_as_output_folder(tmp_path, capsys):
    not_a_folder = tmp_path / "file"
    not_a_folder.write_text("x")
    assert main(["build", "--out", str(not_a_folder), "--no-pdf"]) == 2
    assert "is not a folder" in capsys.readouterr().err


def test_committed_generated_folder_is_up_to_date():
    result = run_derive("build", "--check")
    assert result.returncode == 0, result.stdout + result.stderr


def test_failed_step_exits_1(monkeypatch, capsys):
    from derive.engine import derivations
    from derive.engine.steps import Derivation
    from derive.engine.symbols import a, z
    from sympy import Derivative

    def broken(model):
        Derivation("slip", "slip", Derivative(a, z), model=model).then(1 - a, "substitute")

    monkeypatch.setattr(derivations, "derive_all", broken)
    assert main(["verify"]) == 1
    error = capsys.readouterr().err
    assert error.startswith("derive verify: step slip.1 of derivation 'slip' does not hold")


def test_code_writes_only_the_module(tmp_path, capsys):
    target = tmp_path / "nested" / "lr.py"
    assert main(["code", "-o", str(target)]) == 0
    assert target.read_text() == (ROOT / "generated" / "logistic_regression.py").read_text()
    assert sorted(p.name for p in target.parent.iterdir()) == ["lr.py"]
    capsys.readouterr()
    assert main(["code", "-o", "-"]) == 0
    assert capsys.readouterr().out == target.read_text()


def test_code_refuses_a_folder_as_output(tmp_path, capsys):
    assert main(["code", "-o", str(tmp_path)]) == 2
    assert "is a folder" in capsys.readouterr().err
