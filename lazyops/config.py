"""Engine settings.

- `small_work`: graphs whose kernels cover fewer elements than this run on
  the NumPy interpreter (no compile, no thread start-up); 0 compiles always.
- `serial_work`: compiled kernels over fewer elements run on one thread
  (waking the others costs more than they save; `bench/bench_serial.py`
  measures where: about 16k elements on a quiet 2-core machine, far more on
  a loaded one, where a parallel launch can wait milliseconds for a busy
  core; env `LAZYOPS_SERIAL_WORK`); 0 runs every kernel parallel.
- `debug`: 1 prints kernels and timings at each force, 2 adds the generated
  source, 3 adds the IR after each pass (env `LAZYOPS_DEBUG`).
- `tiered`: the first force of a graph that would run compiled runs on the
  NumPy interpreter while its kernels compile on a background thread; later
  forces run compiled once they are ready (env `LAZYOPS_TIERED`, default 1).
  `lazyops.wait_for_kernels()` waits for them.
- `device`: "cpu" (the CUDA target is selected here).
- `check_inputs`: checksum each referenced input array when recorded and
  verify it when forced (env `LAZYOPS_CHECK_INPUTS`; on with `LAZYOPS_DEBUG`).
"""
import contextlib
import os

SETTINGS = {
    "small_work": int(os.environ.get("LAZYOPS_SMALL_WORK", 1 << 15)),
    "serial_work": int(os.environ.get("LAZYOPS_SERIAL_WORK", 1 << 14)),
    "debug": int(os.environ.get("LAZYOPS_DEBUG", 0)),
    "device": os.environ.get("LAZYOPS_DEVICE", "cpu"),
    "tiered": bool(int(os.environ.get("LAZYOPS_TIERED", 1))),
}
SETTINGS["check_inputs"] = bool(int(os.environ.get("LAZYOPS_CHECK_INPUTS", 0))
                                 or SETTINGS["debug"])


def get(name):
    return SETTINGS[name]


def set(**settings):  # noqa: A001
    for k, v in settings.items():
        if k not in SETTINGS:
            raise KeyError(f"config.set: unknown setting {k!r}; known: {sorted(SETTINGS)}")
        if k == "device" and v != "cpu":
            raise ValueError(f"config.set: device {v!r} is not available; devices: 'cpu'")
        SETTINGS[k] = v


@contextlib.contextmanager
def override(**settings):
    """Temporarily change settings: `with lazyops.config.override(small_work=0): ...`."""
    old = {k: SETTINGS[k] for k in settings if k in SETTINGS}
    set(**settings)
    try:
        yield
    finally:
        SETTINGS.update(old)
