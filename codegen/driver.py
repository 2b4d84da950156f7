"""A compiled loop over the steps of a scan whose body is a kernel of its
own (a body that reduces or reshapes; see `lazyops/loops.py`): one Numba
function calls the body's compiled kernel once per step, with each step's
slices, the carries in two buffers swapped after each step, and each step
output written into its row of the stacked result; nothing returns to
Python between steps.

The body's kernel must launch plainly (`launch._Replay`): its call is size
scalars, then the arguments as they are or reshaped, then one whole buffer
per result. The driver's source depends on the argument kinds only; sizes
and shapes are its arguments, so one compile serves every size."""
import numpy as np

from . import background
from .cache import describe, kernel_for, launch, precompile


class Driver:
    """The compiled loop of a scan whose step is `replay` (a plain launch of
    the body's kernel on arguments `order` picks from carries, slices and
    captures, `k`, `m` and the rest of them), its results the next carries
    (`k`) and the step outputs."""

    def __init__(self, replay, order, k, m, step_args):
        head, shapes, whole = replay.plain
        self.head, self.k, self.m = list(head), k, m
        n_args = len(step_args)
        order = list(range(n_args)) if order is None else list(order)
        self.reshape = [s if s is not None else step_args[i].shape
                        for i, s in zip(order, shapes or [None] * len(order))]
        self.flat = [shape for shape, _ in replay.allocs]
        self.n_caps = n_args - k - m
        self.n_ys = len(whole) - k
        self.fn = kernel_for(self._source(replay.fn.__module__, order),
                             f"the step loop of {replay.fn.__module__}")
        self.ready = False

    def _source(self, step_module, order):
        k, m = self.k, self.m
        A = [f"A{i}" for i in range(k)]
        B = [f"B{i}" for i in range(k)]
        X = [f"X{j}" for j in range(m)]
        K = [f"K{c}" for c in range(self.n_caps)]
        Y = [f"Y{j}" for j in range(self.n_ys)]
        H = [f"H{h}" for h in range(len(self.head))]
        R = [f"R{p}" for p in range(len(order))]
        F = [f"F{r}" for r in range(k + self.n_ys)]

        def arg(p, i):
            if i < k:
                return f"A{i}.reshape(R{p})"
            if i < k + m:
                return f"X{i - k}[t:t + 1].reshape(R{p})"
            return f"K{i - k - m}.reshape(R{p})"
        call = H + [arg(p, i) for p, i in enumerate(order)] + \
            [f"B{r}.reshape(F{r})" for r in range(k)] + \
            [f"Y{j}[t:t + 1].reshape(F{k + j})" for j in range(self.n_ys)]
        params = ["T0", "T", "rev"] + H + A + B + X + K + Y + R + F
        swap = "".join(f"        {a}, {b} = {b}, {a}\n" for a, b in zip(A, B))
        return (f"import numpy as np\nfrom numba import njit\n"
                f"from {step_module} import kernel as step\n\n\n"
                f"@njit(cache=True, error_model='numpy')\n"
                f"def kernel({', '.join(params)}):\n"
                f"    for s in range(T0, T):\n"
                f"        t = T - 1 - s if rev else s\n"
                f"        step({', '.join(call)})\n"
                f"{swap}"
                f"    return ({''.join(a + ', ' for a in A)})\n")

    def arguments(self, start, n, reverse, carries, xs, caps, ys):
        """The driver's arguments for steps `start`..`n - 1` (in scan order):
        the carries in new buffers, so the loop may swap them."""
        a = [np.array(c, copy=True) for c in carries]
        b = [np.empty_like(c) for c in a]
        caps = [np.ascontiguousarray(c) for c in caps]
        return [start, n, bool(reverse), *self.head, *a, *b, *xs, *caps, *ys,
                *[tuple(r) for r in self.reshape], *[tuple(f) for f in self.flat]]

    def compile(self, args, ahead):
        """Compile the loop for `args`, on the compile thread where `ahead`
        (the steps run from Python meanwhile); `ready` once done."""
        described = describe(args)

        def job():
            precompile(self.fn, described)
            self.ready = True
        if ahead:
            background.submit(job)
        else:
            job()

    def __call__(self, args):
        """Run the loop; the last carries."""
        return list(launch(self.fn, args))
