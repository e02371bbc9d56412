"""The layout's two import rules: the domain package never needs Dagster, and no module imports
itself back through others (a cycle). Every import counts, also one inside a function."""

from __future__ import annotations

import ast
from pathlib import Path

from tests.support.pipeline import REPO

FIRST_PARTY = ("jeugdhulp", "orchestration")
FORBIDDEN_IN_DOMAIN = ("dagster", "orchestration")  # dagster also covers dagster_dbt, dagster_pipes


def modules_under(root: Path, packages: tuple[str, ...]) -> dict[str, Path]:
    """Dotted module name -> file, for every .py file of the given top-level packages."""
    found = {}
    for package in packages:
        for path in sorted((root / package).rglob("*.py")):
            parts = list(path.relative_to(root).with_suffix("").parts)
            if parts[-1] == "__init__":
                parts.pop()
            found[".".join(parts)] = path
    return found


def imports_of(name: str, path: Path, modules: dict[str, Path]) -> list[tuple[str, int]]:
    """(imported module, line) for every import statement in the file, relative ones resolved.

    `from package import module` counts as an import of that module (not of the package's
    `__init__`); `from module import name` as an import of the module.
    """
    tree = ast.parse(path.read_text(encoding="utf-8"), filename=str(path))
    package = name if path.name == "__init__.py" else name.rpartition(".")[0]
    found = []
    for node in ast.walk(tree):
        if isinstance(node, ast.Import):
            found += [(alias.name, node.lineno) for alias in node.names]
        elif isinstance(node, ast.ImportFrom):
            base = node.module or ""
            if node.level:
                anchor = package.split(".")[: len(package.split(".")) - node.level + 1]
                base = ".".join([*anchor, base] if base else anchor)
            for alias in node.names:
                submodule = f"{base}.{alias.name}"
                found.append((submodule if submodule in modules else base, node.lineno))
    return found


def import_graph(root: Path, packages: tuple[str, ...]) -> dict[str, set[str]]:
    """module -> the first-party modules it imports (edges only to modules that exist)."""
    modules = modules_under(root, packages)
    graph = {}
    for name, path in modules.items():
        imported = {target for target, _ in imports_of(name, path, modules)}
        graph[name] = (imported & modules.keys()) - {name}
    return graph


def cycles(graph: dict[str, set[str]]) -> list[list[str]]:
    """Strongly connected components of more than one module (Tarjan, iterative)."""
    index, low, on_stack, stack, result, counter = {}, {}, set(), [], [], [0]

    def visit(start: str) -> None:
        work = [(start, iter(sorted(graph[start])))]
        index[start] = low[start] = counter[0]
        counter[0] += 1
        stack.append(start)
        on_stack.add(start)
        while work:
            node, edges = work[-1]
            advanced = False
            for target in edges:
                if target not in index:
                    index[target] = low[target] = counter[0]
                    counter[0] += 1
                    stack.append(target)
                    on_stack.add(target)
                    work.append((target, iter(sorted(graph[target]))))
                    advanced = True
                    break
                if target in on_stack:
                    low[node] = min(low[node], index[target])
            if advanced:
                continue
            work.pop()
            if work:
                low[work[-1][0]] = min(low[work[-1][0]], low[node])
            if low[node] == index[node]:
                component = []
                while True:
                    member = stack.pop()
                    on_stack.discard(member)
                    component.append(member)
                    if member == node:
                        break
                if len(component) > 1:
                    result.append(sorted(component))

    for node in sorted(graph):
        if node not in index:
            visit(node)
    return result


def forbidden_imports(root: Path) -> list[str]:
    """`file:line imports X` for every import of Dagster or orchestration inside jeugdhulp/."""
    found = []
    modules = modules_under(root, ("jeugdhulp",))
    for name, path in modules.items():
        for target, line in imports_of(name, path, modules):
            if target.split(".")[0].startswith(FORBIDDEN_IN_DOMAIN):
                found.append(f"{path.relative_to(root)}:{line} imports {target}")
    return sorted(set(found))


def test_the_domain_package_imports_neither_dagster_nor_orchestration():
    assert forbidden_imports(REPO) == []


def test_the_import_graph_has_no_cycle():
    graph = import_graph(REPO, FIRST_PARTY)
    assert len(graph) > 50  # the whole code base was read
    assert cycles(graph) == []


def write(root: Path, files: dict[str, str]) -> None:
    for relative, text in files.items():
        path = root / relative
        path.parent.mkdir(parents=True, exist_ok=True)
        path.write_text(text, encoding="utf-8")


def test_the_rules_catch_a_cycle_and_a_forbidden_import(tmp_path):
    """The checks themselves on a made-up tree: a lazy import closing a cycle through a relative
    import, and Dagster imported inside a function of the domain package."""
    write(
        tmp_path,
        {
            "jeugdhulp/__init__.py": "",
            "jeugdhulp/quality/__init__.py": "",
            "jeugdhulp/quality/runner.py": "from . import docs\n",
            "jeugdhulp/quality/docs.py": "def build():\n    from jeugdhulp.quality.runner import x\n",
            "jeugdhulp/ingest.py": "def run():\n    import dagster_dbt\n",
            "jeugdhulp/fine.py": "from jeugdhulp.quality import docs\n",
            "orchestration/__init__.py": "",
            "orchestration/defs.py": "from jeugdhulp import fine\nimport dagster\n",
        },
    )
    graph = import_graph(tmp_path, FIRST_PARTY)
    assert cycles(graph) == [["jeugdhulp.quality.docs", "jeugdhulp.quality.runner"]]
    assert graph["jeugdhulp.fine"] == {"jeugdhulp.quality.docs"}
    assert forbidden_imports(tmp_path) == ["jeugdhulp/ingest.py:2 imports dagster_dbt"]
