"""The apps stand in layers and import only downwards: a ground floor (portal's shared pieces, the audit log's
writing, the task outbox) under institutions, under reporting, under indicators, under evaluation, with the
project's wiring and the audit browser on top. What reporting does reaches indicators as an event
(reporting/events.py), never as a call; an import inside a function says on its line, or the one above,
which cycle or which start-up order it waits for."""

import ast
from pathlib import Path

ROOT = Path(__file__).resolve().parents[2]
APPS = ("audit", "evaluation", "indicators", "institutions", "outbox", "portal", "reporting")

# Top: wiring that may import every app (URLs, the home page, settings, processes, the demo loader) and the
# audit browser, which labels and scopes what every app wrote.
TOP = (
    "portal.urls",
    "portal.api_urls",
    "portal.views",
    "portal.middleware",
    "portal.settings",
    "portal.processes",
    "portal.management",
    "portal.wsgi",
    "portal.asgi",
    "audit.views",
    "audit.urls",
    "audit.selectors",
    "audit.labels",
    "audit.admin",
    "audit.templatetags",
    "audit.management",
    "audit.tasks",
    "audit.chain",
)
GROUND = ("portal", "audit", "outbox")
LAYERS = {"ground": 0, "institutions": 1, "reporting": 2, "indicators": 3, "evaluation": 4, "top": 5}


def _is_module(name: str) -> bool:
    path = ROOT.joinpath(*name.split("."))
    return path.with_suffix(".py").exists() or (path / "__init__.py").exists()


def _layer(name: str) -> str:
    if any(name == top or name.startswith(top + ".") for top in TOP):
        return "top"
    app = name.split(".")[0]
    return "ground" if app in GROUND else app


def _modules():
    for app in APPS:
        for path in sorted((ROOT / app).rglob("*.py")):
            if "migrations" not in path.parts:
                yield path, ".".join(path.relative_to(ROOT).with_suffix("").parts).removesuffix(".__init__")


def _imports(path: Path, module: str):
    """(line, imported module, inside a function?) for each import of a product module."""
    package = module if path.name == "__init__.py" else module.rpartition(".")[0]
    tree = ast.parse(path.read_text(encoding="utf-8"))
    inside = {
        id(node)
        for fn in ast.walk(tree)
        if isinstance(fn, ast.FunctionDef | ast.AsyncFunctionDef)
        for node in ast.walk(fn)
        if node is not fn
    }
    for node in ast.walk(tree):
        if isinstance(node, ast.Import):
            names = [alias.name for alias in node.names]
        elif isinstance(node, ast.ImportFrom):
            base = node.module or ""
            if node.level:
                parts = package.split(".")[: len(package.split(".")) - node.level + 1]
                base = ".".join([*parts, *([node.module] if node.module else [])])
            names = [f"{base}.{a.name}" if _is_module(f"{base}.{a.name}") else base for a in node.names]
        else:
            continue
        for name in names:
            if name.split(".")[0] in APPS:
                yield node.lineno, name, id(node) in inside
        if id(node) in inside and not any(name.split(".")[0] in APPS for name in names):
            yield node.lineno, "", True  # a library imported late: it needs its reason too


def test_every_import_goes_down_a_layer_or_stays_in_its_own():
    upward = []
    for path, module in _modules():
        here = LAYERS[_layer(module)]
        for line, name, _inside in _imports(path, module):
            if name and LAYERS[_layer(name)] > here:
                upward.append(f"{path.relative_to(ROOT)}:{line} {module} → {name}")
    assert upward == []


def test_reporting_knows_nothing_of_its_followers():
    for path, module in _modules():
        if module.startswith("reporting"):
            followers = [
                n for _l, n, _i in _imports(path, module) if n.startswith(("indicators", "evaluation"))
            ]
            assert followers == [], module


def _explained(lines: list[str], line: int) -> bool:
    """A comment on the import's line, or above the run of imports it belongs to."""
    if "#" in lines[line - 1]:
        return True
    for above in reversed(lines[: line - 1]):
        text = above.strip()
        if text.startswith("#"):
            return True
        if text and not text.startswith(("from ", "import ", ")")) and not text.endswith((",", "(")):
            return False
    return False


def test_an_import_inside_a_function_says_why():
    silent = []
    for path, module in _modules():
        lines = path.read_text(encoding="utf-8").splitlines()
        for line, _name, inside in _imports(path, module):
            if inside and not _explained(lines, line):
                silent.append(f"{path.relative_to(ROOT)}:{line}")
    assert sorted(set(silent)) == []


def test_no_test_module_imports_another():
    """Set-up shared between test modules lives in tests/factories.py and tests/worlds.py (fixtures in
    tests/conftest.py); a test module is never imported by another."""
    offenders = []
    for path in sorted((ROOT / "tests").rglob("test_*.py")):
        for node in ast.walk(ast.parse(path.read_text(encoding="utf-8"))):
            names = []
            if isinstance(node, ast.ImportFrom):
                names = [node.module or ""] + [f"{node.module}.{a.name}" for a in node.names]
            elif isinstance(node, ast.Import):
                names = [a.name for a in node.names]
            if any(name.rpartition(".")[2].startswith("test_") for name in names):
                offenders.append(f"{path.relative_to(ROOT)}:{node.lineno}")
    assert offenders == []
