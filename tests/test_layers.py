"""The layering docs/development.md's layout describes, read from the imports themselves (function-level ones too).

commands/ sits on top and may use everything; scenarios/ and bench/ are side by side and never import
each other; lab/ is the library under both; the server (lbaws) imports none of the harness.
"""
import ast
from pathlib import Path

import pytest

ROOT = Path(__file__).resolve().parents[1]
PACKAGES = {"commands": ROOT / "commands", "scenarios": ROOT / "scenarios", "bench": ROOT / "bench",
            "lab": ROOT / "lab", "watch": ROOT / "watch", "lbaws": ROOT / "server" / "lbaws"}
# What each package may import of the others: written here, not derived from the code.
ALLOWED = {
    "commands": {"scenarios", "bench", "lab", "lbaws", "watch"},
    "scenarios": {"lab", "lbaws"},
    "bench": {"lab", "lbaws"},
    "lab": set(),
    # The page reads the files runs leave (samples.ndjson, report.json), never the harness that wrote them.
    "watch": set(),
    "lbaws": set(),
}


def module_name(package: str, path: Path) -> str:
    parts = path.relative_to(PACKAGES[package]).with_suffix("").parts
    parts = parts[:-1] if parts[-1] == "__init__" else parts
    return ".".join((package, *parts))


def imports(path: Path, name: str) -> set:
    """Every module `path` imports, absolute or relative, at any depth of the file."""
    found = set()
    package = name if path.name == "__init__.py" else name.rpartition(".")[0]
    for node in ast.walk(ast.parse(path.read_text(), str(path))):
        if isinstance(node, ast.Import):
            found.update(alias.name for alias in node.names)
        elif isinstance(node, ast.ImportFrom):
            if node.level:
                base = package.split(".")[: len(package.split(".")) - node.level + 1]
                module = ".".join(base + ([node.module] if node.module else []))
            else:
                module = node.module
            found.add(module)
            # `from scenarios import report` imports the module scenarios.reports.report.
            found.update(f"{module}.{alias.name}" for alias in node.names)
    return found


def graph() -> dict:
    modules = {}
    for package, folder in PACKAGES.items():
        for path in folder.rglob("*.py"):
            if "__pycache__" not in path.parts:
                modules[module_name(package, path)] = path
    return {name: {imported for imported in imports(path, name) if imported in modules and imported != name}
            for name, path in modules.items()}


GRAPH = graph()


@pytest.mark.parametrize("package", PACKAGES)
def test_a_package_imports_only_the_layers_below_it(package):
    upward = sorted(f"{name} imports {imported}" for name, targets in GRAPH.items() if name.split(".")[0] == package
                    for imported in targets
                    if imported.split(".")[0] != package and imported.split(".")[0] not in ALLOWED[package])
    assert upward == []


def test_no_module_imports_itself_through_others():
    cycles = []
    state = {}

    def visit(name, path):
        state[name] = "open"
        for target in sorted(GRAPH[name]):
            if state.get(target) == "open":
                cycles.append(" -> ".join(path[path.index(target):] + [target]))
            elif target not in state:
                visit(target, path + [target])
        state[name] = "done"

    for name in sorted(GRAPH):
        if name not in state:
            visit(name, [name])
    assert cycles == []


def test_the_reader_sees_every_package_and_its_modules():
    # The check must be reading real code: each package has modules, and commands imports from the rest.
    assert {name.split(".")[0] for name in GRAPH} == set(PACKAGES)
    assert {"commands.scenario", "commands.check", "commands.load", "commands.doctor", "commands.bench",
            "commands.common", "lab.runs", "scenarios.vocabulary.verdict"} <= set(GRAPH)
    assert "scenarios.executor.runner" in GRAPH["commands.scenario"]
    assert "lab.runs" in GRAPH["scenarios.executor.containers"]
