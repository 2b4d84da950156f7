"""A compile worker: a child process that compiles kernels into the disk
cache for the compile-ahead thread (`background`).

Numba holds the GIL for most of a compile (type inference, lowering), so a
compile on a thread of the user's process stalls the user's own calls: the
calls a loop made while GELU's kernel compiled took up to 9x NumPy's time.
In a child process the compile holds no lock of the user's; the thread then
loads the finished kernel from the disk cache, which takes milliseconds.

The worker only fills the cache. Whatever it does (it cannot start, it
fails, it dies, it stalls past `TIMEOUT`), the kernel is then built in this
process from its own source: loaded from the disk cache where the worker
saved it there, compiled here otherwise. A worker idle for `IDLE` seconds
exits; the next compile starts another. `LAZYOPS_COMPILE_WORKER=0` keeps
compiles on the thread.

Messages are pickles with a length prefix over the child's stdin and stdout
(the child points its own stdout elsewhere, so nothing it prints mixes in).
"""
import os
import pickle
import select
import struct
import subprocess
import sys
import threading
import time

ENABLED = os.environ.get("LAZYOPS_COMPILE_WORKER", "1") != "0" and os.name == "posix"
IDLE = 60.0  # seconds a worker waits for work before it exits
TIMEOUT = 300.0  # seconds a compile may take before the worker is stopped
_HEADER = struct.Struct("<Q")
_lock = threading.Lock()
_proc = [None]  # the running worker, or None


def compile_into(folder, source, described):
    """Have the worker compile kernel `source` for the arguments `described`
    (see `cache.describe`) into the cache folder `folder`: (whether it
    compiled, as opposed to finding it there, seconds it took), or None
    where it did neither (off, failed, gone)."""
    if not ENABLED:
        return None
    with _lock:
        proc = _running()
        if proc is None:
            return None
        try:
            _send(proc.stdin, (folder, source, described))
            reply = _receive(proc.stdout, TIMEOUT)
        except (OSError, EOFError, pickle.PickleError, ValueError, TypeError):
            reply = None
        if reply is None:  # dead, stalled or garbled: a new one next time
            _stop(proc)
            return None
    ok, compiled, seconds = reply
    return (compiled, seconds) if ok else None


def _running():
    """The live worker, started if there is none; None where it cannot start."""
    global ENABLED
    proc = _proc[0]
    if proc is not None and proc.poll() is None:
        return proc
    if proc is not None:
        _stop(proc)
    # the child finds this package where this process found it
    code = (f"import sys; sys.path[:0] = {[p for p in sys.path if p]!r}; "
            f"from lazyops.codegen import cache, worker; worker.serve(cache.fill, {IDLE!r})")
    try:
        proc = subprocess.Popen([sys.executable, "-c", code], stdin=subprocess.PIPE,
                                stdout=subprocess.PIPE, stderr=subprocess.DEVNULL,
                                start_new_session=True)  # a terminal's Ctrl-C is the user's
    except OSError:
        ENABLED = False  # no way to start one here: stop trying
        return None
    _proc[0] = proc
    return proc


def _stop(proc):
    _proc[0] = None
    for f in (proc.stdin, proc.stdout):
        try:
            f.close()
        except OSError:
            pass
    if proc.poll() is None:
        proc.kill()
    proc.wait()


def stop():
    """Stop the worker (it exits by itself when idle or when this process ends)."""
    with _lock:
        if _proc[0] is not None:
            _stop(_proc[0])


def _send(f, obj):
    data = pickle.dumps(obj, protocol=pickle.HIGHEST_PROTOCOL)
    f.write(_HEADER.pack(len(data)) + data)
    f.flush()


def _receive(f, timeout):
    """The next message on pipe `f`, or None at its end or after `timeout`
    seconds without one."""
    end = time.monotonic() + timeout
    fd = f.fileno()
    data = b""
    need = _HEADER.size
    size = None
    while True:
        while len(data) < need:
            left = end - time.monotonic()
            if left <= 0 or not select.select([fd], [], [], left)[0]:
                return None
            chunk = os.read(fd, need - len(data))
            if not chunk:
                return None
            data += chunk
        if size is not None:
            return pickle.loads(data[_HEADER.size:])
        size = _HEADER.unpack(data)[0]
        need += size


def serve(fill, idle=IDLE):
    """The worker's loop: compile each request into its cache folder with
    `fill` (`cache.fill`), reply (ok, compiled, seconds); exit at the end of
    input or after `idle` seconds without one."""
    out = os.fdopen(os.dup(1), "wb")  # the replies' pipe; fd 1 goes elsewhere
    devnull = os.open(os.devnull, os.O_WRONLY)
    os.dup2(devnull, 1)
    stdin = sys.stdin.buffer
    while True:
        request = _receive(stdin, idle)
        if request is None:
            return
        t0 = time.perf_counter()
        try:
            compiled = fill(*request)
            reply = (True, compiled, time.perf_counter() - t0)
        except Exception:  # noqa: BLE001  (the parent compiles it, and raises there)
            reply = (False, False, time.perf_counter() - t0)
        _send(out, reply)


def _forked():
    """A forked child has no worker of its own: it starts one when it needs it."""
    global _lock
    _lock = threading.Lock()
    _proc[0] = None


os.register_at_fork(after_in_child=_forked)
