"""Compiling ahead: one daemon thread runs compile jobs (callables) in the
order they were submitted, so a first call can run on the interpreter while
its kernels compile (and fill the disk cache).

At exit the queued jobs are finished: a compile cut off mid-way could leave
native code running while the process tears down, and a finished one fills
the disk cache for the next process. A script's total time stays what it
would be without the thread: the compiles it waits for would have run at
its first calls."""
import atexit
import contextlib
import os
import queue
import threading

_jobs = queue.Queue()
_thread = None
_lock = threading.Lock()
_state = {"waiting": 0, "exiting": False}


def submit(job):
    """Run `job()` on the compile thread; its exceptions are dropped (the
    foreground compile of the same kernel raises them where they belong)."""
    global _thread
    with _lock:
        if _thread is None:
            _thread = threading.Thread(target=_work, name="lazyops-compile", daemon=True)
            _thread.start()
    _jobs.put(job)


def _work():
    while True:
        job = _jobs.get()
        try:
            job()
        except Exception:  # noqa: BLE001  (see submit)
            pass
        finally:
            _jobs.task_done()


@contextlib.contextmanager
def waiting():
    """A stretch of a job that waits without holding the GIL (on the
    compile worker)."""
    _state["waiting"] += 1
    try:
        yield
    finally:
        _state["waiting"] -= 1


def busy():
    """Whether the compile thread runs Python now or is about to (jobs are
    pending, none inside `waiting()`): it then holds the GIL for long
    stretches."""
    return _jobs.unfinished_tasks > 0 and not _state["waiting"]


def exiting():
    """Whether the process is exiting (the queued jobs are being finished)."""
    return _state["exiting"]


def wait():
    """Block until every submitted job has run."""
    _jobs.join()


def on_thread():
    """Whether the caller is the compile thread."""
    return _thread is not None and threading.current_thread() is _thread


def _forked():
    """A forked child has no compile thread: it starts its own, afresh."""
    global _jobs, _lock, _thread
    _jobs, _lock, _thread = queue.Queue(), threading.Lock(), None
    _state.update(waiting=0, exiting=False)


def _finish():
    _state["exiting"] = True
    _jobs.join()  # the queue of this process, forked or not


atexit.register(_finish)
os.register_at_fork(after_in_child=_forked)
