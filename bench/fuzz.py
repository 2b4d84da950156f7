"""Random-program fuzzer: wrong results, force-time errors, crashes and hangs
of lazyops against the NumPy interpreter and keras.ops on NumPy.

    python bench/fuzz.py --programs 200 --seed 0 --compiled
    python bench/fuzz.py --programs 1000 --seed 0 --default --jobs 2
    python bench/fuzz.py --programs 200 --compiled --shrink --out /tmp/fuzz
    python bench/fuzz.py --programs 300 --replay --jobs 2   # lazyops.function
    python bench/fuzz.py --programs 300 --chunked --jobs 2  # the chunked first run
    python bench/fuzz.py --seed 0 --only 17,42 --compiled --shrink   # rerun some programs

Program i of seed S is `tests/programs.generate(random.Random(f"{S}:{i}"))`,
so any program can be rerun alone with `--only i`. Each program runs in a
worker subprocess (reused across programs) with a per-program timeout: a
worker that dies is a crash, one that overruns is a hang, and either is
replaced. Every failure prints a self-contained reproducer; the summary line
counts the outcomes and the exit status is 1 if anything failed.
"""
import argparse
import collections
import dataclasses
import multiprocessing as mp
import multiprocessing.connection as mpc
import os
import random
import re
import sys
import time
import traceback

HERE = os.path.dirname(os.path.abspath(__file__))
TESTS = os.path.join(os.path.dirname(HERE), "tests")


# ---------------------------------------------------------------- worker side

def _worker_main(conn, tests_dir):
    os.environ.setdefault("KERAS_BACKEND", "numpy")
    sys.path.insert(0, tests_dir)
    try:
        import programs as P
        P.keras_ops()
    except BaseException:  # noqa: BLE001
        conn.send(("failed", traceback.format_exc()))
        return
    conn.send(("ready", os.getpid()))
    while True:
        try:
            msg = conn.recv()
        except EOFError:
            return
        if msg is None:
            return
        job, prog, subject, reference = msg
        try:
            out = dataclasses.asdict(P.check_program(prog, subject, reference))
        except Exception as e:  # noqa: BLE001  (a fuzzer bug: report it, keep going)
            out = {"status": "error", "kind": f"harness {type(e).__name__}: {e}", "op": "harness",
                   "detail": traceback.format_exc(), "checked": 0}
        conn.send((job, out))


# ---------------------------------------------------------------- parent side

class Worker:
    def __init__(self, ctx):
        self.conn, child = ctx.Pipe()
        self.proc = ctx.Process(target=_worker_main, args=(child, TESTS), daemon=True)
        self.proc.start()
        child.close()
        self.job = None
        self.deadline = None
        if not self.conn.poll(300):
            self.kill()
            raise RuntimeError("fuzz: a worker did not start within 300 s")
        msg = self.conn.recv()
        if msg[0] != "ready":
            raise RuntimeError(f"fuzz: a worker failed to start:\n{msg[1]}")

    def kill(self):
        if self.proc.is_alive():
            self.proc.kill()
        self.proc.join(10)
        self.conn.close()

    def stop(self):
        try:
            self.conn.send(None)
        except (OSError, BrokenPipeError):
            pass
        self.proc.join(5)
        if self.proc.is_alive():
            self.kill()


