"""The kernel cache: in memory and on disk.

Kernels are keyed by a hash of their generated source, which depends on the
kernel's structure, dtypes, loop form and rank, never on concrete sizes.
Sources are written to a cache folder named after the lazyops, Numba and
NumPy versions and run as modules, so Numba's own `cache=True` keeps
the compiled machine code: a second process loads kernels in milliseconds.

The disk cache never breaks a run. A source file whose content is not the
kernel's source is rewritten (the kernel itself is always built from the
source in memory), a Numba index or data file that cannot be loaded is
dropped and the kernel recompiled. A cache folder that cannot be created or
written, or that other users could write to (the cache holds code that gets
executed), is not used: kernels are compiled in memory, after one warning.
"""
import collections
import functools
import hashlib
import linecache
import os
import stat
import sys
import tempfile
import time
import types
import warnings

import numpy as np

from . import background, vectors, worker

# Numba's own pedantic SSA check misfires on kernels calling one inlined math
# function at two sites (two exps), reported from its own module or at the
# kernel's line; the code it compiles is right. (Matched by module, or the
# kernel's file, and text: importing Numba's warning class would import
# Numba.)
warnings.filterwarnings("ignore", message=r"(?s).*is not in scope",
                        module=r"numba\.core\.ssa|.*lazyops.kernel")

VERSION = "0.1.0"  # pyproject.toml's version (a test checks they agree)

# compile_time: seconds compiling; load_time: seconds loading compiled kernels
# from the disk cache; run_time: seconds in launches that built nothing
STATS = {"kernels": 0, "compiles": 0, "disk_loads": 0, "hits": 0, "launches": 0,
         "compile_time": 0.0, "load_time": 0.0, "run_time": 0.0}

_kernels = {}


class CacheWarning(RuntimeWarning):
    """The on-disk kernel cache is not used, or could not be written."""


# The modules generated kernels call into (`from lazyops.codegen.scalar import *`
# and what scalar imports); tests/test_cache.py checks the list is whole.
LIBRARY = ("scalar.py", "mathlib.py", "mathlib_wide.py")


@functools.lru_cache(maxsize=None)
def _library_hash():
    """Hash of the code that generated kernels call into. Numba's cache checks
    only a kernel's own file, so a change here must change the folder."""
    h = hashlib.sha256()
    here = os.path.dirname(os.path.abspath(__file__))
    for name in LIBRARY:
        with open(os.path.join(here, name), "rb") as f:
            h.update(f.read())
    return h.hexdigest()[:12]


def cache_dir():
    """The versioned cache folder: `$LAZYOPS_CACHE_DIR` (or ~/.cache/lazyops)
    / lazyops, library, Numba, NumPy and Python versions. It is used only if
    `_usable_dir()` accepts it."""
    import numba  # here, not at import: `import lazyops` stays fast until a kernel compiles
    root = os.environ.get("LAZYOPS_CACHE_DIR") or os.path.join(
        os.path.expanduser("~"), ".cache", "lazyops")
    tag = (f"v{VERSION}-{_library_hash()}-numba{numba.__version__}-numpy{np.__version__}"
           f"-py{sys.version_info[0]}{sys.version_info[1]}{vectors.cache_tag()}")
    return os.path.join(root, tag)


_folders = {}  # versioned folder -> itself if the disk cache uses it, else None
_warned = set()


def _warn_once(key, message):
    if key not in _warned:
        _warned.add(key)
        warnings.warn(message, CacheWarning, stacklevel=3)


class _Refused(Exception):
    """A cache folder that must not be used."""


def _usable_dir():
    """The cache folder, or None where it cannot be used (after one warning).
    Created and checked once per process per folder."""
    path = cache_dir()
    try:
        return _folders[path]
    except KeyError:
        pass
    try:
        _private_folder(os.path.dirname(path), parents=True)
        _private_folder(path)
        if not os.access(path, os.W_OK | os.X_OK):
            raise _Refused("it is not writable")
    except (_Refused, OSError) as e:
        _give_up(path, e)
        return None
    _folders[path] = path
    return path


