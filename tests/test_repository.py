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
                            capture_output=True, text=True, timeout=120, check=False)
    assert result.returncode == 0, result.stderr
    accuracy = float(re.search(r"training accuracy ([\d.]+)%", result.stdout).group(1))
    assert accuracy > 95


# --- the shape of the package -------------------------------------------------------------

PACKAGE = ROOT / "derive"
MAY_IMPORT = {
    "engine": {"engine"},
    "printing": {"engine", "printing"},
    "codegen": {"engine", "printing", "codegen", "render"},
    "sheet": {"engine", "printing", "sheet", "render", "config"},
    "reading": {"engine", "printing", "reading"},
    "render": set(),
    "config": set(),
    "files": set(),
    "variants": {"engine", "printing", "sheet", "render", "config", "files", "variants"},
}
"""For each stage, the stages it may import (see ARCHITECTURE.md); the rest of the top
level (build, cli) may import anything."""


def _stage(module):
    parts = module.split(".")
    return parts[1] if len(parts) > 1 else ""


def _import_graph():
    """{module: modules of derive it imports anywhere in its file}."""
    import ast

    modules = {}
    for path in sorted(PACKAGE.rglob("*.py")):
        name = ".".join(path.relative_to(ROOT).with_suffix("").parts).removesuffix(".__init__")
        modules[name] = path
    graph = {}
    for name, path in modules.items():
        package = name if path.name == "__init__.py" else name.rpartition(".")[0]
        found = set()
        for node in ast.walk(ast.parse(path.read_text(encoding="utf-8"))):
            if isinstance(node, ast.Import):
                targets = [alias.name for alias in node.names]
            elif isinstance(node, ast.ImportFrom):
                base = node.module or ""
                if node.level:
                    base = ".".join(package.split(".")[:len(package.split(".")) - node.level + 1]
                                    + ([base] if base else []))
                targets = [base] + [f"{base}.{alias.name}" for alias in node.names]
            else:
                continue
            for target in targets:
                while target and target not in modules:
                    target = target.rpartition(".")[0]
                if target and target != name and not name.startswith(target + "."):
                    found.add(target)
        graph[name] = found
    return graph


def test_stages_import_only_downwards_and_without_cycles():
    graph = _import_graph()
    for module, imported in graph.items():
        allowed = MAY_IMPORT.get(_stage(module))
        if allowed is None:
            continue
        for target in imported:
            assert _stage(target) in allowed or target == "derive", (module, target)

    def reaches(start, goal, seen):
        return any(target == goal or (target not in seen and not seen.add(target)
                                      and reaches(target, goal, seen))
                   for target in graph[start])

    cycles = [module for module in graph if reaches(module, module, set())]
    assert not cycles, cycles


def test_no_module_is_over_400_lines_and_the_module_template_under_200():
    sizes = {path: len(path.read_text(encoding="utf-8").splitlines())
             for path in PACKAGE.rglob("*.py")}
    assert max(sizes.values()) <= 400, max(sizes.items(), key=lambda item: item[1])
    template = ROOT / "templates" / "logistic_regression.py.jinja"
    assert len(template.read_text(encoding="utf-8").splitlines()) < 200
