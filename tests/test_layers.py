"""The import contract's guard rail (issue 8).

``lint-imports`` checks the contracts in pyproject.toml ``[tool.importlinter]``. These
tests show that it really fails on a wrong import: they copy the packages and
pyproject.toml to a temporary folder, add one wrong import there, and run
``lint-imports`` on the copy. henrei is installed editable into the venv, so the copy is
only analysed if it comes first on the import path: ``lint-imports`` puts its working
directory first on ``sys.path`` (the editable finder comes after every path entry), and
each run checks that ``worker``, ``tasks`` and ``rules`` resolve inside the copy.

Also here: every direct child of ``worker/`` is a layer of the flow, and no module imports
a private (underscore) module or name of another package.
"""

from __future__ import annotations

import ast
import os
import shutil
import subprocess
import sys
import tomllib
from collections.abc import Iterator
from dataclasses import dataclass
from pathlib import Path
from typing import Any

import pytest

ROOT = Path(__file__).resolve().parents[1]
PACKAGES = ("worker", "tasks", "rules")
LINT_IMPORTS = Path(sys.executable).with_name("lint-imports")


def contracts() -> dict[str, dict[str, Any]]:
    """The contracts of pyproject.toml by id."""
    config = tomllib.loads((ROOT / "pyproject.toml").read_text(encoding="utf-8"))
    return {c["id"]: c for c in config["tool"]["importlinter"]["contracts"]}


# --- lint-imports on a copy ------------------------------------------------------------------


def copy_tree(dest: Path) -> Path:
    for package in PACKAGES:
        shutil.copytree(ROOT / package, dest / package, ignore=shutil.ignore_patterns("__pycache__"))
    shutil.copy2(ROOT / "pyproject.toml", dest / "pyproject.toml")
    return dest


def _env(root: Path) -> dict[str, str]:
    # the copy first on the path; a wide console so rich does not wrap contract names
    return {**os.environ, "PYTHONPATH": str(root), "COLUMNS": "400", "NO_COLOR": "1"}


def assert_analyses_copy(root: Path) -> None:
    """The packages resolve inside ``root`` the way lint-imports resolves them (its cwd first
    on sys.path), not to the editable install."""
    probe = (
        "import importlib.util, os, sys; sys.path.insert(0, os.getcwd()); "
        f"print('\\n'.join(importlib.util.find_spec(p).origin for p in {PACKAGES!r}))"
    )
    found = subprocess.run(
        [sys.executable, "-c", probe], cwd=root, env=_env(root), capture_output=True, text=True, check=True
    )
    origins = [Path(line) for line in found.stdout.splitlines()]
    assert len(origins) == len(PACKAGES)
    for origin in origins:
        assert origin.is_relative_to(root), f"{origin} is outside the copy {root}"


@dataclass(frozen=True)
class Lint:
    returncode: int
    output: str

    @property
    def broken(self) -> set[str]:
        """Names of the contracts the summary marks BROKEN."""
        return {line.split(" BROKEN")[0].strip() for line in self.output.splitlines() if " BROKEN" in line}


def lint(root: Path) -> Lint:
    assert_analyses_copy(root)
    done = subprocess.run(
        [str(LINT_IMPORTS), "--no-cache", str(root / "pyproject.toml")],
        cwd=root,
        env=_env(root),
        capture_output=True,
        text=True,
        timeout=60,
    )
    return Lint(done.returncode, done.stdout + done.stderr)


def inject(path: Path, statement: str) -> int:
    """Add ``statement`` at the top of the module (after its docstring and ``__future__``
    imports); returns its line number."""
    lines = path.read_text(encoding="utf-8").splitlines(keepends=True)
    after = 0
    for node in ast.parse("".join(lines)).body:
        is_docstring = isinstance(node, ast.Expr) and isinstance(node.value, ast.Constant) and after == 0
        if is_docstring or (isinstance(node, ast.ImportFrom) and node.module == "__future__"):
            after = node.end_lineno or node.lineno
        else:
            break
    lines.insert(after, statement + "\n")
    path.write_text("".join(lines), encoding="utf-8")
    return after + 1


@pytest.mark.parametrize(
    ("module", "statement", "contract_ids", "edge"),
    [
        # the domain rules import no worker code
        ("rules/domain/age.py", "import worker.engine", {"flow", "rules-pure"}, "rules.domain.age -> worker.engine"),
        # reading is below jobs
        (
            "worker/reading/tables.py",
            "from worker.jobs import models",
            {"flow"},
            "worker.reading.tables -> worker.jobs.models",
        ),
        # a task module imports no other task module
        ("tasks/nightly.py", "import tasks.parts", {"tasks-independent"}, "tasks.nightly -> tasks.parts"),
    ],
)
def test_a_wrong_import_breaks_its_contract(
    tmp_path: Path, module: str, statement: str, contract_ids: set[str], edge: str
) -> None:
    root = copy_tree(tmp_path)
    line = inject(root / module, statement)
    result = lint(root)
    assert result.returncode == 1, result.output
    names = {contracts()[cid]["name"] for cid in contract_ids}
    assert names <= result.broken, result.output
    assert f"{edge} (l.{line})" in result.output, result.output


def test_the_unmodified_tree_keeps_every_contract(tmp_path: Path) -> None:
    """The same run without an injected import: the failures above come from the injection."""
    result = lint(copy_tree(tmp_path))
    assert result.broken == set(), result.output
    assert result.returncode == 0, result.output
    assert f"Contracts: {len(contracts())} kept, 0 broken." in result.output


