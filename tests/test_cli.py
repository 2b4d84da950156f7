"""`python -m lazyops`: --help, demo, info and cache clear, run as a user runs
them; source locations under `python -m`; the suite's own cache folder."""
import os
import pathlib
import subprocess
import sys
import textwrap

import numpy as np

import lazyops as lo
from lazyops.codegen import cache

ROOT = pathlib.Path(__file__).resolve().parents[1]


def _run(*args, cache_dir=None, cwd=None, env=None):
    env = dict(os.environ, **(env or {}))
    if cache_dir is not None:
        env["LAZYOPS_CACHE_DIR"] = str(cache_dir)
    done = subprocess.run([sys.executable, *args], capture_output=True, text=True, env=env,
                          cwd=cwd or ROOT, timeout=300)
    assert done.returncode == 0, done.stderr
    return done.stdout


def test_help_lists_the_commands():
    out = _run("-m", "lazyops", "--help")
    assert "usage: python -m lazyops" in out
    for command in ("demo", "info", "cache"):
        assert f"    {command} " in out, command


def test_info_reports_versions_threads_cache_and_devices(tmp_path):
    import numba
    out = _run("-m", "lazyops", "info", cache_dir=tmp_path)
    lines = out.splitlines()
    assert lines[0].startswith(f"lazyops {lo.__version__}, numba {numba.__version__}, llvmlite ")
    assert f"numpy {np.__version__}" in lines[0]
    assert lines[1].startswith("threads: ") and "threading layer" in lines[1]
    assert lines[2].startswith(f"kernel cache: {tmp_path}: 0.0 MB, 0 kernel(s)")
    assert lines[3].startswith("devices: cpu")


def test_cache_clear_removes_the_versioned_folders_only(tmp_path):
    kept = tmp_path / "notes.txt"
    kept.write_text("not lazyops's")
    version = os.path.basename(_cache_dir_under(tmp_path))
    folder = tmp_path / version
    (folder / "__pycache__").mkdir(parents=True)
    (folder / "lazyops_kernel_abc.py").write_bytes(b"x" * 1_500_000)
    (folder / "__pycache__" / "lazyops_kernel_abc.nbi").write_bytes(b"y" * 500_000)
    info = _run("-m", "lazyops", "info", cache_dir=tmp_path)
    assert f"kernel cache: {tmp_path}: 2.0 MB, 1 kernel(s)" in info
    out = _run("-m", "lazyops", "cache", "clear", cache_dir=tmp_path)
    assert out.strip() == (f"kernel cache {tmp_path}: removed 1 folder(s), 1 kernel(s), "
                           "freed 2.0 MB")
    assert not folder.exists() and kept.read_text() == "not lazyops's"
    again = _run("-m", "lazyops", "cache", "clear", cache_dir=tmp_path)
    assert "removed 0 folder(s), 0 kernel(s), freed 0.0 MB" in again


def _cache_dir_under(root):
    old = os.environ.get("LAZYOPS_CACHE_DIR")
    os.environ["LAZYOPS_CACHE_DIR"] = str(root)
    try:
        return cache.cache_dir()
    finally:
        os.environ["LAZYOPS_CACHE_DIR"] = old


def test_demo_shows_its_own_lines():
    out = _run("-m", "lazyops", "demo", "--size", "20000", "--repeats", "1")
    summary = out.splitlines()[2:6]
    assert summary[0] == "1 kernel"
    assert "elementwise  20000  __main__.py:" in summary[2], summary
    assert "<frozen" not in out
    assert "kernels compiled: " in out and "loaded from disk cache: " in out


def test_locations_of_a_module_run_with_python_m(tmp_path):
    (tmp_path / "pipeline.py").write_text(textwrap.dedent("""\
        import numpy as np
        import lazyops as lo
        x = lo.convert_to_tensor(np.ones(8, np.float32))
        print(lo.explain(lo.exp(x) + 1))
        """))
    out = _run("-m", "pipeline", cwd=tmp_path)
    assert "pipeline.py:4" in out and "<frozen" not in out


def test_frozen_frames_are_not_user_code():
    # `python -m` runs a module from frozen runpy code: the location is the
    # user's line that ran it, not "<frozen runpy>"
    x = lo.convert_to_tensor(np.ones(4, np.float32))
    scope = {"x": x}
    line = sys._getframe().f_lineno + 1
    exec(compile("t = x + 1", "<frozen runpy>", "exec"), scope)
    loc = scope["t"]._value.owner.loc
    assert (loc.file, loc.line) == ("test_cli.py", line)


def test_equal_code_in_two_files_has_two_locations():
    # code objects compare by content, not file: each keeps its own file
    x = lo.convert_to_tensor(np.ones(4, np.float32))
    for name in ("first.py", "second.py", "first.py"):
        scope = {"x": x}
        exec(compile("t = x + 1\nu = lo.exp(x)", name, "exec"), {**scope, "lo": lo}, scope)
        for v in ("t", "u"):
            loc = scope[v]._value.owner.loc
            assert (loc.file, loc.line) == (name, 1 if v == "t" else 2)


def test_the_suite_uses_its_own_cache_folder():
    assert cache.cache_dir().startswith(str(ROOT / "tests" / ".kernel-cache") + os.sep)
