"""verifier/ is pure logic: it never imports scrapy, twisted, click or the crawler."""

from __future__ import annotations

import ast
import subprocess
import sys

import pytest

from tests.conftest import ROOT

FORBIDDEN = ("scrapy", "twisted", "click", "crawler", "parsel", "itemadapter")


def test_importing_all_of_verifier_loads_no_crawling_stack() -> None:
    # click is not checked at run time: sqlite-utils imports it for its own CLI.
    code = (
        "import pkgutil, importlib, sys, verifier\n"
        "for m in pkgutil.walk_packages(verifier.__path__, 'verifier.'):\n"
        "    importlib.import_module(m.name)\n"
        "bad = sorted(m for m in sys.modules if m.split('.')[0] in"
        " ('scrapy', 'twisted', 'crawler', 'parsel', 'itemadapter'))\n"
        "assert not bad, bad\n"
    )
    subprocess.run([sys.executable, "-c", code], cwd=ROOT, check=True)


@pytest.mark.parametrize("path", sorted((ROOT / "verifier").rglob("*.py")), ids=str)
def test_no_verifier_module_imports_the_crawling_stack(path) -> None:  # type: ignore[no-untyped-def]
    tree = ast.parse(path.read_text(encoding="utf-8"))
    for node in ast.walk(tree):
        names: list[str] = []
        if isinstance(node, ast.Import):
            names = [alias.name for alias in node.names]
        elif isinstance(node, ast.ImportFrom) and node.module and not node.level:
            names = [node.module]
        for name in names:
            assert name.split(".")[0] not in FORBIDDEN, f"{path}: imports {name}"


def test_ruff_is_clean() -> None:
    done = subprocess.run(
        [sys.executable, "-m", "ruff", "check", "--quiet", "."],
        cwd=ROOT,
        capture_output=True,
        text=True,
    )
    assert done.returncode == 0, done.stdout + done.stderr


def test_verifier_is_strictly_typed() -> None:
    done = subprocess.run(
        [sys.executable, "-m", "mypy", "--no-error-summary"],  # config: pyproject.toml
        cwd=ROOT,
        capture_output=True,
        text=True,
    )
    assert done.returncode == 0, done.stdout + done.stderr


#: Which subpackages of verifier each may import: lower floors only, never back up.
FLOORS = {
    "verdict": {"verdict", "models"},
    "store": {"store", "verdict", "models"},
    "importers": {"importers", "verdict", "models"},
    "mentions": {"mentions", "verdict", "models"},
    "crawl": {"crawl", "mentions", "verdict", "models"},
}


@pytest.mark.parametrize("package", sorted(FLOORS))
def test_subpackages_import_only_lower_floors(package: str) -> None:
    allowed = FLOORS[package]
    for path in sorted((ROOT / "verifier" / package).rglob("*.py")):
        tree = ast.parse(path.read_text(encoding="utf-8"))
        for node in ast.walk(tree):
            modules: list[str] = []
            if isinstance(node, ast.ImportFrom) and node.module and not node.level:
                modules = [node.module]
                if node.module == "verifier":
                    modules = [f"verifier.{alias.name}" for alias in node.names]
            elif isinstance(node, ast.Import):
                modules = [alias.name for alias in node.names]
            for module in modules:
                parts = module.split(".")
                if parts[0] == "verifier" and len(parts) > 1:
                    assert parts[1] in allowed, f"{path}: imports {module}"
