"""Every ``do_*`` action lives in its app's actions (docs/architecture.md, "Where actions live")."""

from __future__ import annotations

import ast
from pathlib import Path

PACKAGE = Path(__file__).resolve().parent.parent / "openhotline"


def is_actions_module(path: Path) -> bool:
    app_dir = path.relative_to(PACKAGE).parts
    return path.name == "actions.py" or (len(app_dir) >= 3 and app_dir[1] == "actions")


def test_every_do_function_is_in_an_actions_module() -> None:
    strays = []
    for path in sorted(PACKAGE.rglob("*.py")):
        if "migrations" in path.parts:
            continue
        tree = ast.parse(path.read_text(encoding="utf-8"))
        for node in tree.body:  # module level only: a handler's do_GET is no action
            if isinstance(node, ast.FunctionDef) and node.name.startswith("do_"):
                if not is_actions_module(path):
                    strays.append(f"{path.relative_to(PACKAGE)}:{node.lineno} {node.name}")
    assert strays == []


def test_an_actions_package_re_exports_nothing() -> None:
    for init in sorted(PACKAGE.glob("*/actions/__init__.py")):
        assert init.read_text(encoding="utf-8").strip() == "", init
