"""Rewrites over the IR and a small pass manager.

Each pass takes a `Function`, rewrites it in place and returns it; each is
testable alone (IR text in, IR text out). Every rewrite keeps results
bit-exact with NumPy (the reference interpreter) for every input, NaN, inf
and -0.0 included; the one exception is `power(x, n)` for 3 <= n <= 8 on
float16/float32, which is computed by multiplications in the next wider
float type and stays within 1 ulp of `np.power`.

Passes:
- `canonicalize`: algebraic identities (`x*1`, `x/1`, `x-0`, `--x`, `cast` to
  the same dtype, `!!b`, small integer powers, `x**0.5` -> `sqrt(x)` as
  NumPy does for a scalar exponent, ...);
- `fold_constants`: elementwise ops of rank-0 constants become constants;
- `cse`: identical ops (name, operands, attributes, result types) merge;
- `dce`: ops whose results are unused are removed.

Rewrites run per block in one forward sweep (ops are in topological order and
regions are closed, so every use of a value follows it in its own block):
each op's operands are first renamed through the substitutions made so far.
Everything is iterative and linear-ish: graphs may hold 100k ops.
"""
import abc
import math

import numpy as np

from . import dtypes
from .core import Operation, blocks
from .registry import ELEMENTWISE, ELEMENTWISE_OPS, REDUCTION_OPS, family, lookup

RETURN = "func.return"
YIELD = "lazy.yield"
CONSTANT = "lazy.constant"


# ---------------------------------------------------------------- helpers

def walk(func):
    """Every operation of `func`, nested regions included (iterative)."""
    for b in blocks(func):
        yield from b.ops


def uses(func):
    """Use lists: `{id(value): [(op, operand index), ...]}`."""
    out = {}
    for op in walk(func):
        for i, o in enumerate(op.operands):
            out.setdefault(id(o), []).append((op, i))
    return out


def replace_all_uses(func, old, new):
    """Make every use of value `old` a use of `new`; returns the number of
    uses replaced. Linear in the function; to replace many values at once,
    rewrite with `rewrite_block` instead."""
    n = 0
    for op in walk(func):
        ops = op.operands
        for i, o in enumerate(ops):
            if o is old:
                ops[i] = new
                n += 1
    return n


class Rewriter:
    """What a per-op rewrite function sees: `insert(op)` places a new op
    before the op being rewritten; `loc` is that op's location."""

    __slots__ = ("new_ops", "loc")

    def __init__(self):
        self.new_ops = []
        self.loc = None

    def insert(self, op):
        self.new_ops.append(op)
        return op

    def create(self, name, operands, attrs=None):
        """Insert a new registered op (result types inferred); returns its
        single result or its result list."""
        d = lookup(name)
        attrs = dict(attrs or {})
        op = Operation(d.full_name, operands, d.infer([o.type for o in operands], attrs),
                       attrs, loc=self.loc)
        self.insert(op)
        return op.results[0] if len(op.results) == 1 else op.results


def rewrite_block(block, fn):
    """One forward sweep over `block`: `fn(op, rewriter)` returns None to keep
    `op`, or a list of values replacing its results (the op is dropped and
    every later use renamed). Returns the number of ops replaced."""
    subst = {}   # id(old) -> (old, new); holding `old` keeps its id unique
    rw = Rewriter()
    changed = 0
    for op in block.ops:
        if subst:
            ops = op.operands
            for i, o in enumerate(ops):
                s = subst.get(id(o))
                if s is not None:
                    ops[i] = s[1]
        rw.loc = op.loc
        repl = fn(op, rw)
        if repl is None:
            rw.new_ops.append(op)
            continue
        changed += 1
        for r, v in zip(op.results, repl):
            if v is not r:
                subst[id(r)] = (r, v)
    block.ops = rw.new_ops
    return changed


