#!/usr/bin/env python3
"""hlsfix's import graph: every ``import`` of an hlsfix module by another, wherever it stands (module
level, inside a function, under ``TYPE_CHECKING``), and the cycles in it.

    python scripts/import_graph.py            # the cycles (strongly connected components), or "no cycles"
    python scripts/import_graph.py --largest  # also the ten longest modules

tests/test_architecture.py asserts what this prints: no cycles, nothing but the CLI imports the CLI.
"""

from __future__ import annotations

import argparse
import ast
import sys
from pathlib import Path

ROOT = Path(__file__).resolve().parents[1] / "hlsfix"


def module_name(path: Path) -> str:
    parts = path.relative_to(ROOT.parent).with_suffix("").parts
    return ".".join(parts[:-1] if parts[-1] == "__init__" else parts)


def modules() -> dict[str, Path]:
    return {module_name(p): p for p in sorted(ROOT.rglob("*.py"))}


def _resolve(name: str, known: dict[str, Path]) -> str | None:
    """The hlsfix module ``name`` refers to (a module, or the package holding an imported name)."""
    while name and name not in known:
        name = name.rpartition(".")[0]
    return name or None


def imports_of(name: str, path: Path, known: dict[str, Path]) -> set[str]:
    tree = ast.parse(path.read_text(), str(path))
    package = name if path.name == "__init__.py" else name.rpartition(".")[0]
    found: set[str] = set()
    for node in ast.walk(tree):
        targets: list[str] = []
        if isinstance(node, ast.Import):
            targets = [a.name for a in node.names]
        elif isinstance(node, ast.ImportFrom):
            base = node.module or ""
            if node.level:
                pkg = package.split(".")
                pkg = pkg[: len(pkg) - node.level + 1]
                base = ".".join([*pkg, base] if base else pkg)
            targets = [f"{base}.{a.name}" for a in node.names] + [base]
        for t in targets:
            if t.startswith("hlsfix"):
                target = _resolve(t, known)
                # A package's __init__ re-exporting its own modules is not an edge back to itself.
                if target and target != name and not name.startswith(target + "."):
                    found.add(target)
    return found


def graph() -> dict[str, set[str]]:
    known = modules()
    return {name: imports_of(name, path, known) for name, path in known.items()}


def cycles(g: dict[str, set[str]]) -> list[list[str]]:
    """Strongly connected components with more than one module (Tarjan)."""
    index: dict[str, int] = {}
    low: dict[str, int] = {}
    stack: list[str] = []
    on_stack: set[str] = set()
    out: list[list[str]] = []
    sys.setrecursionlimit(10_000)

    def visit(v: str) -> None:
        index[v] = low[v] = len(index)
        stack.append(v)
        on_stack.add(v)
        for w in g.get(v, ()):
            if w not in index:
                visit(w)
                low[v] = min(low[v], low[w])
            elif w in on_stack:
                low[v] = min(low[v], index[w])
        if low[v] == index[v]:
            comp = []
            while True:
                w = stack.pop()
                on_stack.discard(w)
                comp.append(w)
                if w == v:
                    break
            if len(comp) > 1:
                out.append(sorted(comp))

    for v in sorted(g):
        if v not in index:
            visit(v)
    return out


def main() -> int:
    ap = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    ap.add_argument("--largest", action="store_true", help="also list the ten longest modules")
    args = ap.parse_args()
    g = graph()
    found = cycles(g)
    for comp in found:
        print("cycle: " + " <-> ".join(comp))
    cli_users = sorted(m for m, deps in g.items() if "hlsfix.cli" in deps)
    if cli_users:
        print("imports the CLI: " + ", ".join(cli_users))
    if not found and not cli_users:
        print(f"no cycles among {len(g)} modules; nothing imports hlsfix.cli")
    if args.largest:
        sizes = sorted(((len(p.read_text().splitlines()), n) for n, p in modules().items()), reverse=True)
        for lines, name in sizes[:10]:
            print(f"{lines:6d}  {name}")
    return 1 if found or cli_users else 0


if __name__ == "__main__":
    sys.exit(main())
