"""explain(): the sections of a pending graph, and the plan that computed a
tensor already forced."""
import numpy as np

import lazyops as lo

X = np.linspace(-2, 2, 64, dtype="float32")


def _text(*tensors, **kw):
    return lo.explain(*tensors, print_result=False, **kw)


def test_pending_graph_shows_every_level():
    t = lo.sum(lo.exp(lo.convert_to_tensor(X)) * 2)
    text = _text(t)
    for section in ("=== recorded IR ===", "=== after passes ===", "=== kernels ===",
                    "loop plan:", "form full", "generated source:", "def kernel("):
        assert section in text, section
    assert "test_explain.py" in text  # source locations of the user's lines
    assert not t.is_materialized  # explaining computes nothing


def test_forced_tensor_shows_the_plan_that_computed_it():
    t = lo.sum(lo.exp(lo.convert_to_tensor(X)) * 2)
    before = _text(t)
    with lo.config.override(small_work=0):
        t.numpy()
    after = _text(t)
    assert "already forced: it ran as compiled kernels" in after
    assert after.split("=== kernels ===")[0] == before.split("=== kernels ===")[0]
    assert "generated source:" in after and "def kernel(" in after


def test_forced_on_the_interpreter_says_so():
    t = lo.exp(lo.convert_to_tensor(X)) + 1
    t.numpy()
    text = _text(t)
    assert "already forced: it ran on the NumPy interpreter" in text
    assert "lazy.exp" in text


def test_inputs_alone_computed_nothing():
    assert _text(lo.convert_to_tensor(X)) == "all tensors are inputs: nothing was computed"


def test_analyze_reports_each_kernel():
    t = lo.max(lo.convert_to_tensor(X) * 3, axis=0)
    text = _text(t, analyze=True)
    assert "=== analysis (warm run) ===" in text and "GB/s" in text and "k0" in text
