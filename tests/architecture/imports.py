"""The package's import graph, read from the source (every import statement, including those inside functions)."""

from __future__ import annotations

import ast
from pathlib import Path

import voiceagent

PACKAGE_DIR = Path(voiceagent.__file__).parent


def module_name(path: Path) -> str:
    parts = path.relative_to(PACKAGE_DIR.parent).with_suffix("").parts
    return ".".join(parts[:-1] if parts[-1] == "__init__" else parts)


def imports_of(path: Path) -> set[str]:
    """Absolute names of every module `path` imports (relative imports resolved)."""
    tree = ast.parse(path.read_text(), filename=str(path))
    package = module_name(path) if path.name == "__init__.py" else module_name(path).rpartition(".")[0]
    names: set[str] = set()
    for node in ast.walk(tree):
        if isinstance(node, ast.Import):
            names.update(alias.name for alias in node.names)
        elif isinstance(node, ast.ImportFrom):
            base = node.module or ""
            if node.level:
                anchor = package.split(".")
                anchor = anchor[: len(anchor) - node.level + 1]
                base = ".".join([*anchor, base] if base else anchor)
            names.add(base)
            names.update(f"{base}.{alias.name}" for alias in node.names)
    return names


def component(module: str) -> str | None:
    """The package (or top-level module) of voiceagent a module belongs to: `call`, `server`, ..."""
    parts = module.split(".")
    return parts[1] if parts[0] == "voiceagent" and len(parts) > 1 else None


def source_files() -> list[Path]:
    return sorted(path for path in PACKAGE_DIR.rglob("*.py") if path.parent != PACKAGE_DIR or path.name != "__init__.py")


def component_graph() -> dict[str, dict[str, list[str]]]:
    """{component: {imported component: [the modules whose import makes the edge]}}"""
    graph: dict[str, dict[str, list[str]]] = {}
    for path in source_files():
        source = component(module_name(path))
        edges = graph.setdefault(source, {})
        for name in imports_of(path):
            target = component(name)
            if target and target != source:
                edges.setdefault(target, []).append(module_name(path))
    return graph


def external_imports() -> dict[str, set[str]]:
    """{component: top-level names of the third-party packages it imports}"""
    found: dict[str, set[str]] = {}
    for path in source_files():
        names = {name.split(".")[0] for name in imports_of(path) if not name.startswith("voiceagent")}
        found.setdefault(component(module_name(path)), set()).update(names)
    return found
