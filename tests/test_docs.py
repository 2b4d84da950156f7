"""docs/ops.md is what docs/gen_ops_table.py generates from the registry."""
import pathlib
import runpy

ROOT = pathlib.Path(__file__).resolve().parents[1]


def test_ops_table_is_current():
    table = runpy.run_path(str(ROOT / "docs" / "gen_ops_table.py"))["table"]()
    assert (ROOT / "docs" / "ops.md").read_text() == table, \
        "docs/ops.md is stale: run `python docs/gen_ops_table.py > docs/ops.md`"
    assert table.count("| `") == 186


def _gen_api():
    return runpy.run_path(str(ROOT / "docs" / "gen_api.py"))


def test_api_reference_is_current():
    doc = _gen_api()["document"]()
    assert (ROOT / "docs" / "api.md").read_text() == doc, \
        "docs/api.md is stale: run `python docs/gen_api.py > docs/api.md`"
    assert doc.count("| `lazyops.") >= 186 + 6
    assert "## Differences from keras.ops" in doc


def test_every_public_function_has_a_docstring():
    import inspect

    import lazyops as lo
    functions = _gen_api()["public_functions"]()
    assert len(functions) >= 186 + 6
    public = [n for n in dir(lo) if not n.startswith("_")
              and (inspect.isfunction(getattr(lo, n)) or inspect.isclass(getattr(lo, n)))]
    listed = {n for n, _ in functions}
    missing = [n for n in public if n not in listed and n not in ("Explanation", "Graph", "Tensor")]
    assert not missing, f"public functions missing from docs/api.md: {missing}"
    undocumented = [n for n, f in functions if not (inspect.getdoc(f) or "").strip()]
    assert not undocumented, f"public functions without a docstring: {undocumented}"
    for cls in (lo.Tensor, lo.Explanation, lo.Graph):
        assert inspect.getdoc(cls)
