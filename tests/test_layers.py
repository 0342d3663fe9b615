"""Imports go one way: a lower stage never imports a higher one, not even inside a function.

The stages, lowest first: io → landmarks → regions → colour → lesions → scoring; the pipeline
above them; calibration, validation, longitudinal, batch, qc, report and cli on top. Read from the
source (every ``import`` statement, wherever it stands), so a function-level import counts too.
"""

from __future__ import annotations

import ast
import subprocess
import sys
from pathlib import Path

import pytest

PACKAGE = Path(__file__).resolve().parents[1] / "pigmentscan"
STAGES = ("io", "landmarks", "regions", "colour", "lesions", "scoring")
TOP = ("calibration", "validation", "longitudinal", "batch", "qc", "report", "cli")


def _module(path: Path) -> str:
    parts = list(path.relative_to(PACKAGE.parent).with_suffix("").parts)
    return ".".join(parts[:-1] if parts[-1] == "__init__" else parts)


def _imports() -> dict[str, set[str]]:
    """Module -> the pigmentscan modules it imports (``from . import x`` names the submodule x)."""
    modules = {_module(path): path for path in PACKAGE.rglob("*.py")}
    found = {}
    for name, path in modules.items():
        package = name if path.name == "__init__.py" else name.rpartition(".")[0]
        targets = set()
        for node in ast.walk(ast.parse(path.read_text(encoding="utf-8"))):
            if isinstance(node, ast.ImportFrom):
                base = node.module or ""
                if node.level:
                    anchor = package.split(".")[:len(package.split(".")) - node.level + 1]
                    base = ".".join(anchor + ([node.module] if node.module else []))
                if base.split(".")[0] == "pigmentscan":
                    targets |= {f"{base}.{a.name}" if f"{base}.{a.name}" in modules else base for a in node.names}
            elif isinstance(node, ast.Import):
                targets |= {a.name for a in node.names if a.name.split(".")[0] == "pigmentscan"}
        found[name] = targets - {name}
    return found


def _unit(module: str) -> str:
    """The stage a module belongs to: ``pigmentscan.io.tables`` -> ``io``; the root -> ``""``."""
    parts = module.split(".")
    return parts[1] if len(parts) > 1 else ""


def test_no_stage_imports_a_stage_above_it():
    wrong = []
    for module, targets in _imports().items():
        here = _unit(module)
        for target in targets:
            there = _unit(target)
            if here in STAGES and (there in TOP or there == "pipeline" or there == ""
                                   or (there in STAGES and STAGES.index(there) > STAGES.index(here))):
                wrong.append(f"{module} imports {target}")
            elif here == "pipeline" and there in TOP and there != "qc":  # quality checks are part of scoring a photo
                wrong.append(f"{module} imports {target}")
    assert not wrong, wrong


def test_no_import_cycle_between_stages():
    graph: dict[str, set[str]] = {}
    for module, targets in _imports().items():
        graph.setdefault(_unit(module), set()).update(_unit(t) for t in targets if _unit(t) != _unit(module))
    graph.pop("", None)  # the root only re-exports, lazily (pigmentscan/__init__.py)

    def reaches(start: str, goal: str, seen: set) -> bool:
        return any(nxt == goal or (nxt not in seen and not seen.add(nxt) and reaches(nxt, goal, seen))
                   for nxt in graph.get(start, ()))

    cycles = sorted(unit for unit in graph if reaches(unit, unit, set()))
    assert not cycles, {unit: sorted(graph[unit]) for unit in cycles}


def test_nothing_imports_the_package_root():
    assert not [m for m, targets in _imports().items() if "pigmentscan" in targets]  # __version__: _version.py


@pytest.mark.parametrize("module, absent", [("pigmentscan.report", "pigmentscan.pipeline"),
                                            ("pigmentscan.pipeline", "pigmentscan.report"),
                                            ("pigmentscan.io", "pigmentscan.lesions")])
def test_importing_a_stage_loads_nothing_above_it(module, absent):
    code = f"import sys, {module}; print({absent!r} in sys.modules)"
    result = subprocess.run([sys.executable, "-c", code], capture_output=True, text=True, check=True,
                            cwd=PACKAGE.parent)
    assert result.stdout.strip() == "False"


def test_no_private_name_is_imported_from_another_module():
    """A name another module needs is public (documented) or lives where it is used.

    pigmentscan/lesions is left out while it is rewritten (its ``_ops`` helpers).
    """
    private = []
    for path in PACKAGE.rglob("*.py"):
        if "lesions" in path.relative_to(PACKAGE).parts:
            continue
        for node in ast.walk(ast.parse(path.read_text(encoding="utf-8"))):
            if isinstance(node, ast.ImportFrom) and node.module != "__future__":
                private += [f"{_module(path)}: {a.name}" for a in node.names
                            if a.name.startswith("_") and not a.name.startswith("__")]
    assert not private, private