class Pool:
    """`jobs` reusable workers; a crashed or hung worker is replaced."""

    def __init__(self, jobs, timeout):
        self.ctx = mp.get_context("spawn")
        self.timeout = timeout
        self.workers = [Worker(self.ctx) for _ in range(jobs)]

    def close(self):
        for w in self.workers:
            w.stop()

    def run(self, jobs, subject, reference, on_result):
        """jobs: iterable of (key, program); calls on_result(key, outcome dict)."""
        todo = collections.deque(jobs)
        while todo or any(w.job is not None for w in self.workers):
            for k, w in enumerate(self.workers):
                if w.job is None and todo:
                    key, prog = todo.popleft()
                    try:
                        w.conn.send((key, prog, subject, reference))
                    except (OSError, BrokenPipeError):
                        self.workers[k] = w = self._replace(w)
                        w.conn.send((key, prog, subject, reference))
                    w.job, w.deadline = key, time.monotonic() + self.timeout
            busy = [w for w in self.workers if w.job is not None]
            wait = max(0.0, min(w.deadline for w in busy) - time.monotonic())
            mpc.wait([w.conn for w in busy] + [w.proc.sentinel for w in busy], timeout=wait)
            for k, w in enumerate(self.workers):
                if w.job is None:
                    continue
                key = w.job
                if w.conn.poll():
                    try:
                        got_key, out = w.conn.recv()
                    except (EOFError, OSError):
                        out = self._crash(w)
                        self.workers[k] = self._replace(w)
                    else:
                        assert got_key == key
                        w.job = None
                    on_result(key, out)
                elif not w.proc.is_alive():
                    out = self._crash(w)
                    self.workers[k] = self._replace(w)
                    on_result(key, out)
                elif time.monotonic() > w.deadline:
                    out = {"status": "hang", "kind": f"no result within {self.timeout:g} s",
                           "op": "", "detail": "", "checked": 0}
                    self.workers[k] = self._replace(w)
                    on_result(key, out)

    def _crash(self, w):
        w.proc.join(5)
        code = w.proc.exitcode
        return {"status": "crash", "kind": f"worker died (exit code {code})", "op": "",
                "detail": "", "checked": 0}

    def _replace(self, w):
        w.kill()
        return Worker(self.ctx)

    def run_one(self, prog, subject, reference):
        box = []
        self.run([("one", prog)], subject, reference, lambda k, o: box.append(o))
        return box[0]


# ---------------------------------------------------------------- reporting

def signature(out):
    return f"{out['status']}: {out['kind']} [{out['op']}]"


def _norm(kind):
    """A failure kind without the sizes and shapes in its message."""
    return re.sub(r"\d+", "#", re.sub(r"\([^()]*\)", "(...)", kind))


def shrink_key(out):
    """What a smaller program must keep to count as the same failure."""
    return out["status"], _norm(out["kind"])


def group_key(out):
    """Failures with the same key are counted as one distinct failure."""
    return out["status"], _norm(out["kind"]), out["op"]


def reproducer(P, prog, subject, out, title):
    detail = out["detail"]
    if len(detail) > 3000:
        detail = detail[:3000] + "\n..."
    note = f"{title}\n{signature(out)}\n\n{detail}".replace('"""', "'''").replace("\\", "\\\\")
    return prog.reproducer(subject, note=note)