def _private_folder(folder, parents=False):
    """Create `folder` private to the user (mode 0700) unless it exists, and
    refuse it if it is not a folder or another user could write to it."""
    try:
        os.mkdir(folder, 0o700)
    except FileExistsError:  # already there, or created by a concurrent process
        pass
    except FileNotFoundError:
        if not parents:
            raise
        os.makedirs(os.path.dirname(folder), exist_ok=True)
        return _private_folder(folder)
    else:
        os.chmod(folder, 0o700)  # mkdir's mode is masked by the umask
    st = os.stat(folder)
    if not stat.S_ISDIR(st.st_mode):
        raise _Refused(f"{folder} is not a folder")
    if hasattr(os, "getuid"):
        if st.st_uid != os.getuid():
            raise _Refused(f"{folder} is owned by another user (uid {st.st_uid}), "
                           "and the cache holds code that gets executed")
        if st.st_mode & (stat.S_IWGRP | stat.S_IWOTH):
            raise _Refused(f"{folder} is writable by other users (mode "
                           f"{oct(stat.S_IMODE(st.st_mode))}), and the cache holds code that gets "
                           f"executed; make it private with `chmod go-w {folder}`")


def _give_up(path, reason):
    """Stop using the cache folder `path` in this process, warning once."""
    _folders[path] = None
    if isinstance(reason, OSError) and reason.strerror:
        where = f": {reason.filename}" if reason.filename else ""
        reason = f"{reason.strerror}{where}"
    _warn_once(("folder", path),
               f"lazyops: not using the kernel cache folder {path}: {reason}. Kernels are "
               "compiled in memory and not kept for later runs (set LAZYOPS_CACHE_DIR to "
               "choose another folder).")


# each build, newest last: {"why", "how" (compiled | disk | worker: compiled by the
# compile worker, then loaded from disk), "seconds", "seq" (builds
# so far, this one included), "background" (built by the compile-ahead thread)}
MISSES = collections.deque(maxlen=64)
# kernel function -> (why it was built, seconds making it from its source:
# Numba's import, the module's run; seconds the compile worker took to
# compile it, or None), until its first compile or disk load
_why = {}
_seen = {}  # kernel structure -> {its dtypes -> layouts} built in this process


def why_new(what, structure, dtypes, layout):
    """`what` (the kernel's name), then which part of its source, its cache
    key, is new to this process: the structure (ops, constants and static
    attributes), the dtypes, or the layout (loop form, rank, which inputs
    are broadcast, threads). `structure` is hashable; `dtypes` and `layout`
    are strings."""
    by_dtypes = _seen.setdefault(structure, {})
    layouts = by_dtypes.setdefault(dtypes, set())
    if layout in layouts:
        why = "new source of a known structure, dtypes and layout"
    elif layouts:
        why = f"new layout ({layout}) of a known kernel; built before: {'; '.join(layouts)}"
    elif len(by_dtypes) > 1:
        known = "; ".join(d for d in by_dtypes if d != dtypes)
        why = f"new dtypes ({dtypes}) of a known kernel structure; built before for {known}"
    else:
        why = f"new kernel structure ({dtypes}; {layout})"
    layouts.add(layout)
    return f"{what}, {why}"


def _key(source):
    return hashlib.sha256(source.encode()).hexdigest()[:24]


def kernel_for(source, why="a new kernel"):
    """The Numba dispatcher for `source`, built at most once per process;
    `why` says what was new, for the miss log."""
    key = _key(source)
    fn = _kernels.get(key)
    if fn is not None:
        STATS["hits"] += 1
        return fn
    t0 = time.perf_counter()
    modname = f"lazyops_kernel_{key}"
    folder = _usable_dir()
    fn = _from_disk(folder, modname, source) if folder is not None else None
    if fn is None:
        fn = _in_memory(modname, source)
    _kernels[key] = fn
    _why[fn] = why, time.perf_counter() - t0, _by_worker.pop(key, None)
    STATS["kernels"] += 1
    return fn


_by_worker = {}  # kernel key -> seconds the compile worker took to compile it


def ahead(source, described):
    """Before `precompile(kernel_for(source), described)` on the compile-ahead
    thread: have the compile worker put the kernel in the disk cache, so
    that this process only loads it (see `codegen.worker`). Whether it did."""
    key = _key(source)
    if key in _kernels or not worker.ENABLED:
        return False
    folder = _usable_dir()
    # a kernel whose source file is there was built (or begun) by an earlier
    # process: it loads from disk here, faster than a worker could start
    if folder is None or os.path.exists(os.path.join(folder, f"lazyops_kernel_{key}.py")):
        return False
    with background.waiting():
        done = worker.compile_into(folder, source, described)
    if done is None:
        return False
    compiled, seconds = done
    if compiled:
        _by_worker[key] = seconds
    return True