def test_every_part_of_worker_is_a_layer_of_the_flow() -> None:
    """A new package or module under worker/ must take its place in the flow contract."""
    layers = contracts()["flow"]["layers"]
    named = {
        tail.strip().strip("()") for layer in layers for tail in layer.replace("|", ":").split(":") if tail.strip()
    }
    children = {
        f"worker.{p.stem}"
        for p in (ROOT / "worker").iterdir()
        if (p.suffix == ".py" and p.stem != "__init__") or (p.is_dir() and (p / "__init__.py").exists())
    }
    assert children - named == set(), "add these to the layers of the 'flow' contract in pyproject.toml"
    assert {"tasks", "rules"} <= named


# --- private modules and names ---------------------------------------------------------------


def _is_private(part: str) -> bool:
    return part.startswith("_") and not (part.startswith("__") and part.endswith("__"))


def private_import_errors(module: str, is_package: bool, source: str, packages: set[str]) -> Iterator[str]:
    """Imports in ``module`` of an underscore-prefixed module or name that belongs to another
    package. A private module or name belongs to the package holding it (a private name of
    a plain module to that module's package); that package and everything inside it may
    import it. Only imports of henrei's own packages are checked."""
    own = module if is_package else module.rpartition(".")[0]
    for node in ast.walk(ast.parse(source)):
        targets: list[str] = []
        if isinstance(node, ast.Import):
            targets = [alias.name for alias in node.names]
        elif isinstance(node, ast.ImportFrom):
            if node.level:
                base = own.split(".")[: len(own.split(".")) - (node.level - 1)]
                imported = ".".join([*base, *([node.module] if node.module else [])])
            else:
                imported = node.module or ""
            targets = [imported] + [f"{imported}.{alias.name}" for alias in node.names if alias.name != "*"]
        for target in targets:
            owner = _private_owner(target, packages)
            if owner is not None and own != owner and not own.startswith(owner + "."):
                yield f"line {node.lineno}: {target} is private to {owner}"
                break  # one error per import statement


def _private_owner(target: str, packages: set[str]) -> str | None:
    """The package that the first private part of ``target`` belongs to, if it has one."""
    parts = target.split(".")
    if parts[0] not in PACKAGES:
        return None
    for i, part in enumerate(parts[1:], start=1):
        if _is_private(part):
            holder = ".".join(parts[:i])
            return holder if holder in packages else holder.rpartition(".")[0]
    return None


def _sources() -> Iterator[tuple[str, bool, Path]]:
    for package in PACKAGES:
        for path in sorted((ROOT / package).rglob("*.py")):
            parts = list(path.relative_to(ROOT).with_suffix("").parts)
            is_package = parts[-1] == "__init__"
            if is_package:
                parts.pop()
            yield ".".join(parts), is_package, path


def test_no_module_imports_a_private_module_of_another_package() -> None:
    packages = {name for name, is_package, _ in _sources() if is_package}
    errors = [
        f"{path.relative_to(ROOT)} {error}"
        for name, is_package, path in _sources()
        for error in private_import_errors(name, is_package, path.read_text(encoding="utf-8"), packages)
    ]
    assert errors == []


@pytest.mark.parametrize(
    ("module", "is_package", "source", "expected"),
    [
        ("worker.cli", False, "from tasks._base import x", ["line 1: tasks._base is private to tasks"]),
        (
            "worker.jobs.service",
            False,
            "import worker.reading._y",
            ["line 1: worker.reading._y is private to worker.reading"],
        ),
        ("worker.jobs.service", False, "from rules._x import y", ["line 1: rules._x is private to rules"]),
        (
            "worker.engine.split",
            False,
            "from worker.reading.read import _z",
            ["line 1: worker.reading.read._z is private to worker.reading"],
        ),
        (
            "worker.jobs",
            True,
            "def f():\n    from rules.domain import _age",
            ["line 2: rules.domain._age is private to rules.domain"],
        ),
        ("worker.reading.read", False, "from worker.reading._y import z", []),
        ("worker.reading.read", False, "from . import _y", []),
        ("worker.reading", True, "from ._y import z", []),
        ("worker.reading.read", False, "from worker.reading.guard import _limit", []),
        ("worker.reading.isolation.child", False, "from worker.reading._y import z", []),
        ("tasks.parts", False, "from tasks._base import task", []),
        ("worker.cli", False, "from rules.domain import age as _age", []),
        ("worker.cli", False, "from pandas._libs import lib\nfrom __future__ import annotations", []),
        ("rules.domain.age", False, "from worker import __version__", []),
    ],
)
def test_the_private_import_check(module: str, is_package: bool, source: str, expected: list[str]) -> None:
    packages = {"worker", "worker.reading", "worker.jobs", "worker.engine", "tasks", "rules", "rules.domain"}
    assert list(private_import_errors(module, is_package, source, packages)) == expected


def test_no_lazily_exported_name_is_also_a_submodule() -> None:
    """``worker.reading`` loads its names on first use; a submodule of the same name would
    replace the name on the package once imported (``discover`` was one)."""
    import worker.reading

    submodules = {p.stem for p in (ROOT / "worker" / "reading").glob("*.py")}
    assert not submodules & set(worker.reading.__all__)