def main(argv=None):
    ap = argparse.ArgumentParser(description=__doc__.split("\n\n")[0])
    ap.add_argument("--programs", type=int, default=100, help="how many programs (default 100)")
    ap.add_argument("--seed", type=int, default=0)
    ap.add_argument("--start", type=int, default=0, help="index of the first program")
    ap.add_argument("--only", default="", help="comma-separated program indices to run")
    g = ap.add_mutually_exclusive_group()
    g.add_argument("--compiled", dest="subject", action="store_const", const="compiled",
                   help="force every graph through the compiled path (small_work=0; default)")
    g.add_argument("--default", dest="subject", action="store_const", const="default",
                   help="the default path (small graphs on the interpreter)")
    g.add_argument("--replay", dest="subject", action="store_const", const="replay",
                   help="lazyops.function: each program as a function of its arrays, replayed "
                        "on other data against recording it there (compiled path)")
    g.add_argument("--chunked", dest="subject", action="store_const", const="chunked",
                   help="the tiered first run, its row-wise kernels interpreted a few elements "
                        "at a time, against the same run interpreting them whole")
    ap.set_defaults(subject="compiled")
    ap.add_argument("--one-thread", action="store_true",
                    help="compiled kernels on one thread (serial_work above every size)")
    ap.add_argument("--timeout", type=float, default=90,
                    help="seconds per program before it counts as a hang (default 90)")
    ap.add_argument("--jobs", type=int, default=1, help="worker processes (default 1)")
    ap.add_argument("--max-steps", type=int, default=12)
    ap.add_argument("--big", type=float, default=0.15,
                    help="probability of a program on big (20k-40k element) arrays")
    ap.add_argument("--strict", action="store_true",
                    help="also apply ops whose float64 result dtype differs in Keras (F64_QUIRK)")
    ap.add_argument("--reference", choices=["numpy", "interpreter"], default="numpy",
                    help="the oracle: keras.ops on NumPy (default) or the lazyops interpreter")
    ap.add_argument("--shrink", action="store_true",
                    help="delta-debug the first failure of each distinct kind to a small program")
    ap.add_argument("--shrink-all", action="store_true", help="shrink every failure")
    ap.add_argument("--shrink-budget", type=int, default=80,
                    help="at most this many runs per shrink (default 80)")
    ap.add_argument("--shrink-time", type=float, default=180,
                    help="at most this many seconds per shrink (default 180)")
    ap.add_argument("--out", default="", help="also write each reproducer into this folder")
    ap.add_argument("--quiet", action="store_true", help="no progress lines on stderr")
    args = ap.parse_args(argv)

    os.environ.setdefault("KERAS_BACKEND", "numpy")
    if args.one_thread:  # read by tests/programs.py, in the workers too
        os.environ["LAZYOPS_FUZZ_SERIAL_WORK"] = str(1 << 62)
    sys.path.insert(0, TESTS)
    import programs as P

    if args.only:
        indices = [int(i) for i in args.only.split(",") if i.strip()]
    else:
        indices = list(range(args.start, args.start + args.programs))

    def make(i):
        return P.generate(random.Random(f"{args.seed}:{i}"), max_steps=args.max_steps,
                          big=args.big, strict=args.strict,
                          label=f"program {i} (seed {args.seed})")

    if args.out:
        os.makedirs(args.out, exist_ok=True)
    counts = collections.Counter()
    skipped = 0
    failures = []  # (index, outcome)
    t0 = time.monotonic()
    pool = Pool(args.jobs, args.timeout)
    done = [0]

    def on_result(i, out):
        nonlocal skipped
        done[0] += 1
        st = out["status"]
        if st == "skip":
            skipped += 1
            st = "ok"
        counts[st] += 1
        if st != "ok":
            failures.append((i, out))
            print(f"--- program {i}: {signature(out)}", flush=True)
        if not args.quiet and done[0] % 25 == 0:
            el = time.monotonic() - t0
            print(f"[fuzz] {done[0]}/{len(indices)} in {el:.0f} s: "
                  + ", ".join(f"{counts[k]} {k}"
                              for k in ("ok", "mismatch", "error", "crash", "hang")),
                  file=sys.stderr, flush=True)

    try:
        pool.run(((i, make(i)) for i in indices), args.subject, args.reference, on_result)
        # reproducers, shrunk where asked
        failures.sort(key=lambda f: f[0])
        first_of = {}
        for i, out in failures:
            first_of.setdefault(group_key(out), i)
        print()
        for i, out in failures:
            prog = make(i)
            title = f"fuzz: program {i} of seed {args.seed} ({args.subject} path)"
            if args.shrink_all or (args.shrink and first_of[group_key(out)] == i):
                want = shrink_key(out)
                stop = time.monotonic() + args.shrink_time

                def still_fails(cand):
                    if time.monotonic() > stop:
                        return False
                    o = pool.run_one(cand, args.subject, args.reference)
                    return shrink_key(o) == want

                small, tries = P.shrink(prog, still_fails, args.shrink_budget)
                if small is not prog:
                    final = pool.run_one(small, args.subject, args.reference)
                    if shrink_key(final) == want:
                        if final["op"] != out["op"]:
                            title += f"; before shrinking it showed at [{out['op']}]"
                        prog, out = small, final
                        title += f"; shrunk in {tries} runs"
            text = reproducer(P, prog, args.subject, out, title)
            print(f"===== program {i}: {signature(out)}")
            print(text)
            if args.out:
                path = os.path.join(args.out, f"p{i:05d}_{out['status']}.py")
                with open(path, "w") as f:
                    f.write(text)
    finally:
        pool.close()

    el = time.monotonic() - t0
    groups = collections.defaultdict(list)
    for i, out in failures:
        groups[group_key(out)].append((i, out))
    print(f"distinct failures ({len(groups)}):")
    for _, members in sorted(groups.items(), key=lambda kv: -len(kv[1])):
        idx = [i for i, _ in members]
        more = "" if len(idx) <= 12 else f", ... ({len(idx)} programs)"
        print(f"  {len(idx):5d}  {signature(members[0][1])}   programs "
              f"{', '.join(map(str, idx[:12]))}{more}")
    if skipped:
        print(f"({skipped} of the ok programs stop at a step that every path rejects "
              "at record time)")
    print(f"time: {el:.0f} s")
    print(f"fuzz: {len(indices)} programs ({args.subject}), {counts['ok']} ok, "
          f"{counts['mismatch']} mismatch, {counts['error']} error, {counts['crash']} crash, "
          f"{counts['hang']} hang")
    return 1 if failures else 0


if __name__ == "__main__":
    sys.exit(main())
