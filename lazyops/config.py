"""Engine settings.

- `small_work`: graphs whose kernels cover fewer elements than this run on
  the NumPy interpreter (no compile, no thread start-up); 0 compiles always.
- `hot_seconds`: a small graph that has spent this long on the interpreter
  (summed over its forces) compiles its kernels in the background, with
  `tiered` on, then times a few compiled forces and keeps whichever path was
  faster (env `LAZYOPS_HOT_SECONDS`, default 0.05; 0 never compiles them).
- `serial_work`: compiled kernels over fewer elements (a loop: its elements
  times its steps) run on one thread
  (waking the others costs more than they save; `bench/bench_serial.py`
  measures where: about 16k elements on a quiet 2-core machine, far more on
  a loaded one, where a parallel launch can wait milliseconds for a busy
  core; env `LAZYOPS_SERIAL_WORK`); 0 runs every kernel parallel.
- `debug`: 1 prints kernels and timings at each force, 2 adds the generated
  source, 3 adds the IR after each pass (env `LAZYOPS_DEBUG`).
- `tiered`: the first force of a graph that would run compiled runs on the
  NumPy interpreter while its kernels compile on a background thread; later
  forces run compiled once they are ready (env `LAZYOPS_TIERED`, default 1).
  A plan with a compiled loop of many steps compiles first (see engine).
  `lazyops.wait_for_kernels()` waits for them.
- `device`: "cpu" (the CUDA target is selected here).
- `check_inputs`: checksum each referenced input array when recorded and
  verify it when forced (env `LAZYOPS_CHECK_INPUTS`; on with `LAZYOPS_DEBUG`).
- `pool_bytes`: how much memory of dropped results (of 1 MiB or more) is
  kept to hold later results (`codegen/buffers.py`: writing into fresh
  memory costs the system's page zeroing, as much as a kernel's own work);
  0 keeps none (env `LAZYOPS_POOL_BYTES`, default 512 MiB).
"""
import contextlib
import os

from .codegen import buffers

SETTINGS = {
    "small_work": int(os.environ.get("LAZYOPS_SMALL_WORK", 1 << 15)),
    "serial_work": int(os.environ.get("LAZYOPS_SERIAL_WORK", 1 << 14)),
    "debug": int(os.environ.get("LAZYOPS_DEBUG", 0)),
    "device": os.environ.get("LAZYOPS_DEVICE", "cpu"),
    "tiered": bool(int(os.environ.get("LAZYOPS_TIERED", 1))),
    "hot_seconds": float(os.environ.get("LAZYOPS_HOT_SECONDS", 0.05)),
    "pool_bytes": int(os.environ.get("LAZYOPS_POOL_BYTES", 512 << 20)),
}
SETTINGS["check_inputs"] = bool(int(os.environ.get("LAZYOPS_CHECK_INPUTS", 0))
                                 or SETTINGS["debug"])
VERSION = [0]  # counts changes of SETTINGS: what depends on them checks it


def get(name):
    """The current value of setting `name`."""
    return SETTINGS[name]


_KINDS = {"small_work": "count", "serial_work": "count", "debug": "level",
          "device": "device", "tiered": "flag", "check_inputs": "flag",
          "hot_seconds": "seconds", "pool_bytes": "count"}


def _checked(name, v):
    """`v` as setting `name` takes it; a clear error where it cannot."""
    kind = _KINDS[name]
    if kind == "flag" and isinstance(v, (bool, int)) and v in (0, 1):
        return bool(v)
    if kind in ("count", "level") and isinstance(v, int) and not isinstance(v, bool) \
            and v >= 0 and (kind == "count" or v <= 3):
        return v
    if kind == "device" and v == "cpu":
        return v
    if kind == "seconds" and isinstance(v, (int, float)) and not isinstance(v, bool) \
            and v >= 0 and v == v:
        return float(v)
    want = {"flag": "True or False", "count": "an int >= 0", "level": "an int from 0 to 3",
            "seconds": "a number of seconds >= 0",
            "device": "one of the available devices: 'cpu'"}[kind]
    raise ValueError(f"config.set: {name}={v!r}; expected {want}")


def set(**settings):  # noqa: A001
    """Change settings; all are checked before any changes."""
    for k in settings:
        if k not in SETTINGS:
            raise KeyError(f"config.set: unknown setting {k!r}; known: {sorted(SETTINGS)}")
    checked = {k: _checked(k, v) for k, v in settings.items()}
    _update(checked)


def _update(settings):
    SETTINGS.update(settings)
    buffers.set_limit(SETTINGS["pool_bytes"])
    VERSION[0] += 1


@contextlib.contextmanager
def override(**settings):
    """Temporarily change settings: `with lazyops.config.override(small_work=0): ...`."""
    old = {k: SETTINGS[k] for k in settings if k in SETTINGS}
    set(**settings)
    try:
        yield
    finally:
        _update(old)


buffers.set_limit(SETTINGS["pool_bytes"])
