"""NumPy reference interpreter: runs any function op by op from the registry's
reference implementations. It is the semantic oracle for compiled paths and
the fallback for what codegen does not compile."""
import numpy as np

from .registry import (CONSTANT_OPS, ELEMENTWISE_OPS, KERNEL_OPS, REDUCTION_OPS, TERMINATOR_OPS,
                       family, lookup)

try:  # `np.errstate(all="ignore")` rebuilds its state on each use (about 1 us);
    # the state made once and set directly costs a tenth of that per force
    from numpy._core._ufunc_config import _extobj_contextvar as _FP_STATE, _make_extobj
    _QUIET = _make_extobj(all="ignore")

    def quiet_fp():
        """Silence NumPy's floating-point warnings; returns what `restore_fp` takes."""
        return _FP_STATE.set(_QUIET)

    def restore_fp(token):
        _FP_STATE.reset(token)
except ImportError:  # another NumPy layout: the public context manager
    def quiet_fp():
        state = np.errstate(all="ignore")
        state.__enter__()
        return state

    def restore_fp(state):
        state.__exit__(None, None, None)


def run_op(op, args, chunk=None):
    """Evaluate one operation on NumPy arrays; returns a list of arrays.
    `chunk`: a kernel that computes each row alone (elementwise, or reducing
    other axes) runs about that many elements at a time (`run_chunked`)."""
    if family(op) == KERNEL_OPS:
        if chunk is not None and _chunkable(op, chunk, args):
            return run_chunked(op, args, chunk)
        return run_block(op.regions[0].block, args)
    rule = REGION_RULES.get(op.name)
    if rule is not None:  # control flow: its regions run here, as the rule says
        out = rule(op, args)
    else:
        out = lookup(op.name).reference(*args, **op.attrs)
    outs = out if isinstance(out, tuple) else (out,)
    return [np.asarray(o).astype(r.type.dtype, copy=False).reshape(r.type.shape)
            for o, r in zip(outs, op.results)]


def run_switch(op, args):
    """A `lazy.switch`: the chosen branch only, on its captures."""
    branches = [r.block for r in op.regions]
    captures = op.attrs["captures"]
    k = int(args[0])
    first = 1 + sum(captures[:k])
    return tuple(run_block(branches[k], args[first:first + captures[k]]))


def run_scan(op, args):
    """A `lazy.scan`: its body run once per step on the carries, the step's
    slices and the captures; the last carries, then each output stacked."""
    body = op.regions[0].block
    carries, xs, length, reverse = (op.attrs[k] for k in ("carries", "xs", "length", "reverse"))
    carry, scanned = list(args[:carries]), args[carries:carries + xs]
    captured = list(args[carries + xs:])
    ys = {}
    for t in (range(length - 1, -1, -1) if reverse else range(length)):
        out = run_block(body, carry + [x[t] for x in scanned] + captured)
        carry, ys[t] = out[:carries], out[carries:]
    return tuple(carry + [np.stack([ys[t][k] for t in range(length)])
                          for k in range(len(ys[0]) if ys else 0)])


def run_while(op, args):
    """A `lazy.while`: its body while its condition holds, at most
    `maximum_iterations` times (-1: no limit); the last carries."""
    cond, body = (r.block for r in op.regions)
    carries, cond_captures, maximum_iterations = (
        op.attrs[k] for k in ("carries", "cond_captures", "maximum_iterations"))
    carry = list(args[:carries])
    tested, captured = list(args[carries:carries + cond_captures]), \
        list(args[carries + cond_captures:])
    steps = 0
    while steps != maximum_iterations and bool(run_block(cond, carry + tested)[0]):
        carry = run_block(body, carry + captured)
        steps += 1
    return tuple(carry)


# ops whose regions the interpreter runs: name -> rule(op, operand arrays); a
# layer above may put a faster rule for an op here (see lazyops/loops.py)
REGION_RULES = {"lazy.switch": run_switch, "lazy.scan": run_scan, "lazy.while": run_while}


def _region_step(op):
    """A step running `op` (an op with regions) as `Program` calls steps."""
    def step(*args):
        out = run_op(op, args)
        return out[0] if len(out) == 1 else tuple(out)
    return step


