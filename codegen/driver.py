"""Compiled loops over the steps of a scan or while loop whose regions are
plans of their own (a body that reduces or reshapes, a while test that
reduces a vector, a counter beside vector work; see `lazyops/loops.py`):
one Numba function calls each region's compiled kernels in order once per
step, the values passed between them in buffers allocated once, the
carries in two buffers swapped after each step, each step output written
into its row of the stacked result; nothing returns to Python between
steps.

Each kernel must launch plainly (`launch._Replay`): its call is size
scalars, then the arguments as they are or reshaped, then one whole buffer
per result; a region with a NumPy step has no compiled loop. A loop's
source depends on the argument kinds only; sizes and shapes are its
arguments, so one compile serves every size."""
import numpy as np

from . import background
from .cache import describe, kernel_for, launch, precompile


class _Step:
    """One kernel in a loop's source: `call(args, outs)` is its call on the
    expressions `args` (per operand; `operands`: the arrays a step passed
    it) and `outs` (per result), with its sizes, reshapes and flat result
    shapes as parameters named after `tag` (`values` gives them)."""

    def __init__(self, tag, replay, operands):
        head, shapes, _ = replay.plain
        self.tag, self.module = tag, replay.fn.__module__
        self.head = list(head)
        self.reshape = [tuple(s if s is not None else a.shape)
                        for a, s in zip(operands, shapes or [None] * len(operands))]
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
        ins = [f"{a}.reshape(R{t}{p})" for p, a in enumerate(args)]
        res = [f"{o}.reshape(F{t}{r})" for r, o in enumerate(outs)]
        heads = [f"H{t}{h}" for h in range(len(self.head))]
        return f"step{t}({', '.join(heads + ins + res)})"


class Region:
    """A region's plan as calls of its kernels in order: `launches` holds,
    per kernel, its plain replay, its operand and result slots (the plan's
    slots: the `nargs` arguments first) and the arrays a step gave and got;
    `returns`: the slots the region yields. A value passed between kernels
    lives in a buffer made once per loop (`temps`); a result a region yields
    is written where the loop keeps it; an argument it yields as it is, or a
    value it yields twice, is copied there."""

    def __init__(self, tag, launches, nargs, returns):
        self.tag, self.nargs, self.returns = tag, nargs, list(returns)
        self.first = {}
        for pos, s in enumerate(self.returns):
            self.first.setdefault(s, pos)
        self.kernels, self.temps = [], {}
        for k, (replay, ins, outs, vals, results) in enumerate(launches):
            self.kernels.append((_Step(f"{tag}{k}_", replay, vals), ins, outs))
            for s, r in zip(outs, results):
                if s not in self.first:
                    self.temps[s] = (r.shape, r.dtype)

    def steps(self):
        return [step for step, _, _ in self.kernels]

    def params(self):
        return [p for step in self.steps() for p in step.params()] + \
            [f"I{self.tag}_{s}" for s in self.temps]

    def values(self):
        """The kernels' parameters and the buffers passed between them."""
        return [v for step in self.steps() for v in step.values()] + \
            [np.empty(shape, dtype) for shape, dtype in self.temps.values()]

    def lines(self, args, rets):
        """Source lines running the region on argument expressions `args`
        and yielding into `rets`."""
        def expr(s):
            if s < self.nargs:
                return args[s]
            return rets[self.first[s]] if s in self.first else f"I{self.tag}_{s}"
        out = [step.call([expr(s) for s in ins], [expr(s) for s in outs])
               for step, ins, outs in self.kernels]
        for pos, s in enumerate(self.returns):
            if s < self.nargs or self.first[s] != pos:
                out.append(f"{rets[pos]}.reshape(-1)[:] = {expr(s)}.reshape(-1)")
        return out


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
    """A scan whose body is `region` (a `Region` over `k` carries, `m`
    slices and `n_caps` captures), yielding the next carries and the step
    outputs (`n_ys` of them)."""

    def __init__(self, region, k, m, n_caps, n_ys):
        self.region = region
        args = [f"A{i}" for i in range(k)] + [f"X{j}[t:t + 1]" for j in range(m)] + \
            [f"K{c}" for c in range(n_caps)]
        outs = [f"B{i}" for i in range(k)] + [f"Y{j}[t:t + 1]" for j in range(n_ys)]
        params = ["T0", "T", "rev"] + [f"{p}{i}" for p in "AB" for i in range(k)] + \
            [f"X{j}" for j in range(m)] + [f"K{c}" for c in range(n_caps)] + \
            [f"Y{j}" for j in range(n_ys)] + region.params()
        body = ("    for s in range(T0, T):\n"
                "        t = T - 1 - s if rev else s\n" +
                "".join(f"        {line}\n" for line in region.lines(args, outs)) + _swap(k))
        self._build(region.steps(), params, body, [f"A{i}" for i in range(k)])

    def arguments(self, start, n, reverse, carries, xs, caps, ys):
        """The loop's arguments for steps `start`..`n - 1` (in scan order)."""
        xs, caps = [np.ascontiguousarray(a) for a in xs], [np.ascontiguousarray(c) for c in caps]
        return [start, n, bool(reverse), *_buffers(carries), *xs, *caps, *ys,
                *self.region.values()]


class WhileDriver(_Loop):
    """A while loop whose test is region `test` (yielding one bool) and body
    region `body` (yielding the next carries), over `k` carries and each
    region's captures (`n_test`, `n_body`)."""

    def __init__(self, test, body, k, n_test, n_body):
        self.test, self.body = test, body
        carries = [f"A{i}" for i in range(k)]
        test_caps, body_caps = [f"KT{c}" for c in range(n_test)], [f"KB{c}" for c in range(n_body)]
        params = ["limit"] + carries + [f"B{i}" for i in range(k)] + test_caps + body_caps + \
            ["FLAG"] + test.params() + body.params()
        source = ("    s = 0\n"
                  "    while limit < 0 or s < limit:\n" +
                  "".join(f"        {line}\n" for line in test.lines(carries + test_caps, ["FLAG"])) +
                  "        if not FLAG[0]:\n"
                  "            break\n" +
                  "".join(f"        {line}\n" for line in body.lines(
                      carries + body_caps, [f"B{i}" for i in range(k)])) +
                  _swap(k) + "        s += 1\n")
        self._build(test.steps() + body.steps(), params, source, carries)

    def arguments(self, limit, carries, test_caps, body_caps):
        """The loop's arguments for at most `limit` more steps (-1: no limit)."""
        caps = [np.ascontiguousarray(c) for c in test_caps + body_caps]
        return [int(limit), *_buffers(carries), *caps, np.zeros(1, np.bool_),
                *self.test.values(), *self.body.values()]
