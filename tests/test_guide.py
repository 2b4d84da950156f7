"""docs/guide.md runs: its ```python blocks, in order, in one namespace (as a
doctest would), and every `lo.explain(...)` whose comment states a kernel
count ("# 2 kernels, 1 NumPy step") has that count. Its settings table
states the defaults a fresh process has."""
import os
import pathlib
import re
import subprocess
import sys

import pytest

ROOT = pathlib.Path(__file__).resolve().parents[1]
GUIDE = ROOT / "docs" / "guide.md"
BLOCK = re.compile(r"^( *)```python\n(.*?)^\1```", re.S | re.M)
COUNT = re.compile(r"lo\.explain\((.*?)\)\)?\s*#\s*(\d+) kernels?(?:, (\d+) NumPy steps?)?")


def _blocks():
    """(line, code) of each python block, in order, dedented."""
    text = GUIDE.read_text()
    out = []
    for m in BLOCK.finditer(text):
        indent = len(m.group(1))
        code = "".join(line[indent:] for line in m.group(2).splitlines(True))
        out.append((text[:m.start()].count("\n") + 1, code))
    return out


def _counts(step_list):
    kernels = sum(1 for s in step_list if s.ops)
    return kernels, len(step_list) - kernels


def test_guide_examples_run(tmp_path, monkeypatch, capsys):
    import lazyops as lo
    monkeypatch.chdir(tmp_path)  # files the examples write land here
    blocks = _blocks()
    assert len(blocks) > 20
    ns = {"__name__": "guide"}
    checked = 0
    for line, code in blocks:
        exec(compile(code, f"docs/guide.md:{line}", "exec"), ns)
        for m in COUNT.finditer(code):
            args, kernels, steps = m.group(1), int(m.group(2)), int(m.group(3) or 0)
            got = _counts(eval(f"lo.explain({args}).steps", ns))
            assert got == (kernels, steps), \
                f"docs/guide.md:{line}: lo.explain({args}) has {got} (kernels, NumPy steps)"
            checked += 1
    assert checked >= 10
    out = capsys.readouterr().out
    assert "not computed yet" in out and "read at the call" in out
    assert (tmp_path / "dense.dot").read_text().startswith("digraph")
    assert not lo.config.get("check_inputs")  # the guide's overrides are undone


def test_guide_settings_table_states_the_defaults():
    rows = re.findall(r"^\| `(\w+)` \| `(LAZYOPS_\w+)` \| ([^|]+) \|", GUIDE.read_text(), re.M)
    assert len(rows) == 8
    env = {k: v for k, v in os.environ.items() if not k.startswith("LAZYOPS_")}
    out = subprocess.run([sys.executable, "-c", "import lazyops.config as c; print(c.SETTINGS)"],
                         env=env, capture_output=True, text=True, check=True).stdout
    settings = eval(out)  # noqa: S307  (our own repr of a dict of plain values)
    assert set(settings) == {name for name, _, _ in rows}
    for name, var, default in rows:
        assert var == "LAZYOPS_" + name.upper()
        assert str(settings[name]) == {"1": "True", "0": "False"}.get(default.strip(), default.strip()) \
            if isinstance(settings[name], bool) else str(settings[name]) == default.strip(), name
    assert "LAZYOPS_CACHE_DIR" in GUIDE.read_text()


@pytest.mark.parametrize("name", ["api.md", "ops.md", "architecture.md"])
def test_guide_links_exist(name):
    assert f"]({name}" in GUIDE.read_text() and (ROOT / "docs" / name).exists()