def _with_type(value, want, rw):
    """`value` as a value of type `want`: itself, or broadcast to its shape;
    None when the dtype differs or the shapes do not broadcast."""
    t = value.type
    if t == want:
        return value
    if t.dtype != want.dtype or len(t.shape) > len(want.shape):
        return None
    for a, b in zip(reversed(t.shape), reversed(want.shape)):
        if a != b and a != 1:
            return None
    return rw.create("lazy.broadcast_to", [value], {"shape": tuple(want.shape)})


def const_array(value):
    """The 0-d NumPy array a `lazy.constant` result holds (as the reference
    interpreter computes it), or None if `value` is not a constant."""
    op = value.owner
    if not isinstance(op, Operation) or op.name != CONSTANT:
        return None
    try:
        with np.errstate(all="ignore"):
            a = np.asarray(op.attrs["value"], dtype=op.attrs["dtype"])
            return a.astype(value.type.dtype).reshape(value.type.shape)
    except (KeyError, TypeError, ValueError, OverflowError):
        return None


def _py_scalar(x, dtype):
    """A NumPy scalar as the Python scalar kind of `dtype`."""
    v = np.asarray(x).astype(dtype).item()
    if dtype == "bool":
        return bool(v)
    if dtypes.is_int(dtype):
        return int(v)
    return float(v)


def _is(value, test):
    c = const_array(value)
    if c is None or c.shape != ():
        return False
    with np.errstate(all="ignore"):
        return bool(test(c))


def _one(c):
    return c == 1


def _zero(c):
    return c == 0


def _pos_zero(c):
    return c == 0 and not np.signbit(c)


def _neg_zero(c):
    return c == 0 and np.signbit(c)


def _is_float(dtype):
    return dtypes.is_float(dtype)


# ---------------------------------------------------------------- pass objects

class Pass(abc.ABC):
    """A named pass: `pass_(func) -> func` (rewrites in place)."""

    name = "pass"

    @abc.abstractmethod
    def run(self, func):
        """Rewrite `func` in place; may return a replacement function."""

    def __call__(self, func):
        out = self.run(func)
        return func if out is None else out

    def __repr__(self):
        return f"<pass {self.name}>"


class BlockRewritePass(Pass):
    """A pass that runs `rewrite_op(op, rewriter)` over every block."""

    def run(self, func):
        self.changed = 0
        for b in blocks(func):
            self.changed += rewrite_block(b, self.rewrite_op)
        return func

    @abc.abstractmethod
    def rewrite_op(self, op, rw):
        """Rewrite one op through the rewriter `rw`."""


# ---------------------------------------------------------------- canonicalize

# Floats whose integer powers are computed by multiplying in a wider type (so
# the result stays within 1 ulp of np.power); float64 has none, so only its
# exact x**2 = x*x is rewritten.
_WIDER = {"float16": "float32", "float32": "float64"}
_MAX_POW = 8
_SQRT_POWER = ("float32", "float64")


class Decompose(BlockRewritePass):
    """Composite ops (var, std) become their registered decompositions; an
    op with regions (switch) gets them too, nested blocks decomposed first,
    so what it inlines holds no composite."""
    name = "decompose"

    def run(self, func):
        self.changed = 0
        for b in reversed(blocks(func)):
            self.changed += rewrite_block(b, self.rewrite_op)
        return func

    def rewrite_op(self, op, rw):
        d = lookup(op.name)
        if d is None or d.decompose is None:
            return None
        if op.regions:
            return d.decompose(rw, op.operands, op.attrs, op.regions)
        return d.decompose(rw, op.operands, op.attrs)


