"""Which way imports go inside server/ (the floors of README.md's architecture section).

    floor 4  app.py, cli.py, asgi.py, templating.py    wiring
    floor 3  <capability>/routes.py                    may import any capability
    floor 2  <capability>/ everything else             services, rules, commands
    floor 1  models/                                   every table
    floor 0  server/*.py (settings, clock, errors, forms, web, vocab, images, db, storage)

Read statically (every import statement, function-local ones included). `python -m
tests.support.floors` prints the capability graph and every breach; tests/test_floors.py
holds the rules.
"""

from __future__ import annotations

import ast
import sys
from collections import defaultdict
from dataclasses import dataclass
from pathlib import Path

SERVER = Path(__file__).resolve().parents[2] / "server"
WIRING = {"app", "cli", "asgi", "templating", "piccolo_app", "__main__"}
MODELS = "models"


@dataclass(frozen=True)
class Import:
    source: str  # e.g. "inspections/routes.py"
    line: int
    target: str  # the imported module, e.g. "server.evidence.service"
    root: Path = SERVER

    @property
    def target_folder(self) -> str | None:
        """The folder under server/ the target lives in (None for a floor-0 or wiring module)."""
        parts = self.target.split(".")
        if len(parts) > 1 and (self.root / parts[1]).is_dir():
            return parts[1]
        return None

    @property
    def target_top(self) -> str:
        return self.target.split(".")[1] if "." in self.target else ""


def _modules(node: ast.AST) -> list[str]:
    if isinstance(node, ast.Import):
        return [a.name for a in node.names]
    if isinstance(node, ast.ImportFrom) and node.module and node.level == 0:
        # `from server import clock` names a module; `from server.x import y` may too (a name
        # that is not a module adds nothing: it lies in the same folder).
        return [node.module] + [f"{node.module}.{a.name}" for a in node.names]
    return []


def imports(root: Path = SERVER) -> list[Import]:
    found = []
    for path in sorted(root.rglob("*.py")):
        source = path.relative_to(root).as_posix()
        for node in ast.walk(ast.parse(path.read_text(encoding="utf-8"), filename=str(path))):
            for module in _modules(node):
                if module == "server" or module.startswith("server."):
                    found.append(Import(source, node.lineno, module, root))
    return found


def folder_of(source: str) -> str | None:
    return source.split("/")[0] if "/" in source else None


def capability_edges(found: list[Import]) -> dict[tuple[str, str], list[Import]]:
    """Folder → folder imports between capabilities (models excluded: everyone may use it)."""
    edges: dict[tuple[str, str], list[Import]] = defaultdict(list)
    for imp in found:
        src, dst = folder_of(imp.source), imp.target_folder
        if src and dst and src != dst and MODELS not in (src, dst):
            edges[(src, dst)].append(imp)
    return edges


def mutual_pairs(found: list[Import]) -> list[tuple[str, str]]:
    edges = capability_edges(found)
    return sorted({tuple(sorted(pair)) for pair in edges if pair[::-1] in edges})


def breaches(found: list[Import]) -> list[str]:
    """Imports that go the wrong way, as readable lines."""
    out = []
    for imp in found:
        src = folder_of(imp.source)
        dst = imp.target_folder
        name = Path(imp.source).stem
        where = f"server/{imp.source}:{imp.line} imports {imp.target}"
        if src is None and name not in WIRING and (dst is not None or imp.target_top in WIRING):
            out.append(f"{where}: the ground floor imports no capability, model or wiring")
        elif src == MODELS and dst not in (None, MODELS):
            out.append(f"{where}: a model imports only models and the ground floor")
        elif src and src != MODELS and name != "routes" and imp.target.endswith(".routes"):
            out.append(f"{where}: only the wiring imports route modules")
        elif src and imp.target_top in WIRING:
            out.append(f"{where}: a capability never imports the wiring")
    return out


def service_cycles(found: list[Import]) -> list[list[str]]:
    """Cycles among capabilities counting only what is not a route module: services import
    only services below them, so this graph must have none (it is the order of the floors)."""
    graph: dict[str, set[str]] = defaultdict(set)
    for (src, dst), imps in capability_edges(found).items():
        if any(Path(i.source).stem != "routes" for i in imps):
            graph[src].add(dst)
    cycles, state = [], {}

    def visit(node: str, path: list[str]) -> None:
        state[node] = 1
        for nxt in sorted(graph.get(node, ())):
            if state.get(nxt) == 1:
                cycles.append(path[path.index(nxt):] + [nxt])
            elif nxt not in state:
                visit(nxt, path + [nxt])
        state[node] = 2

    for node in sorted(graph):
        if node not in state:
            visit(node, [node])
    return cycles


def order(found: list[Import]) -> list[str]:
    """The capabilities from the lowest up (each imports only those before it)."""
    graph: dict[str, set[str]] = defaultdict(set)
    folders = {folder_of(i.source) for i in found} - {None, MODELS}
    for (src, dst) in capability_edges(found):
        graph[src].add(dst)
    placed: list[str] = []
    while len(placed) < len(folders):
        ready = sorted(f for f in folders if f not in placed and graph[f] <= set(placed))
        if not ready:  # a cycle (through routes): place the rest as they come
            placed += sorted(folders - set(placed))
            break
        placed += ready
    return placed


def main() -> int:
    found = imports()
    edges = capability_edges(found)
    print("capabilities, lowest first:", " < ".join(order(found)))
    print(f"{len(edges)} folder-to-folder edges between capabilities")
    pairs = mutual_pairs(found)
    print(f"mutual imports: {len(pairs)}", *(f"  {a} <-> {b}" for a, b in pairs), sep="\n")
    for cycle in service_cycles(found):
        print("service cycle:", " -> ".join(cycle))
    for line in breaches(found):
        print("breach:", line)
    return 1 if pairs or breaches(found) or service_cycles(found) else 0


if __name__ == "__main__":
    sys.exit(main())
