"""The layering: each package imports only the layers README.md (Architecture) allows it."""

from __future__ import annotations

import ast
from pathlib import Path

import pytest

ROOT = Path(__file__).resolve().parent.parent
# Greenroom's own top-level packages; any other import is a third-party or standard one.
OURS = frozenset(
    {"agent", "api", "bench", "db", "frontend", "greenroom", "media", "reports", "scoring", "scripts", "tests"}
)
# The settings object is passed down from the entry point, so every layer may name its type.
EVERYWHERE = ("greenroom.settings",)
# What each package may import of ours besides itself: a package, or one module of it.
ALLOWED: dict[str, tuple[str, ...]] = {
    "api": ("reports", "scoring", "db", "agent.catalog", "agent.question_bank", "media.signalling"),
    "media": ("agent", "scoring", "db"),
    "agent": ("scoring", "db"),
    "reports": ("scoring", "db"),
    "scoring": (),
    "db": (),
}


def imported_modules(path: Path, root: Path) -> list[tuple[int, str]]:
    """(line, module) for every import in a file, at any depth; relative ones made absolute.

    `from x import y` counts as importing x.y: y may be a module, and a name in x is
    judged by x all the same.
    """
    tree = ast.parse(path.read_text(encoding="utf-8"), filename=str(path))
    package = list(path.relative_to(root).parent.parts)
    found: list[tuple[int, str]] = []
    for node in ast.walk(tree):
        if isinstance(node, ast.Import):
            found += [(node.lineno, alias.name) for alias in node.names]
        elif isinstance(node, ast.ImportFrom):
            base = package[: len(package) - node.level + 1] if node.level else []
            module = ".".join([*base, *([node.module] if node.module else [])])
            found += [
                (node.lineno, module if alias.name == "*" else ".".join(filter(None, [module, alias.name])))
                for alias in node.names
            ]
    return sorted(found)


def within(module: str, prefix: str) -> bool:
    return module == prefix or module.startswith(prefix + ".")


def violations(package: str, root: Path = ROOT) -> list[str]:
    """Each import in the package of one of ours that its layer may not use, as file:line."""
    allowed = (package, *ALLOWED[package], *EVERYWHERE)
    found = []
    for path in sorted((root / package).rglob("*.py")):
        for line, module in imported_modules(path, root):
            if module.split(".")[0] in OURS and not any(within(module, a) for a in allowed):
                found.append(f"{path.relative_to(root)}:{line} imports {module}")
    return found


@pytest.mark.parametrize("package", sorted(ALLOWED))
def test_each_package_imports_only_the_layers_it_may(package: str) -> None:
    assert violations(package) == []


def test_top_level_nested_and_relative_imports_are_all_checked(tmp_path: Path) -> None:
    (tmp_path / "agent").mkdir()
    (tmp_path / "agent" / "a.py").write_text(
        "import media.room_server\n"
        "from db import sessions\n"
        "from greenroom.settings import Settings\n"
        "from . import worker\n"
        "def f():\n"
        "    from api.app import create_app\n"
        "from .. import media\n"
        "from greenroom import interviews\n"
    )

    assert violations("agent", tmp_path) == [
        "agent/a.py:1 imports media.room_server",
        "agent/a.py:6 imports api.app.create_app",
        "agent/a.py:7 imports media",
        "agent/a.py:8 imports greenroom.interviews",
    ]