class Canonicalize(BlockRewritePass):
    name = "canonicalize"

    def rewrite_op(self, op, rw):
        if len(op.results) != 1 or op.regions:
            return None
        f = self._RULES.get(op.name)
        if f is None:
            return None
        v = f(self, op, rw)
        return None if v is None else [v]

    # Each rule returns a replacement value of the result's type, or None.
    def _keep(self, op, value, rw):
        return _with_type(value, op.results[0].type, rw)

    def multiply(self, op, rw):
        a, b = op.operands
        if _is(b, _one):                       # x * 1 -> x
            return self._keep(op, a, rw)
        if _is(a, _one):                       # 1 * x -> x
            return self._keep(op, b, rw)
        return None

    def divide(self, op, rw):
        a, b = op.operands
        # Floats only: NumPy divides ints in float64 (inexact beyond 2**53).
        if _is_float(op.results[0].type.dtype) and _is(b, _one):   # x / 1 -> x
            return self._keep(op, a, rw)
        return None

    def subtract(self, op, rw):
        a, b = op.operands
        # x - (+0) -> x holds for floats too (-0.0 - 0.0 = -0.0); x - (-0.0) does not.
        zero = _pos_zero if _is_float(op.results[0].type.dtype) else _zero
        if _is(b, zero):
            return self._keep(op, a, rw)
        return None

    def add(self, op, rw):
        a, b = op.operands
        # x + 0 -> x only for ints and bools (-0.0 + 0.0 = +0.0); for floats
        # x + (-0.0) -> x is exact.
        zero = _neg_zero if _is_float(op.results[0].type.dtype) else _zero
        if _is(b, zero):
            return self._keep(op, a, rw)
        if _is(a, zero):
            return self._keep(op, b, rw)
        return None

    def _involution(self, op, rw):
        (x,) = op.operands
        inner = x.owner
        if isinstance(inner, Operation) and inner.name == op.name and len(inner.operands) == 1:
            return self._keep(op, inner.operands[0], rw)   # f(f(x)) -> x
        return None

    def negative(self, op, rw):
        return self._involution(op, rw)

    def logical_not(self, op, rw):
        # Only for bool x: the type check rejects not(not(float)) -> float.
        return self._involution(op, rw)

    def cast(self, op, rw):
        (x,) = op.operands
        if op.attrs.get("dtype") == x.type.dtype:
            return self._keep(op, x, rw)
        return None

    def power(self, op, rw):
        x, c = op.operands
        ca = const_array(c)
        if ca is None or ca.shape != ():
            return None
        with np.errstate(all="ignore"):
            fv = float(ca)
        rt = op.results[0].type
        dt = rt.dtype
        if fv == 0.5 and dt in _SQRT_POWER and x.type.dtype == dt:
            # NumPy's float32/float64 power takes sqrt for a scalar exponent
            # of 0.5: sqrt(-inf) = nan and sqrt(-0.0) = -0.0, where C's pow
            # gives inf and +0.0.
            return self._keep(op, rw.create("lazy.sqrt", [x]), rw)
        if not math.isfinite(fv) or fv != math.floor(fv):
            return None
        n = int(fv)
        if dt not in dtypes.SUPPORTED:
            return None
        if n == 0:    # x**0 == 1 for every x, NaN included
            one = rw.create(CONSTANT, [], {"value": _py_scalar(1, dt), "dtype": dt})
            return self._keep(op, one, rw)
        if x.type.dtype != dt:
            return None
        if n == 1:
            return self._keep(op, x, rw)
        if n == -1 and _is_float(dt):   # x**-1 -> 1/x (exact)
            one = rw.create(CONSTANT, [], {"value": 1.0, "dtype": dt})
            return self._keep(op, rw.create("lazy.divide", [one, x]), rw)
        if not 2 <= n <= _MAX_POW:
            return None
        if dtypes.is_int(dt) or (_is_float(dt) and n == 2):
            return self._keep(op, _pow_by_squaring(x, n, rw), rw)   # ints: wrap, exact
        wide = _WIDER.get(dt)
        if wide is None:
            return None
        xw = rw.create("lazy.cast", [x], {"dtype": wide})
        y = rw.create("lazy.cast", [_pow_by_squaring(xw, n, rw)], {"dtype": dt})
        return self._keep(op, y, rw)

    _RULES = {
        "lazy.multiply": multiply,
        "lazy.divide": divide,
        "lazy.subtract": subtract,
        "lazy.add": add,
        "lazy.negative": negative,
        "lazy.logical_not": logical_not,
        "lazy.cast": cast,
        "lazy.power": power,
    }


