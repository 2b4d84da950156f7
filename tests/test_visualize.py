"""The kernel graph as a picture: DOT text built by hand, rendered by
Graphviz where it is installed, shown inline in Jupyter."""
import re
import shutil
import sys

import numpy as np
import pytest

import lazyops as lo
from lazyops import graph as graph_module

A = np.linspace(-1, 1, 32 * 8, dtype="float32").reshape(32, 8)
B = np.linspace(0, 1, 8 * 4, dtype="float32").reshape(8, 4)
HAS_DOT = shutil.which("dot") is not None


def _two_kernels():
    """exp(a) * 2 (kernel k0), matmul (a NumPy step), sum over rows + 1 (kernel k2)."""
    a, b = lo.convert_to_tensor(A), lo.convert_to_tensor(B)
    return lo.sum(lo.matmul(lo.exp(a) * 2, b), axis=1) + 1


def _parse(dot):
    """(node id -> label, set of edges) of DOT text as `kernel_graph` writes it."""
    nodes = dict(re.findall(r'^\s*(\w+) \[label="((?:[^"\\]|\\.)*)"', dot, re.M))
    edges = set(re.findall(r"^\s*(\w+) -> (\w+);", dot, re.M))
    return nodes, edges


def test_dot_has_inputs_kernels_intermediates_and_outputs():
    dot = lo.explain(_two_kernels()).graph().dot
    assert dot.startswith("digraph lazyops {") and dot.endswith("}")
    nodes, edges = _parse(dot)
    by_head = {label.split("\\n")[0]: node for node, label in nodes.items()}
    by_head["output 0"] = by_head.pop(next(h for h in by_head if h.startswith("output 0: %")))
    assert set(by_head) == {"%arg0", "%arg1", "k0: elementwise", "%0", "matmul: library",
                            "%5", "k2: row", "output 0"}, by_head
    assert "32x8 float32" in nodes[by_head["%arg0"]]
    assert "exp multiply" in nodes[by_head["k0: elementwise"]]
    assert "test_visualize.py:" in nodes[by_head["k0: elementwise"]]
    assert "sum add" in nodes[by_head["k2: row"]]
    path = ["%arg0", "k0: elementwise", "%0", "matmul: library", "%5", "k2: row", "output 0"]
    expected = {(by_head[a], by_head[b]) for a, b in zip(path, path[1:])}
    expected.add((by_head["%arg1"], by_head["matmul: library"]))
    assert edges == expected


def test_names_in_the_graph_match_the_kernels_section():
    e = lo.explain(_two_kernels())
    assert "%5 = lazy.matmul %0, %arg1" in e.kernels
    assert '"%5\\n32x4 float32"' in e.graph().dot


def test_several_plans_are_clusters():
    t, u = lo.convert_to_tensor(A) * 2, lo.exp(lo.convert_to_tensor(B))
    t.numpy()
    u.numpy()
    dot = lo.explain(t, u).graph().dot
    assert "subgraph cluster_0" in dot and "subgraph cluster_1" in dot
    nodes, _ = _parse(dot)
    assert all(n.startswith(("p0_", "p1_")) for n in nodes)


def test_labels_are_quoted_for_dot():
    assert graph_module._q('a "b"\\c\nd') == '"a \\"b\\"\\\\c\\nd"'


def test_visualize_writes_dot_without_graphviz(tmp_path, monkeypatch):
    monkeypatch.setitem(sys.modules, "graphviz", None)  # `import graphviz` fails
    g = lo.visualize(_two_kernels(), filename=tmp_path / "g.dot")
    assert (tmp_path / "g.dot").read_text() == g.dot == str(g)
    with pytest.raises(graph_module.GraphvizMissing, match="pip install 'lazyops\\[viz\\]'"):
        lo.visualize(_two_kernels(), filename=tmp_path / "g.png")
    assert not (tmp_path / "g.png").exists()
    bundle = g._repr_mimebundle_()
    assert list(bundle) == ["text/plain"] and bundle["text/plain"].startswith(g.dot)


def test_missing_dot_program_says_what_to_install(monkeypatch):
    graphviz = pytest.importorskip("graphviz")

    def missing(*args, **kwargs):
        raise graphviz.ExecutableNotFound(("dot",))
    monkeypatch.setattr(graphviz.Source, "pipe", missing)
    with pytest.raises(graph_module.GraphvizMissing, match="install Graphviz"):
        lo.explain(_two_kernels()).graph().render("png")


@pytest.mark.skipif(not HAS_DOT, reason="Graphviz's dot program is not installed")
def test_renders_a_real_png_and_svg(tmp_path):
    pytest.importorskip("graphviz", reason="install the viz extra: pip install graphviz")
    g = lo.visualize(_two_kernels(), filename=tmp_path / "g.png")
    assert (tmp_path / "g.png").read_bytes()[:8] == b"\x89PNG\r\n\x1a\n"
    path = g.save(tmp_path / "picture", format="svg")
    assert path.endswith("picture.svg")
    svg = (tmp_path / "picture.svg").read_text()
    assert "<svg" in svg and "k0: elementwise" in svg and svg.rstrip().endswith("</svg>")
    bundle = g._repr_mimebundle_()
    assert bundle["image/svg+xml"].lstrip().startswith(("<?xml", "<svg", "<!--"))
