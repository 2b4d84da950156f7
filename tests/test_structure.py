"""Layering (shared/DESIGN.md) and no import circles, from every module's
imports parsed with `ast` (the four folders install as one package, so
static tools cannot follow them)."""
import ast
import os

ROOT = os.path.dirname(os.path.dirname(os.path.abspath(__file__)))
FOLDERS = {"ir": "lazyops.ir", "scheduler": "lazyops.scheduler", "codegen": "lazyops.codegen",
           "lazyops": "lazyops"}
# what each layer may import (besides itself)
ALLOWED = {"lazyops.ir": set(), "lazyops.scheduler": {"lazyops.ir"},
           "lazyops.codegen": {"lazyops.ir", "lazyops.scheduler"},
           "lazyops": {"lazyops.ir", "lazyops.scheduler", "lazyops.codegen"}}


def modules():
    out = {}
    for folder, pkg in FOLDERS.items():
        for name in os.listdir(os.path.join(ROOT, folder)):
            if name.endswith(".py"):
                mod = pkg if name == "__init__.py" else f"{pkg}.{name[:-3]}"
                out[mod] = os.path.join(ROOT, folder, name)
    return out


def layer(mod):
    parts = mod.split(".")
    return ".".join(parts[:2]) if len(parts) > 1 and parts[1] in FOLDERS else "lazyops"


def imports(mod, path, known):
    """Project modules `mod` imports, at any depth of its code."""
    pkg = mod if path.endswith("__init__.py") else mod.rsplit(".", 1)[0]
    found = set()
    for node in ast.walk(ast.parse(open(path).read())):
        if isinstance(node, ast.ImportFrom):
            base = node.module or ""
            if node.level:
                up = pkg.split(".")[:len(pkg.split(".")) - node.level + 1]
                base = ".".join(up + ([base] if base else []))
            for alias in node.names:
                full = f"{base}.{alias.name}"
                found.add(full if full in known else base)
        elif isinstance(node, ast.Import):
            found.update(a.name for a in node.names)
    return {m for m in found if m in known}


def graph():
    known = modules()
    return {m: imports(m, p, known) for m, p in known.items()}


def test_layers_import_only_downwards():
    bad = [f"{m} imports {d}" for m, deps in graph().items() for d in deps
           if layer(d) != layer(m) and layer(d) not in ALLOWED[layer(m)]]
    assert not bad, bad


def test_no_import_circles():
    g = graph()
    state = {}

    def visit(m, path):  # the graph is small: recursion is fine here
        state[m] = "open"
        for d in g[m]:
            if d == m or d == m.rsplit(".", 1)[0]:
                continue  # a package's own __init__
            if state.get(d) == "open":
                raise AssertionError("import circle: " + " -> ".join(path + [d]))
            if d not in state:
                visit(d, path + [d])
        state[m] = "done"

    for m in sorted(g):
        if m not in state:
            visit(m, [m])