def _pow_by_squaring(x, n, rw):
    """x**n (n >= 1) by binary exponentiation: x*x, x*(x*x), (x*x)*(x*x), ..."""
    result, base = None, x
    while True:
        if n & 1:
            result = base if result is None else rw.create("lazy.multiply", [result, base])
        n >>= 1
        if not n:
            return result
        base = rw.create("lazy.multiply", [base, base])


# ---------------------------------------------------------------- constant folding

class FoldConstants(BlockRewritePass):
    name = "fold_constants"

    def rewrite_op(self, op, rw):
        if len(op.results) != 1 or op.regions or not op.operands:
            return None
        d = lookup(op.name)
        if d is None or not d.has(ELEMENTWISE) or d.reference is None:
            return None
        args = []
        for o in op.operands:
            a = const_array(o)
            if a is None or a.shape != ():
                return None
            args.append(a)
        rt = op.results[0].type
        if rt.shape != () or rt.dtype not in dtypes.SUPPORTED:
            return None
        try:
            with np.errstate(all="ignore"):
                out = d.reference(*args, **op.attrs)
                out = np.asarray(out).astype(rt.dtype).reshape(())
        except Exception:  # noqa: BLE001 - e.g. integers to negative powers: leave it
            return None
        value = _py_scalar(out, rt.dtype)
        return [rw.create(CONSTANT, [], {"value": value, "dtype": rt.dtype})]


# ---------------------------------------------------------------- CSE

class CSE(Pass):
    name = "cse"

    def run(self, func):
        from .printer import format_attrs
        self.changed = 0
        for b in blocks(func):
            seen, reduced = {}, {}   # per block: regions are closed

            def merge(op, rw, seen=seen, reduced=reduced):
                if not op.results or op.regions:
                    return None
                _drop_leading_ones(op)
                # The attribute text tells -0.0 from 0.0, and 1 from 1.0 and true.
                key = (op.name, tuple([id(o) for o in op.operands]),
                       format_attrs(op) if op.attrs else "",
                       tuple([r.type for r in op.results]))
                prev = seen.get(key)
                if prev is not None:
                    return prev.results
                twin = _keepdims_twin(op, reduced, rw)
                seen[key] = op if twin is None else twin[0].owner
                return twin

            self.changed += rewrite_block(b, merge)
        return func


def _drop_leading_ones(op):
    """An elementwise op reads `reshape(v)` that only prepends size-1 axes as
    `v` itself: broadcasting prepends them anyway (so `x - reshape(m)` and
    `x - m` merge)."""
    if family(op) != ELEMENTWISE_OPS:
        return
    rank = len(op.results[0].type.shape)
    for i, o in enumerate(op.operands):
        p = o.owner
        if isinstance(p, Operation) and p.name == "lazy.reshape" and len(o.type.shape) <= rank:
            inner = p.operands[0].type.shape
            k = len(o.type.shape) - len(inner)
            if k > 0 and o.type.shape[k:] == inner and all(d == 1 for d in o.type.shape[:k]):
                op.operands[i] = p.operands[0]


