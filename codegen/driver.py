"""Compiled loops over the steps of a scan or while loop whose regions are
kernels of their own (a body that reduces or reshapes, a while test that
reduces a vector; see `lazyops/loops.py`): one Numba function calls the
regions' compiled kernels once per step, the carries in two buffers
swapped after each step, each step output written into its row of the
stacked result; nothing returns to Python between steps.

Each region's kernel must launch plainly (`launch._Replay`): its call is
size scalars, then the arguments as they are or reshaped, then one whole
buffer per result. A loop's source depends on the argument kinds only;
sizes and shapes are its arguments, so one compile serves every size."""
import numpy as np

from . import background
from .cache import describe, kernel_for, launch, precompile


class _Step:
    """One region's kernel in a loop's source: `call(args, outs)` is its call
    on the expressions `args` (per argument of the region) and `outs` (per
    result), with its sizes, reshapes and flat result shapes as parameters
    named after `tag` (`values` gives them)."""

    def __init__(self, tag, replay, order, region_args):
        head, shapes, _ = replay.plain
        self.tag, self.module = tag, replay.fn.__module__
        self.order = list(range(len(region_args))) if order is None else list(order)
        self.head = list(head)
        self.reshape = [tuple(s if s is not None else region_args[i].shape)
                        for i, s in zip(self.order, shapes or [None] * len(self.order))]
        self.flat = [tuple(shape) for shape, _ in replay.allocs]

    def params(self):
        t = self.tag
        return [f"H{t}{h}" for h in range(len(self.head))] + \
            [f"R{t}{p}" for p in range(len(self.reshape))] + \
            [f"F{t}{r}" for r in range(len(self.flat))]

    def values(self):
        return [*self.head, *self.reshape, *self.flat]

    def call(self, args, outs):
        t = self.tag
        ins = [f"{args[i]}.reshape(R{t}{p})" for p, i in enumerate(self.order)]
        res = [f"{o}.reshape(F{t}{r})" for r, o in enumerate(outs)]
        heads = [f"H{t}{h}" for h in range(len(self.head))]
        return f"step{t}({', '.join(heads + ins + res)})"


class _Loop:
    """A compiled loop (see `ScanDriver`, `WhileDriver`): its source, built
    once per process (and cached on disk as kernels are), compiled for the
    argument types of the first run, in the background where asked; `ready`
    once compiled."""

    def _build(self, steps, params, body, returns):
        imports = "".join(f"from {s.module} import kernel as step{s.tag}\n" for s in steps)
        source = (f"import numpy as np\nfrom numba import njit\n{imports}\n\n"
                  f"@njit(cache=True, error_model='numpy')\n"
                  f"def kernel({', '.join(params)}):\n{body}"
                  f"    return ({''.join(r + ', ' for r in returns)})\n")
        self.fn = kernel_for(source, f"the step loop of {', '.join(s.module for s in steps)}")
        self.ready = False

    def compile(self, args, ahead):
        """Compile the loop for `args`, on the compile thread where `ahead`
        (the steps run from Python meanwhile); `ready` once done."""
        described = describe(args)

        def job():
            try:
                precompile(self.fn, described)
            except Exception:  # noqa: BLE001 - the steps keep running from Python
                return
            self.ready = True
        if ahead:
            background.submit(job)
        else:
            job()

    def __call__(self, args):
        """Run the loop; the last carries."""
        return list(launch(self.fn, args))


def _swap(k):
    return "".join(f"        A{i}, B{i} = B{i}, A{i}\n" for i in range(k))


def _buffers(carries):
    """The carries in new buffers, so the loop may swap them, and the others."""
    a = [np.array(c, copy=True) for c in carries]
    return a + [np.empty_like(c) for c in a]


class ScanDriver(_Loop):
    """A scan whose body is `replay` (a plain launch of its kernel on the
    region's arguments `order` picks from `k` carries, `m` slices and the
    captures, `region_args` laid out as a step's), its results the next
    carries and the step outputs."""

    def __init__(self, replay, order, k, m, region_args):
        self.k, self.m = k, m
        self.n_caps = len(region_args) - k - m
        self.n_ys = len(replay.allocs) - k
        self.step = _Step("", replay, order, region_args)
        args = [f"A{i}" for i in range(k)] + [f"X{j}[t:t + 1]" for j in range(m)] + \
            [f"K{c}" for c in range(self.n_caps)]
        outs = [f"B{i}" for i in range(k)] + [f"Y{j}[t:t + 1]" for j in range(self.n_ys)]
        params = ["T0", "T", "rev"] + [f"{p}{i}" for p in "AB" for i in range(k)] + \
            [f"X{j}" for j in range(m)] + [f"K{c}" for c in range(self.n_caps)] + \
            [f"Y{j}" for j in range(self.n_ys)] + self.step.params()
        body = ("    for s in range(T0, T):\n"
                "        t = T - 1 - s if rev else s\n"
                f"        {self.step.call(args, outs)}\n" + _swap(k))
        self._build([self.step], params, body, [f"A{i}" for i in range(k)])

    def arguments(self, start, n, reverse, carries, xs, caps, ys):
        """The loop's arguments for steps `start`..`n - 1` (in scan order)."""
        xs, caps = [np.ascontiguousarray(a) for a in xs], [np.ascontiguousarray(c) for c in caps]
        return [start, n, bool(reverse), *_buffers(carries), *xs, *caps, *ys,
                *self.step.values()]


class WhileDriver(_Loop):
    """A while loop whose test is `test` and body `body` (plain launches of
    their kernels on the carries, `k` of them, and each region's captures;
    `test_args` and `body_args` laid out as a step's): the test's one result
    a bool, the body's the next carries."""

    def __init__(self, test, test_order, body, body_order, k, test_args, body_args):
        self.k = k
        self.test = _Step("t", test, test_order, test_args)
        self.body = _Step("b", body, body_order, body_args)
        nt, nb = len(test_args) - k, len(body_args) - k
        carries = [f"A{i}" for i in range(k)]
        test_caps, body_caps = [f"KT{c}" for c in range(nt)], [f"KB{c}" for c in range(nb)]
        params = ["limit"] + carries + [f"B{i}" for i in range(k)] + test_caps + body_caps + \
            ["FLAG"] + self.test.params() + self.body.params()
        test_call = self.test.call(carries + test_caps, ["FLAG"])
        body_call = self.body.call(carries + body_caps, [f"B{i}" for i in range(k)])
        source = ("    s = 0\n"
                  "    while limit < 0 or s < limit:\n"
                  f"        {test_call}\n"
                  "        if not FLAG[0]:\n"
                  "            break\n"
                  f"        {body_call}\n" + _swap(k) + "        s += 1\n")
        self._build([self.test, self.body], params, source, carries)

    def arguments(self, limit, carries, test_caps, body_caps):
        """The loop's arguments for at most `limit` more steps (-1: no limit)."""
        caps = [np.ascontiguousarray(c) for c in test_caps + body_caps]
        return [int(limit), *_buffers(carries), *caps, np.zeros(1, np.bool_),
                *self.test.values(), *self.body.values()]
