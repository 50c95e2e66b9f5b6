"""One import direction (timm's: pretrained metadata <- registry <- factory -> hub I/O), no cycles among rnnzoo's
modules, and a command line that answers --help, list and compare --help without torch, Lightning or MLflow."""

from __future__ import annotations

import ast
import json
import subprocess
import sys
from pathlib import Path

import pytest
from tests.support.paths import REPO

PACKAGE = REPO / "rnnzoo"
HEAVY = ("torch", "lightning", "mlflow", "huggingface_hub", "matplotlib", "pandas", "optuna")


def module_name(path: Path) -> str:
    parts = path.relative_to(PACKAGE.parent).with_suffix("").parts
    return ".".join(parts[:-1] if parts[-1] == "__init__" else parts)


def imports(path: Path, top_level_only: bool) -> set[str]:
    """rnnzoo modules ``path`` imports. ``from rnnzoo.a import b`` counts rnnzoo.a.b when that is a module, else
    rnnzoo.a; ``from rnnzoo import _C`` (the compiled extension) counts nothing of the package's face."""
    tree = ast.parse(path.read_text())
    nodes = tree.body if top_level_only else list(ast.walk(tree))
    found = set()
    for node in nodes:
        if isinstance(node, ast.Import):
            names = [a.name for a in node.names]
        elif isinstance(node, ast.ImportFrom) and node.module and node.level == 0:
            submodules = [f"{node.module}.{a.name}" for a in node.names]
            names = [n for n in submodules if n in MODULES or n in EXTENSIONS]
            if len(names) < len(submodules):  # some names are attributes of node.module itself
                names.append(node.module)
        else:
            continue
        found |= {n for n in names if n.startswith("rnnzoo") and n in MODULES}
    return found - {module_name(path)}


MODULES = {module_name(p): p for p in PACKAGE.rglob("*.py")}
EXTENSIONS = {"rnnzoo._C"}

#: The only imports against the direction, each made inside a function (so importing either module alone never
#: runs the other) and each for a reason that keeps the user's API in one place.
ALLOWED_LAZY_BACK_EDGES = {
    # TaskModel.from_pretrained / ForecastEnsemble members by name: the classmethod users expect (Hugging Face's
    # mixin) delegates to the one loader, which builds task models.
    ("rnnzoo.tasks.base", "rnnzoo.factory"),
    ("rnnzoo.tasks.forecaster.ensemble", "rnnzoo.factory"),
}


def _find_cycle(graph: dict[str, set[str]]) -> list[str] | None:
    state: dict[str, int] = {}

    def visit(node: str, stack: list[str]) -> list[str] | None:
        state[node] = 1
        for nxt in sorted(graph[node]):
            if state.get(nxt) == 1:
                return stack[stack.index(nxt):] + [nxt] if nxt in stack else [node, nxt]
            if nxt not in state and (cycle := visit(nxt, stack + [nxt])):
                return cycle
        state[node] = 2
        return None

    for name in sorted(graph):
        if name not in state and (cycle := visit(name, [name])):
            return cycle
    return None


def test_no_import_cycles_among_rnnzoo_modules():
    graph = {name: imports(path, top_level_only=True) for name, path in MODULES.items()}
    cycle = _find_cycle(graph)
    assert cycle is None, "import cycle: " + " -> ".join(cycle)


def test_no_import_cycles_counting_imports_inside_functions():
    # A lazy import hides a cycle from start-up, not from the design: every import counts here, except the
    # listed back-edges (each with its reason above).
    graph = {name: imports(path, top_level_only=False) for name, path in MODULES.items()}
    for source, target in ALLOWED_LAZY_BACK_EDGES:
        assert target in graph[source], f"{source} no longer imports {target}: drop it from the allowed list"
        graph[source] = graph[source] - {target}
    cycle = _find_cycle(graph)
    assert cycle is None, "import cycle (counting imports inside functions): " + " -> ".join(cycle)


def test_the_allowed_back_edges_are_imported_lazily_only():
    for source, target in ALLOWED_LAZY_BACK_EDGES:
        assert target not in imports(MODULES[source], top_level_only=True), (source, target)


def _lazy_imports() -> list[tuple[str, str, str]]:
    """(importing module, imported module, name) for every ``from rnnzoo... import name`` inside a function."""
    found = []
    for name, path in MODULES.items():
        tree = ast.parse(path.read_text())
        top = {id(n) for n in tree.body}
        for node in ast.walk(tree):
            if isinstance(node, ast.ImportFrom) and node.module and node.module.startswith("rnnzoo") \
                    and node.level == 0 and id(node) not in top:
                found += [(name, node.module, alias.name) for alias in node.names]
    return found


