"""Promises the repository makes about itself: the README's commands and CI agree."""

import re
from pathlib import Path

ROOT = Path(__file__).resolve().parent.parent


def _quick_start_commands():
    readme = (ROOT / "README.md").read_text(encoding="utf-8")
    section = readme.split("## Quick start", 1)[1].split("\n## ", 1)[0]
    return re.findall(r"```sh\n(.+?)\n```", section)


def test_quick_start_has_exactly_two_commands_build_and_test():
    commands = _quick_start_commands()
    assert len(commands) == 2
    build, test = commands
    assert build.endswith("derive build")
    assert "pytest" in test


def test_ci_runs_the_readmes_test_command_verbatim():
    _, test = _quick_start_commands()
    ci = (ROOT / ".ci" / "run").read_text(encoding="utf-8")
    assert test in ci.splitlines()
    assert ci.startswith("#!/usr/bin/env bash") and "set -euo pipefail" in ci


def test_readme_sgd_example_trains_to_high_accuracy():
    import subprocess
    import sys

    readme = (ROOT / "README.md").read_text(encoding="utf-8")
    example = readme.split("<!-- sgd-example -->", 1)[1]
    code = re.search(r"```python\n(.+?)\n```", example, re.DOTALL).group(1)
    assert 15 <= len(code.splitlines()) <= 25
    result = subprocess.run([sys.executable, "-W", "error", "-c", code], cwd=ROOT / "generated",
                            capture_output=True, text=True, timeout=120)
    assert result.returncode == 0, result.stderr
    accuracy = float(re.search(r"training accuracy ([\d.]+)%", result.stdout).group(1))
    assert accuracy > 95
