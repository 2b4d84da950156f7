"""explain(): an Explanation whose text a REPL shows once, a one-line-per-
kernel summary by default, sections on request, the plan that computed a
tensor already forced, and analysis figures per kernel."""
import sys

import numpy as np
import pytest

import lazyops as lo

X = np.linspace(-2, 2, 64, dtype="float32")
M = np.linspace(-1, 1, 64 * 8, dtype="float32").reshape(64, 8)


def _text(*tensors, **kw):
    return str(lo.explain(*tensors, show="all", **kw))


def test_pending_graph_shows_every_level():
    t = lo.sum(lo.exp(lo.convert_to_tensor(X)) * 2)
    text = _text(t)
    for section in ("=== recorded IR ===", "=== after passes ===", "=== kernels ===",
                    "loop plan:", "form full", "generated source:", "def kernel("):
        assert section in text, section
    assert "test_explain.py" in text  # source locations of the user's lines
    assert not t.is_materialized  # explaining computes nothing


def test_explain_returns_an_object_shown_once_and_prints_nothing(capsys):
    t = lo.exp(lo.convert_to_tensor(X)) + 1
    e = lo.explain(t)
    assert isinstance(e, lo.Explanation)
    assert capsys.readouterr().out == ""  # the REPL shows the repr: printed once, not twice
    assert repr(e) == str(e) == e.summary
    lo.explain(t, print_result=True)
    assert capsys.readouterr().out == str(e) + "\n"


def test_summary_is_one_line_per_kernel():
    x = lo.convert_to_tensor(M)
    row = lo.exp(x - lo.max(x, axis=1, keepdims=True))          # one row kernel
    t = lo.matmul(row / lo.sum(row, axis=1, keepdims=True), lo.convert_to_tensor(M.T))
    lines = str(lo.explain(lo.sum(t, axis=0) + 1)).splitlines()
    assert lines[0] == "2 kernels, 1 NumPy step between them"
    assert lines[1].startswith("default path at this size:")
    kernel, matmul, column = lines[2:5]
    assert kernel.split()[:4] == ["k0", "row,", "3", "passes"] and "64x8" in kernel
    assert kernel.endswith("max subtract exp sum divide")
    assert "test_explain.py:" in kernel
    assert matmul.split()[:3] == ["matmul", "library", "64x64"]
    assert column.split()[:3] == ["k2", "column", "64x64"] and column.endswith("sum add")
    assert lines[5].startswith("(explain(")


def test_summary_lists_the_lines_of_each_kernel():
    x = lo.convert_to_tensor(X)
    first = sys._getframe().f_lineno + 1
    a = x * 2
    b = a + 1
    c = lo.exp(b)
    line = str(lo.explain(c)).splitlines()[2]
    assert line.split()[-4:] == [f"test_explain.py:{first}-{first + 2}", "multiply", "add", "exp"]


def test_sections_by_name_list_and_attribute():
    t = lo.sum(lo.exp(lo.convert_to_tensor(X)) * 2)
    e = lo.explain(t)
    assert e.ir.startswith("=== recorded IR ===") and "lazy.exp" in e.ir
    assert e.passes.startswith("=== after passes ===")
    assert e.kernels.startswith("=== kernels ===") and "--- k0: reduction over 64" in e.kernels
    assert e.plan.startswith("=== loop plans ===") and "form full" in e.plan
    assert "def kernel(" not in e.plan
    assert e.source.startswith("=== generated source ===") and "def kernel(" in e.source
    assert str(lo.explain(t, show="kernels")) == e.kernels
    both = str(lo.explain(t, show=["ir", "source"]))
    assert both == e.ir + "\n" + e.source
    assert str(lo.explain(t, show="all")) == e.all
    with pytest.raises(ValueError, match="unknown section 'kernel'"):
        lo.explain(t, show="kernel")


def test_forced_tensor_shows_the_plan_that_computed_it():
    t = lo.sum(lo.exp(lo.convert_to_tensor(X)) * 2)
    before = _text(t)
    with lo.config.override(small_work=0):
        t.numpy()
    after = _text(t)
    assert "already forced: it ran as compiled kernels" in after
    assert after.split("=== kernels ===")[0] == before.split("=== kernels ===")[0]
    assert "generated source:" in after and "def kernel(" in after
    assert "already forced" in str(lo.explain(t))


def test_forced_on_the_interpreter_says_so():
    t = lo.exp(lo.convert_to_tensor(X)) + 1
    t.numpy()
    text = _text(t)
    assert "already forced: it ran on the NumPy interpreter" in text
    assert "lazy.exp" in text


def test_inputs_alone_computed_nothing():
    assert _text(lo.convert_to_tensor(X)) == "all tensors are inputs: nothing was computed"
    assert str(lo.explain(lo.convert_to_tensor(X))) == "all tensors are inputs: nothing was computed"


def test_analyze_reports_each_kernel():
    t = lo.max(lo.convert_to_tensor(X) * 3, axis=0)
    text = _text(t, analyze=True)
    assert "=== analysis (warm run) ===" in text and "GB/s" in text and "k0" in text
    summary = str(lo.explain(t, analyze=True)).splitlines()
    assert "warm run" in summary[0] and "copy bandwidth" in summary[0]
    k0 = summary[2].split()
    assert k0[:3] == ["k0", "reduction", "64"] and k0[4] == "ms" and k0[6] == "MB"
    assert float(k0[3]) > 0 and k0[8] == "GB/s"
    assert k0[9].endswith("%")
    step = lo.explain(t, analyze=True).steps[0]
    assert step.seconds > 0
    assert X.nbytes + 4 <= step.moved <= X.nbytes + 16  # input, result, the scalar 3


def test_analyze_runs_kernels_reading_a_slice():
    # the analysis runs a plan twice: a leading slice of an intermediate is a view, not a reshape
    x = lo.convert_to_tensor(np.arange(640, dtype="float32"))
    t = (lo.sqrt(x) * 2)[:16] + 1
    e = lo.explain(t, analyze=True)
    assert all(s.seconds is not None for s in e.steps)
    with lo.config.override(small_work=0):
        np.testing.assert_allclose(t.numpy(), np.sqrt(np.arange(16.0)) * 2 + 1, rtol=1e-6)