def test_every_lazily_imported_name_exists():
    # An import inside a function runs only when that function does: `from rnnzoo.hub import push_to_hub` (a name
    # hub never had) broke TaskModel.push_to_hub unseen. Resolve each such name now.
    import importlib

    missing = []
    for importer, module, name in _lazy_imports():
        if f"{module}.{name}" in EXTENSIONS:
            continue
        imported = importlib.import_module(module)
        if not hasattr(imported, name) and f"{module}.{name}" not in MODULES:
            missing.append(f"{importer}: from {module} import {name}")
    assert len(_lazy_imports()) > 50 and missing == []


@pytest.mark.parametrize("module, forbidden", [
    ("rnnzoo.pretrained", {"rnnzoo.registry", "rnnzoo.factory", "rnnzoo.hub"}),
    ("rnnzoo.registry", {"rnnzoo.factory", "rnnzoo.hub"}),
    ("rnnzoo.hub", {"rnnzoo.registry", "rnnzoo.factory", "rnnzoo.tasks"}),
])
def test_the_layers_import_downwards_only(module, forbidden):
    # Every import counts here, those inside functions too: the layering is about what each layer knows.
    assert not imports(MODULES[module], top_level_only=False) & forbidden


def run_python(code: str) -> dict:
    result = subprocess.run([sys.executable, "-c", code], capture_output=True, text=True, timeout=120)
    assert result.returncode == 0, result.stderr
    return json.loads(result.stdout.strip().splitlines()[-1])


@pytest.mark.parametrize("argv", [["--help"], ["list"], ["list", "--pretrained"], ["compare", "--help"],
                                  ["predict", "--help"]])
def test_command_line_answers_without_heavy_libraries(argv):
    code = (
        "import contextlib, io, json, sys\n"
        "from rnnzoo.cli import main\n"
        "out = io.StringIO()\n"
        "with contextlib.redirect_stdout(out):\n"
        "    try:\n"
        f"        main({argv!r})\n"
        "    except SystemExit:\n"
        "        pass\n"
        f"print(json.dumps({{'printed': len(out.getvalue()), 'heavy': sorted(m for m in {HEAVY!r} if m in sys.modules)}}))\n"
    )
    report = run_python(code)
    assert report["printed"] > 50 and report["heavy"] == []


def test_optuna_is_imported_only_when_a_search_starts():
    code = ("import json, sys\n"
            "import rnnzoo, rnnzoo.compare.comparison, rnnzoo.compare.search, rnnzoo.compare.command\n"
            "print(json.dumps({'optuna': 'optuna' in sys.modules}))\n")
    assert run_python(code) == {"optuna": False}


def test_import_rnnzoo_reads_no_config_json():
    # The word models' config.json files hold 10,000-word vocabularies; listing the zoo reads index.json only.
    code = (
        "import json, sys\n"
        "opened = []\n"
        "sys.addaudithook(lambda event, args: opened.append(str(args[0])) if event == 'open' else None)\n"
        "import rnnzoo\n"
        "names = rnnzoo.list_pretrained()\n"
        "print(json.dumps({'configs': [p for p in opened if p.endswith('config.json')], 'names': len(names),"
        " 'torch': 'torch' in sys.modules}))\n"
    )
    report = run_python(code)
    from rnnzoo.weights import INDEX_NAME, WEIGHTS_DIR

    entries = len(json.loads((WEIGHTS_DIR / INDEX_NAME).read_text()))  # every bundled entry, listed from the index
    assert entries >= 16 and report == {"configs": [], "names": entries, "torch": False}


def test_weights_index_agrees_with_the_bundled_folders():
    from rnnzoo.weights import INDEX_NAME, WEIGHTS_DIR, read_config_blocks

    assert json.loads((WEIGHTS_DIR / INDEX_NAME).read_text()) == read_config_blocks()


def test_every_rnnzoo_error_shares_one_base_class():
    # Commands catch RnnzooError and print its message; an error class outside it would end in a traceback.
    import importlib

    from rnnzoo.errors import RnnzooError

    classes = []
    for name, path in MODULES.items():
        for node in ast.parse(path.read_text()).body:
            if isinstance(node, ast.ClassDef) and node.name.endswith("Error"):
                classes.append(getattr(importlib.import_module(name), node.name))
    assert len(classes) >= 12 and [c for c in classes if not issubclass(c, RnnzooError)] == []