def fill(folder, source, described):
    """(In the compile worker.) Compile `source` for `described` into the
    disk cache folder `folder`; whether it compiled (not found there)."""
    fn = _from_disk(folder, f"lazyops_kernel_{_key(source)}", source)
    precompile(fn, described)
    return not sum(fn.stats.cache_hits.values())


def _from_disk(folder, modname, source):
    """The kernel run from its file in `folder`, with Numba's disk cache; None
    (and the folder given up) where the folder cannot hold it."""
    path = os.path.join(folder, modname + ".py")
    try:
        stale = _write_source(path, source.encode())
    except OSError as e:
        _give_up(folder, e)
        return None
    try:
        # Built from `source`, not from the file: the file only anchors Numba's
        # cache (its name, modification time and size).
        fn = _run_module(modname, source, path)
    except Exception as e:
        fn = _in_memory(modname, source)  # raises where the source itself is bad
        _give_up(folder, f"Numba cannot cache kernels there ({e})")
        return fn
    cache = getattr(fn, "_cache", None)
    index = getattr(getattr(cache, "_cache_file", None), "_index_path", None)
    if stale and index:
        _remove(index)  # machine code saved for the file's old content
    _guard(cache, index, folder)
    return fn


def _write_source(path, data):
    """Make the file at `path` hold `data`. True where it held something else."""
    try:
        with open(path, "rb") as f:
            if f.read(len(data) + 1) == data:
                return False
        stale = True
    except FileNotFoundError:
        stale = False
    except OSError:  # unreadable: replace it
        stale = True
    fd, tmp = tempfile.mkstemp(dir=os.path.dirname(path), prefix=".lazyops-", suffix=".tmp")
    try:
        with os.fdopen(fd, "wb") as f:
            f.write(data)
        if not stale:
            try:
                os.link(tmp, path)  # atomic and never replaces a concurrent writer's file
                return False
            except FileExistsError:
                if _read(path) == data:
                    return False
                stale = True
            except OSError:  # no hard links on this file system
                pass
        os.replace(tmp, path)  # atomic: concurrent processes see whole files only
        return stale
    finally:
        _remove(tmp)


def _read(path):
    try:
        with open(path, "rb") as f:
            return f.read()
    except OSError:
        return None


def _remove(path):
    try:
        os.unlink(path)
    except OSError:
        pass


def _run_module(modname, source, filename):
    """Run `source` as module `modname`; its `kernel`."""
    module = types.ModuleType(modname)
    module.__file__ = filename
    sys.modules[modname] = module
    exec(compile(source, filename, "exec"), module.__dict__)
    return module.kernel


def _in_memory(modname, source):
    """The kernel compiled without a disk cache."""
    source = source.replace("cache=True", "cache=False", 1)
    filename = f"<lazyops kernel {modname}>"
    # lets `inspect` and Numba's error messages show the source
    linecache.cache[filename] = (len(source), None, source.splitlines(True), filename)
    return _run_module(modname, source, filename)


def _guard(cache, index, folder):
    """Make a Numba function cache survive corrupt files: an index or data
    file that cannot be loaded is dropped and the kernel compiled afresh; a
    failed save costs a compile in the next run."""
    load = getattr(cache, "load_overload", None)
    save = getattr(cache, "save_overload", None)
    if load is None or save is None:
        return
    # Numba's `load_overload` first refreshes the target context: it starts
    # Numba's runtime (NRT, which kernels call) and installs every typing and
    # lowering registry, importing their modules (scipy's among them): 0.3-0.5
    # s of Python holding the GIL. Loading machine code needs only the runtime
    # (a compile, here or later, refreshes for itself), so a kernel loads in
    # about 10 ms through the unrefreshed `_load_overload`. (Windows keeps the
    # public one, which guards against spurious I/O errors there.)
    fetch = getattr(cache, "_load_overload", None)
    if fetch is None or os.name != "posix":
        fetch = load

    def load_overload(sig, target_context):
        try:
            if fetch is not load:
                from numba.core.runtime import rtsys
                rtsys.initialize(target_context)  # once per process
            return fetch(sig, target_context)
        except Exception:
            if index:
                _remove(index)
            return None

    def save_overload(sig, data):
        try:
            save(sig, data)
        except Exception as e:
            _warn_once(("save", folder),
                       f"lazyops: could not save compiled kernels in the cache folder {folder} "
                       f"({type(e).__name__}: {e}); later runs compile them again.")

    cache.load_overload = load_overload
    cache.save_overload = save_overload


_disk_hits = {}  # kernel -> Numba disk-cache hits seen so far


