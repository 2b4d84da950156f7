"""docs/ops.md is what docs/gen_ops_table.py generates from the registry."""
import pathlib
import runpy

ROOT = pathlib.Path(__file__).resolve().parents[1]


def test_ops_table_is_current():
    table = runpy.run_path(str(ROOT / "docs" / "gen_ops_table.py"))["table"]()
    assert (ROOT / "docs" / "ops.md").read_text() == table, \
        "docs/ops.md is stale: run `python docs/gen_ops_table.py > docs/ops.md`"
    assert table.count("| `") == 186