def run_block(block, args):
    env = {id(a): v for a, v in zip(block.args, args)}
    last = {}  # value -> index of the op that reads it last
    for i, op in enumerate(block.ops):
        for o in op.operands:
            last[id(o)] = i
    for i, op in enumerate(block.ops):
        vals = [env[id(o)] for o in op.operands]
        if family(op) == TERMINATOR_OPS:
            return vals
        for r, v in zip(op.results, run_op(op, vals)):
            env[id(r)] = v
        for o in op.operands:  # drop what no later op reads: NumPy reuses its memory
            if last[id(o)] == i:
                env.pop(id(o), None)
        del vals
    raise ValueError("block has no terminator")


def _chunkable(op, chunk, args):
    """Whether kernel `op` computes each row of its space from that row alone
    (elementwise ops, constants that do not span its leading axis, and
    reductions over other axes: a row softmax), over at least two chunks
    of rows. With a reduction, the arguments it slices must be C-contiguous:
    NumPy sums a strided row in another order when it is alone."""
    space = op.attrs["space"]
    if 0 in op.attrs["axes"] or not space or np.prod(space, dtype=np.int64) < 2 * chunk:
        return False
    rows = max(1, chunk // max(1, int(np.prod(space[1:], dtype=np.int64))))
    if space[0] < 2 * rows:
        return False
    reduces = False
    for o in op.regions[0].block.ops:
        fam = family(o)
        if fam == CONSTANT_OPS:
            if any(_spans(r.type.shape, space) for r in o.results):
                return False
        elif fam == REDUCTION_OPS:
            if len(o.operands[0].type.shape) != len(space) or 0 in o.attrs["axis"]:
                return False
            reduces = True
        elif fam not in (ELEMENTWISE_OPS, TERMINATOR_OPS):
            return False
    if reduces and not all(a.flags.c_contiguous for a in args if _spans(np.shape(a), space)):
        return False
    return all(r.type.shape and r.type.shape[0] == space[0] for r in op.results)


def _spans(shape, space):
    """Whether a value of `shape`, broadcast over `space`, varies along its
    leading axis (so a chunk of rows takes a slice of it)."""
    return len(shape) == len(space) and shape[0] == space[0] != 1


def run_chunked(op, args, chunk):
    """A kernel that computes each row alone (see `_chunkable`) run on about
    `chunk` elements at a time, its results written into arrays allocated
    once: the intermediates stay in cache and are not allocated per op (a
    fresh array of tens of MB costs page faults, at times huge-page
    compaction). A row's values do not depend on the chunking."""
    block, space = op.regions[0].block, op.attrs["space"]
    rows = max(1, chunk // max(1, int(np.prod(space[1:], dtype=np.int64))))
    outs = [np.empty(r.type.shape, r.type.dtype) for r in op.results]
    spans = [_spans(a.shape, space) for a in args]
    for start in range(0, space[0], rows):
        part = slice(start, start + rows)
        env = {id(b): a[part] if s else a for b, a, s in zip(block.args, args, spans)}
        for o in block.ops:
            vals = [env[id(v)] for v in o.operands]
            if family(o) == TERMINATOR_OPS:
                for out, v in zip(outs, vals):
                    out[part] = v
                break
            if family(o) == CONSTANT_OPS:
                results = run_op(o, vals)
            else:
                r = lookup(o.name).reference(*vals, **o.attrs)
                results = [np.asarray(v).astype(t.type.dtype, copy=False)
                           for v, t in zip(r if isinstance(r, tuple) else (r,), o.results)]
            env.update(zip(map(id, o.results), results))
    return outs


def interpret(func, args):
    """Run `func` on `args` (NumPy arrays, one per function argument)."""
    args = [np.asarray(a) for a in args]
    for a, v in zip(func.args, args):
        if a.type.shape != v.shape or a.type.dtype != v.dtype.name:
            raise TypeError(f"interpret: argument {a.type} got array {v.shape} {v.dtype}")
    with np.errstate(all="ignore"):  # NumPy's inf/nan results, without warnings
        return run_block(func.body, args)


class Program:
    """`func` prepared once for repeated interpretation: each op's reference
    and operand slots looked up, constants evaluated. The first run checks
    every result against its type; later runs call a straight-line function
    generated from what the first run saw (NumPy's result types depend only
    on the argument types, which the function fixes), fixing up only the
    results that needed it and dropping each intermediate after its last
    reader. The fast path for small graphs forced again and again; made at
    the second run, since compiling its source costs about ten runs' worth
    of stepping (0.1 s for 8000 steps), which a graph run once never saves."""

    def __init__(self, func):
        slot = {a: i for i, a in enumerate(func.args)}
        self.nargs = len(func.args)
        self.template = [None] * len(func.args)
        self.steps = []
        for op in func.ops:
            fam = family(op)
            if fam == TERMINATOR_OPS:
                self.returns = [slot[v] for v in op.operands]
                break
            ins = [slot[v] for v in op.operands]
            outs = []
            for r in op.results:
                slot[r] = len(self.template)
                self.template.append(None)
                outs.append((slot[r], np.dtype(r.type.dtype), r.type.shape))
            if fam == CONSTANT_OPS:
                (value,) = run_op(op, [])
                self.template[outs[0][0]] = value
            elif fam == KERNEL_OPS:
                block = op.regions[0].block
                self.steps.append((lambda *a, b=block: run_block(b, a), ins, {}, outs))
            elif op.regions:  # control flow: the ops of its regions
                self.steps.append((_region_step(op), ins, {}, outs))
            else:
                self.steps.append((lookup(op.name).reference, ins, op.attrs, outs))
        self.dead = self._dead()
        self.fast = None
        self.fixed = None  # the steps whose results the first run fixed (`_fix`)

    def run(self, args):
        if self.fast is not None:
            return self.fast(*args)
        if self.fixed is not None:
            self.fast = self._generate(self.fixed)
            return self.fast(*args)
        vals = list(args) + self.template[len(args):]
        fixed = set()
        token = quiet_fp()
        try:
            for i, (fn, ins, attrs, outs) in enumerate(self.steps):
                out = fn(*[vals[i] for i in ins], **attrs)
                if len(outs) == 1:
                    out = (out,)
                for o, (k, dtype, shape) in zip(out, outs):
                    if type(o) is not np.ndarray or o.dtype != dtype or o.shape != shape:
                        o = _fix(o, dtype, shape)
                        fixed.add(i)
                    vals[k] = o
                for k in self.dead[i]:  # NumPy reuses the memory of what no later step reads
                    vals[k] = None
        finally:
            restore_fp(token)
        self.fixed = fixed
        return [vals[k] for k in self.returns]

    def _dead(self):
        """Per step, the slots it reads last (neither arguments, constants
        nor results)."""
        last = {}
        for i, (_, ins, _, _) in enumerate(self.steps):
            for k in ins:
                last[k] = i
        keep = set(range(self.nargs)) | set(self.returns)
        keep.update(k for k, v in enumerate(self.template) if v is not None)
        dead = [[] for _ in self.steps]
        for k, i in last.items():
            if k not in keep:
                dead[i].append(k)
        return dead

    def _generate(self, fixed):
        """The straight-line function of the steps; `fixed`: the steps whose
        results needed `_fix`."""
        g = {"quiet_fp": quiet_fp, "restore_fp": restore_fp, "_fix": _fix}
        args = ", ".join(f"v{k}" for k in range(self.nargs))
        lines = [f"def run({args}):", "    token = quiet_fp()", "    try:"]
        for k, v in enumerate(self.template):
            if v is not None:
                g[f"v{k}"] = v   # constants: globals of the function
        for i, (fn, ins, attrs, outs) in enumerate(self.steps):
            g[f"f{i}"], g[f"k{i}"] = fn, attrs
            call = f"f{i}({', '.join(f'v{k}' for k in ins)}{f', **k{i}' if attrs else ''})"
            targets = ", ".join(f"v{k}" for k, _, _ in outs) + ("," if len(outs) == 1 else "")
            lines.append(f"        {targets} = {call}" if len(outs) > 1 else
                         f"        v{outs[0][0]} = {call}")
            for k, dtype, shape in outs if i in fixed else ():
                g[f"d{k}"], g[f"s{k}"] = dtype, shape
                lines.append(f"        v{k} = _fix(v{k}, d{k}, s{k})")
            dead = [f"v{k}" for k in self.dead[i]]
            if dead:
                lines.append(f"        del {', '.join(dead)}")
        if not self.steps:
            lines.append("        pass")
        lines += ["    finally:", "        restore_fp(token)",
                  f"    return [{', '.join(f'v{k}' for k in self.returns)}]"]
        exec("\n".join(lines), g)  # noqa: S102 - our own generated source
        return g["run"]


def _fix(o, dtype, shape):
    return np.asarray(o).astype(dtype, copy=False).reshape(shape)
