"""Launching a kernel: apply the views of its inputs with NumPy, pick the
loop form from the inputs' layouts, and call the compiled function."""
import numpy as np

from ..ir.interpreter import run_op
from .cache import kernel_for, launch
from .cpu import KernelInfo, lower


class Launcher:
    def __init__(self, kernel):
        self.info = KernelInfo(kernel)
        self.block = kernel.regions[0].block
        self.fns = {}

    def _fn(self, variant, rank, kinds):
        key = (variant, rank, kinds)
        fn = self.fns.get(key)
        if fn is None:
            fn = self.fns[key] = kernel_for(lower(self.info, variant, rank, kinds))
        return fn

    def source_for(self, args):
        """The loop form and generated source a launch on `args` would use."""
        variant, rank, kinds, _, _ = self.configure(args)
        return variant, lower(self.info, variant, rank, kinds)

    def __call__(self, args):
        variant, rank, kinds, call_args, results = self.configure(args)
        launch(self._fn(variant, rank, kinds), call_args)
        return results

    def configure(self, args):
        """Loop form, rank, load kinds (see `cpu.lower`), call arguments and
        result arrays."""
        info = self.info
        env = {id(a): x for a, x in zip(self.block.args, args)}
        for op in info.prelude:
            for r, x in zip(op.results, run_op(op, [env[id(o)] for o in op.operands])):
                env[id(r)] = x
        space = info.space
        kinds, arrays = [], []
        for v in info.loads:
            a = env[id(v)]
            u = a.size == 1
            kinds.append("u" if u else "a")
            arrays.append(a.reshape(1) if u else (a if a.shape == space else np.broadcast_to(a, space)))
        arrays = [_bits(a) for a in arrays]
        if not info.reductions:
            return self._elementwise(arrays, tuple(kinds))
        return self._reduce(arrays, kinds)

    def _elementwise(self, arrays, kinds):
        info, space = self.info, self.info.space
        results = [np.empty(space, v.type.dtype) for v in info.outputs]
        outs = [_bits(o) for o in results]
        loads = [a for a, k in zip(arrays, kinds) if k == "a"]
        if all(a.flags.c_contiguous for a in loads):
            n = int(np.prod(space, dtype=np.int64))
            return "flat", 1, kinds, [n] + [a.reshape(-1) for a in arrays + outs], results
        shape, views = _collapse(space, loads + outs)
        it = iter(views)
        args = [next(it) if k == "a" else a for a, k in zip(arrays, kinds)] + list(it)
        return "nd", len(shape), kinds, list(shape) + args, results

    def _reduce(self, arrays, kinds):
        info, space, axes = self.info, self.info.space, self.info.axes
        keep = [i for i in range(len(space)) if i not in axes]
        perm = keep + list(axes)
        m = int(np.prod([space[i] for i in keep], dtype=np.int64))
        n = int(np.prod([space[i] for i in axes], dtype=np.int64))
        full = m == 1
        flat = (n,) if full else (m, n)
        args = []
        for k, a in enumerate(arrays):
            if kinds[k] == "u":
                args.append(a)
                continue
            t = a.transpose(perm)
            if not full and n > 0 and all(t.strides[i] == 0 for i in range(len(keep), len(perm))):
                # constant along the reduced axes (e.g. a row max): one load per row
                kinds[k] = "r"
                args.append(t[(Ellipsis,) + (0,) * len(axes)].reshape(m))
            else:
                # np.reshape copies only where the permuted input cannot be viewed as rows
                args.append(t.reshape(flat))
        kinds = tuple(kinds)
        outs, results = [], []
        for v in info.outputs:
            if id(v) in info.outer:
                o = np.empty(1 if full else m, v.type.dtype)
                results.append(o.reshape(v.type.shape))
            else:
                o = np.empty(flat, v.type.dtype)
                inv = np.argsort(perm)
                results.append(o.reshape([space[i] for i in perm]).transpose(inv))
            outs.append(_bits(o))
        if full:
            return "full", 1, kinds, [n] + args + outs, results
        return "rows", 2, kinds, [m, n] + args + outs, results


def _bits(a):
    """float16 arrays travel to kernels as their uint16 bits."""
    return a.view(np.uint16) if a.dtype == np.float16 else a


def _collapse(shape, arrays):
    """Merge adjacent dims that every array walks contiguously; drop size-1 dims.
    Returns the collapsed shape and strided views of the arrays."""
    dims = [i for i, d in enumerate(shape) if d != 1]
    if not dims:
        return (1,), [a.reshape(1) for a in arrays]
    groups = [[dims[0]]]
    for i in dims[1:]:
        prev = groups[-1][-1]
        if all(a.strides[prev] == a.strides[i] * shape[i] for a in arrays):
            groups[-1].append(i)
        else:
            groups.append([i])
    new_shape = tuple(int(np.prod([shape[i] for i in g])) for g in groups)
    views = [np.lib.stride_tricks.as_strided(a, new_shape, tuple(a.strides[g[-1]] for g in groups))
             for a in arrays]
    return new_shape, views