def launch(fn, args):
    """Call a kernel, counting compiles (new signatures) and their time; what
    it returns (a step loop's last carries; kernels return nothing).
    Numba's statistics are read only when a call added a signature."""
    n = len(fn.overloads)  # (`signatures` builds a list each time)
    t0 = time.perf_counter()
    state = vectors.STATE  # a new signature compiles in the call (`vectors.compiling()`)
    before, state.on = state.on, True
    try:
        out = fn(*args)
    finally:
        state.on = before
    dt = time.perf_counter() - t0
    STATS["launches"] += 1
    if len(fn.overloads) == n:
        STATS["run_time"] += dt
        return out
    _count_build(fn, dt)
    return out


def precompile(fn, described):
    """Compile `fn` for the arguments `described` (see `describe`) without
    running it; a no-op where it is compiled for them."""
    from numba import typeof, types
    from numba.np.numpy_support import from_dtype
    sig = tuple(types.Array(from_dtype(d[0]), d[1], d[2], readonly=d[3], aligned=d[4])
                if type(d) is tuple and d and isinstance(d[0], np.dtype) else typeof(d)
                for d in described)
    n = len(fn.overloads)
    t0 = time.perf_counter()
    with vectors.compiling():
        fn.compile(sig)
    if len(fn.overloads) != n:
        _count_build(fn, time.perf_counter() - t0)


def describe(args):
    """Kernel arguments as `precompile` takes them: arrays by their Numba
    type's parts (dtype, ndim, layout, read-only, aligned), so that no array
    is kept alive; scalars and tuples of them as they are."""
    return [(a.dtype, a.ndim,
             "C" if a.flags.c_contiguous else "F" if a.flags.f_contiguous else "A",
             not a.flags.writeable, a.flags.aligned) if type(a) is np.ndarray else a
            for a in args]


def _count_build(fn, dt):
    """Account a compile or disk load of `fn` that took `dt` seconds."""
    hits = sum(fn.stats.cache_hits.values())
    how = "disk" if hits > _disk_hits.get(fn, 0) else "compiled"
    why, made, by_worker = _why.pop(fn, None) or (
        f"new argument types {fn.signatures[-1]} for a compiled kernel", 0.0, None)
    dt += made
    if how == "disk" and by_worker is not None:  # new, compiled by the worker: a compile
        how, dt = "worker", dt + by_worker
    STATS["disk_loads" if how == "disk" else "compiles"] += 1
    _disk_hits[fn] = hits
    STATS["load_time" if how == "disk" else "compile_time"] += dt
    MISSES.append({"why": why, "how": how, "seconds": dt, "seq": builds(),
                   "background": background.on_thread()})


def builds():
    """Kernels compiled or loaded from disk so far (a mark for `build_report`)."""
    return STATS["compiles"] + STATS["disk_loads"]


_reported = [0]  # the `seq` of the latest build `build_report` listed


def build_report(mark, elapsed):
    """Lines saying how `elapsed` seconds of work begun at `mark` (see
    `builds`) split into compiling, loading from disk and the rest, then each
    build not reported before and why it happened; builds by the
    compile-ahead thread are listed but not counted in the split."""
    mine = [m for m in MISSES if m["seq"] > mark and not m["background"]]
    compiled = sum(m["seconds"] for m in mine if m["how"] == "compiled")
    loaded = sum(m["seconds"] for m in mine if m["how"] == "disk")
    lines = [f"compile {compiled * 1e3:.1f} ms, disk load {loaded * 1e3:.1f} ms, "
             f"run {max(elapsed - compiled - loaded, 0.0) * 1e3:.3f} ms"]
    for m in MISSES:
        if m["seq"] > _reported[0]:
            how = {"disk": "loaded from disk", "worker": "compiled by the compile worker"}.get(
                m["how"], "compiled")
            where = " in the background" if m["background"] else ""
            lines.append(f"{how}{where} in {m['seconds']:.2f} s: {m['why']}")
    _reported[0] = max(_reported[0], builds())
    return lines


def cache_info():
    """Compile and cache counters, and seconds spent compiling
    (`compile_time`), loading kernels from the disk cache (`load_time`) and
    running launches that built nothing (`run_time`)."""
    return dict(STATS, cached_kernels=len(_kernels), cache_dir=cache_dir(),
                disk_cache=_usable_dir() is not None, misses=list(MISSES))


def clear_memory_cache():
    """Forget in-memory kernels (the disk cache stays); for tests."""
    _kernels.clear()
