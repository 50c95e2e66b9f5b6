"""One import direction (timm's: pretrained metadata <- registry <- factory -> hub I/O), no cycles among rnnzoo's
modules, and a command line that answers --help, list and compare --help without torch, Lightning or MLflow."""

from __future__ import annotations

import ast
import json
import subprocess
import sys
from pathlib import Path

import pytest

PACKAGE = Path(__file__).parents[1] / "rnnzoo"
HEAVY = ("torch", "lightning", "mlflow", "huggingface_hub", "matplotlib", "pandas", "optuna")


def module_name(path: Path) -> str:
    parts = path.relative_to(PACKAGE.parent).with_suffix("").parts
    return ".".join(parts[:-1] if parts[-1] == "__init__" else parts)


def imports(path: Path, top_level_only: bool) -> set[str]:
    """rnnzoo modules ``path`` imports (``from rnnzoo.a import b`` counts rnnzoo.a.b when that is a module)."""
    tree = ast.parse(path.read_text())
    nodes = tree.body if top_level_only else list(ast.walk(tree))
    found = set()
    for node in nodes:
        if isinstance(node, ast.Import):
            names = [a.name for a in node.names]
        elif isinstance(node, ast.ImportFrom) and node.module and node.level == 0:
            names = [node.module] + [f"{node.module}.{a.name}" for a in node.names]
        else:
            continue
        found |= {n for n in names if n.startswith("rnnzoo") and n in MODULES}
    return found - {module_name(path)}


MODULES = {module_name(p): p for p in PACKAGE.rglob("*.py")}


def test_no_import_cycles_among_rnnzoo_modules():
    graph = {name: imports(path, top_level_only=True) for name, path in MODULES.items()}
    state: dict[str, int] = {}

    def visit(node: str, stack: list[str]) -> None:
        state[node] = 1
        for nxt in sorted(graph[node]):
            if state.get(nxt) == 1:
                cycle = stack[stack.index(nxt):] + [nxt] if nxt in stack else [node, nxt]
                pytest.fail("import cycle: " + " -> ".join(cycle))
            if nxt not in state:
                visit(nxt, stack + [nxt])
        state[node] = 2

    for name in sorted(graph):
        if name not in state:
            visit(name, [name])


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