def _keepdims_twin(op, reduced, rw):
    """A reduction computed before with the other `keepdims` (a user's
    `mean(x, 0)` beside the `mean(x, 0, keepdims=True)` inside `std(x, 0)`):
    this one becomes a reshape of it, so the input is reduced once. Only
    over leading axes, where the reshape prepends size-1 axes that
    elementwise readers drop (`_drop_leading_ones`): a row kernel cannot read
    a view of its own reduction. `reduced`: (name, operands, other
    attributes, dtype) -> earlier reduction."""
    from .printer import format_attrs
    if "keepdims" not in op.attrs or len(op.results) != 1 or family(op) != REDUCTION_OPS:
        return None
    axes = op.attrs.get("axis")
    if axes is None or sorted(axes) != list(range(len(axes))):
        return None
    rest = Operation(op.name, [], [], {k: v for k, v in op.attrs.items() if k != "keepdims"})
    key = (op.name, tuple([id(o) for o in op.operands]), format_attrs(rest), op.results[0].type.dtype)
    prev = reduced.setdefault(key, op)
    if prev is op:
        return None
    return [rw.create("lazy.reshape", [prev.results[0]], {"shape": list(op.results[0].type.shape)})]


# ---------------------------------------------------------------- DCE

class DCE(Pass):
    name = "dce"

    def run(self, func):
        self.changed = 0
        stack = [func.body]
        while stack:
            b = stack.pop()
            live, keep = set(), []
            for op in reversed(b.ops):
                if op.results and not any(id(r) in live for r in op.results):
                    self.changed += 1
                    continue
                keep.append(op)
                live.update(id(o) for o in op.operands)
                for r in op.regions:
                    stack.extend(r.blocks)
            keep.reverse()
            b.ops = keep
        return func


class Verify(Pass):
    name = "verify"

    def run(self, func):
        from .verifier import verify
        return verify(func)


decompose = Decompose()
canonicalize = Canonicalize()
fold_constants = FoldConstants()
cse = CSE()
dce = DCE()
verify_pass = Verify()


# ---------------------------------------------------------------- pass manager

def pass_name(p):
    return getattr(p, "name", None) or getattr(p, "__name__", None) or repr(p)


class PassManager:
    """Runs passes in order. Each pass is a callable `func -> func` (a `Pass`,
    or a plain function; a None return means "rewritten in place").

    verify_each: verify the input and the output of every pass; a failure
        names the pass that broke the function.
    callback: `callback(pass_name, func)` after each pass (e.g. to print the IR).
    """

    def __init__(self, passes, verify_each=False, callback=None):
        self.passes = list(passes)
        self.verify_each = verify_each
        self.callback = callback

    def __iter__(self):
        return iter(self.passes)

    def __len__(self):
        return len(self.passes)

    def __repr__(self):
        return f"PassManager([{', '.join(pass_name(p) for p in self.passes)}])"

    def run(self, func, callback=None):
        from .verifier import VerificationError, verify
        callback = callback or self.callback
        if self.verify_each:
            try:
                verify(func)
            except VerificationError as e:
                raise VerificationError(f"before the passes: {e}") from e
        for p in self.passes:
            out = p(func)
            if out is not None:
                func = out
            name = pass_name(p)
            if self.verify_each:
                try:
                    verify(func)
                except VerificationError as e:
                    raise VerificationError(f"after pass {name}: {e}") from e
            if callback is not None:
                callback(name, func)
        return func

    __call__ = run


def default_pipeline(verify_each=False, callback=None):
    """decompose, canonicalize, fold_constants, cse, canonicalize, dce (a
    PassManager; iterate it for the list of passes)."""
    return PassManager([decompose, canonicalize, fold_constants, cse, canonicalize, dce],
                       verify_each=verify_each, callback=callback)


def optimize(func, verify_each=False, callback=None):
    """Run the default pipeline on `func` (in place); returns it."""
    return default_pipeline(verify_each, callback).run(func)


__all__ = ["PassManager", "Pass", "BlockRewritePass", "Rewriter", "default_pipeline", "optimize",
           "decompose", "canonicalize", "fold_constants", "cse", "dce", "verify_pass",
           "Decompose", "Canonicalize", "FoldConstants", "CSE", "DCE", "Verify",
           "replace_all_uses", "rewrite_block", "uses", "walk", "blocks", "const_array",
           "pass_name"]
