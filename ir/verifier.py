"""The IR verifier: `verify(func)` raises `VerificationError` on the first
ill-formed construct, naming the op, its location and its text.

Checks:
- every op is registered under its full name (`lazy.add`); `func.return` only
  ends the function body;
- operand count matches `OpDef.arity` (None = variadic);
- attributes match the op's schema: no unknown or missing keys, each value of
  its kind ("ints", "int", "bool", "str", "dtype", "scalar"); a reduction's
  `axis` is sorted, unique and in range;
- result types equal what `OpDef.infer` gives (where the op has `infer`);
- elementwise operands share one dtype after their leading bool conditions
  (`OpDef.conditions`: `where`'s one, `select`'s n), except ops marked
  `mixed_dtypes` (`isclose` converts its operands itself);
- SSA dominance: each operand is defined earlier in the same block or is an
  argument of that block. Regions are closed: a kernel body reads outer
  values only through the kernel's operands, bound to its block arguments;
- each block ends with its terminator (`func.return` for the function body,
  `lazy.yield` for a region), and no terminator sits in the middle;
- `lazy.kernel`: one region of one block, whose argument types are the
  kernel's operand types and whose yield operand types are its result types;
- the function returns its declared result types (`Function.result_types`).

The walk is iterative and linear: graphs may hold 100k ops.
"""
import numpy as np

from . import dtypes
from .core import blocks
from .registry import CONTROL_FLOW, ELEMENTWISE, GRADIENT, REDUCTION, lookup
from .types import TensorType

RETURN = "func.return"
YIELD = "lazy.yield"
KERNEL = "lazy.kernel"
TERMINATORS = (RETURN, YIELD)



def _yielded(block):
    """The types a region block yields, or None where it does not end in a
    yield (a missing terminator is reported on its own)."""
    term = block.ops[-1] if block.ops else None
    return [v.type for v in term.operands] if term is not None and term.name == YIELD else None

class VerificationError(ValueError):
    pass


def _is_int(v):
    return isinstance(v, (int, np.integer)) and not isinstance(v, (bool, np.bool_))


def _check_kind(kind, v):
    """None if `v` is a valid value of schema `kind`, else what was expected."""
    if kind == "ints":
        if isinstance(v, (tuple, list)) and all(_is_int(e) for e in v):
            return None
        return "a list of ints"
    if kind == "int":
        return None if _is_int(v) else "an int"
    if kind == "bool":
        return None if isinstance(v, (bool, np.bool_)) else "a bool"
    if kind == "str":
        return None if isinstance(v, str) else "a string"
    if kind == "dtype":
        return None if isinstance(v, str) and v in dtypes.SHORT else \
            f"a dtype (one of {', '.join(dtypes.SHORT)})"
    if kind == "scalar":
        ok = isinstance(v, (bool, int, float, np.bool_, np.integer, np.floating))
        return None if ok else "a Python scalar (bool, int or float)"
    return None  # a schema kind this verifier does not know: not checked


class _Verifier:
    def __init__(self, func):
        self.func = func
        self._names = None

    # -- messages
    def fail(self, op, msg, where=""):
        from .printer import op_head, value_names
        try:
            if self._names is None:
                self._names = value_names(self.func)
            text = op_head(op, self._names)
        except Exception:  # an unprintable op: the message still names it
            text = None
        name = getattr(op, "name", repr(op))
        loc = getattr(op, "loc", None)
        at = f" at {loc}" if loc is not None else " (no location)"
        msg = f"verify: {name}{at}{where}: {msg}"
        if text:
            msg += f"\n    {text}"
        raise VerificationError(msg)

    def vname(self, v):
        from .printer import value_names
        try:
            if self._names is None:
                self._names = value_names(self.func)
            return self._names[v]
        except Exception:
            return repr(v)

    # -- walk
    def run(self):
        func = self.func
        body = getattr(func, "body", None)
        if body is None:
            raise VerificationError("verify: not a Function")
        # (block, terminator name, description of where)
        stack = [(body, RETURN, "function body", None)]
        while stack:
            block, term, where, owner = stack.pop()
            self.block(block, term, where, owner, stack)
        self.returns(body)

    def block(self, block, term, where, owner, stack):
        ops = block.ops
        if not ops:
            what = "a function body" if term == RETURN else f"a region of {owner.name}"
            if owner is not None:
                self.fail(owner, f"{what} is empty; it must end with {term}")
            raise VerificationError(f"verify: {what} is empty; it must end with {term}")
        defined = {id(a) for a in block.args}
        last = len(ops) - 1
        for i, op in enumerate(ops):
            w = f" (op #{i} of the {where})"
            name = op.name
            if name in TERMINATORS:
                if i != last:
                    self.fail(op, f"terminator {name} in the middle of a block; "
                                  "it must be the block's last op", w)
                if name != term:
                    self.fail(op, f"{name} cannot end the {where}; it must end with {term}", w)
            elif i == last:
                self.fail(op, f"the {where} must end with {term}, not {name}", w)
            for k, o in enumerate(op.operands):
                if id(o) not in defined:
                    self.fail(op, self.undefined(o, block, k), w)
            for j, r in enumerate(op.results):
                if r.owner is not op or r.index != j:
                    self.fail(op, f"result #{j} {self.vname(r)} is not owned by this op", w)
                if id(r) in defined:
                    self.fail(op, f"value {self.vname(r)} is defined twice", w)
            self.op(op, w)
            defined.update(id(r) for r in op.results)
            for ri, region in enumerate(op.regions):
                for bi, b in enumerate(region.blocks):
                    stack.append((b, YIELD, f"block {bi} of region {ri} of {name}", op))

    def undefined(self, v, block, k):
        """Why operand #k, `v`, is not visible here (slow path: errors only)."""
        n = self.vname(v)
        owner = v.owner
        if owner is block or any(r is v for op in block.ops for r in op.results):
            return (f"operand #{k} {n} is used before its definition "
                    "(SSA values must be defined before use)")
        for b in self.all_blocks():
            if owner is b or any(r is v for op in b.ops for r in op.results):
                return (f"operand #{k} {n} is defined outside this block; regions are closed: "
                        "pass outer values as operands of the region's op and use its "
                        "block arguments")
        return f"operand #{k} {n} is not defined in this function"

    def all_blocks(self):
        return blocks(self.func)

    # -- one op
    def op(self, op, w):
        name = op.name
        if name == RETURN:
            if op.results or op.attrs or op.regions:
                self.fail(op, "func.return takes no results, attributes or regions", w)
            return
        d = lookup(name)
        if d is None or d.full_name != name:
            hint = f" (did you mean {d.full_name}?)" if d is not None else ""
            self.fail(op, f"unknown operation {name!r}{hint}", w)
        if d.arity is not None and len(op.operands) != d.arity:
            self.fail(op, f"expects {d.arity} operand(s), got {len(op.operands)}", w)
        self.attrs(op, d, w)
        types = [o.type for o in op.operands]
        if d.has(ELEMENTWISE) and name != "lazy.cast" and types:
            self.elementwise_dtypes(op, types, w)
        if name == KERNEL:
            self.kernel(op, w)
        elif d.has(GRADIENT):
            self.gradient(op, w)
        elif name == "lazy.switch":
            self.switch(op, w)
        elif name == "lazy.scan":
            self.scan(op, w)
        elif name == "lazy.while":
            self.while_(op, w)
        elif op.regions and not d.has(CONTROL_FLOW):
            self.fail(op, f"{name} takes no regions, got {len(op.regions)}", w)
        elif name == YIELD and op.results:
            self.fail(op, "lazy.yield has no results", w)
        if d.infer is not None:
            try:
                expected = list(d.infer(types, op.attrs))
            except Exception as e:  # noqa: BLE001 - any failure is a type error here
                self.fail(op, f"type inference failed for operand types "
                              f"({', '.join(map(str, types))}): {e}", w)
            got = [r.type for r in op.results]
            if got != expected:
                self.fail(op, f"result types ({', '.join(map(str, got))}) differ from the "
                              f"inferred ({', '.join(map(str, expected))})", w)

    def attrs(self, op, d, w):
        schema = d.attrs
        attrs = op.attrs
        unknown = sorted(set(attrs) - set(schema), key=str)
        if unknown:
            allowed = ", ".join(sorted(schema)) or "none"
            self.fail(op, f"unknown attribute(s) {', '.join(map(str, unknown))} "
                          f"(allowed: {allowed})", w)
        missing = sorted(set(schema) - set(attrs))
        if missing:
            self.fail(op, f"missing attribute(s) {', '.join(missing)}", w)
        for key, kind in schema.items():
            bad = _check_kind(kind, attrs[key])
            if bad is not None:
                self.fail(op, f"attribute {key} = {attrs[key]!r} must be {bad}", w)
        if d.has(REDUCTION) and "axis" in schema and len(op.operands) == 1:
            axis = tuple(int(a) for a in attrs["axis"])
            rank = len(op.operands[0].type.shape)
            if any(not 0 <= a < rank for a in axis):
                self.fail(op, f"axis {list(axis)} out of range for an operand of rank {rank}", w)
            if len(set(axis)) != len(axis):
                self.fail(op, f"axis {list(axis)} repeats an axis", w)
            if list(axis) != sorted(axis):
                self.fail(op, f"axis {list(axis)} is not sorted", w)

    def elementwise_dtypes(self, op, types, w):
        d = lookup(op.name)
        if d.mixed_dtypes:
            return
        n = d.conditions(op.attrs) if d.conditions else 0
        for k, t in enumerate(types[:n]):
            if t.dtype != "bool":
                self.fail(op, f"the condition (operand #{k}) must be bool, got {t}", w)
        types = types[n:]
        dts = [t.dtype for t in types]
        if len(set(dts)) > 1:
            self.fail(op, "elementwise operands must share one dtype (the front end casts "
                          f"to the compute dtype), got {', '.join(map(str, types))}", w)

    def gradient(self, op, w):
        """custom_gradient: at most one region of one block whose arguments
        are an upstream per output, then the captured operands, and which
        yields one gradient per input, of the input's type."""
        if not op.regions:
            return
        n_in, n_out = op.attrs.get("inputs", 0), op.attrs.get("outputs", 0)
        if len(op.regions) != 1 or len(op.regions[0].blocks) != 1:
            self.fail(op, "a custom_gradient holds at most one region of one block", w)
        block = op.regions[0].blocks[0]
        types = [o.type for o in op.operands]
        want = types[n_in:n_in + n_out] + types[n_in + n_out:]
        got = [a.type for a in block.args]
        if got != want:
            self.fail(op, f"the gradient's block arguments ({', '.join(map(str, got))}) must be "
                          f"the outputs' and the captures' types ({', '.join(map(str, want))})", w)
        yt = _yielded(block)
        if yt is not None and yt != types[:n_in]:
            self.fail(op, f"the gradient yields ({', '.join(map(str, yt))}), not one "
                          f"gradient per input ({', '.join(map(str, types[:n_in]))})", w)

    def scan(self, op, w):
        """One region over the carries, one step's slice of each scanned
        operand and the captures, yielding carries of the carries' types
        (as MLIR's scf.for checks its iter_args), then the step's outputs,
        which the results stack over `length` steps."""
        k, j, n = op.attrs.get("carries", 0), op.attrs.get("xs", 0), op.attrs.get("length", 0)
        types = [o.type for o in op.operands]
        if len(op.regions) != 1 or k + j > len(types):
            self.fail(op, f"a scan holds one region over {k} carries and {j} scanned operands, "
                          f"got {len(op.regions)} region(s) and {len(types)} operand(s)", w)
            return
        carry, scanned, captured = types[:k], types[k:k + j], types[k + j:]
        if any(not t.shape or t.shape[0] != n for t in scanned):
            self.fail(op, f"every scanned operand needs a leading axis of `length` {n}", w)
            return
        block = op.regions[0].blocks[0]
        want = carry + [TensorType(t.shape[1:], t.dtype) for t in scanned] + captured
        if [a.type for a in block.args] != want:
            self.fail(op, "the body's block arguments must be the carries, a step's slices "
                          "and the captures", w)
        yt = _yielded(block)
        if yt is None:
            return
        if yt[:k] != carry:
            self.fail(op, f"the body yields carries ({', '.join(map(str, yt[:k]))}), not of the "
                          f"carries' types ({', '.join(map(str, carry))})", w)
        stacked = carry + [TensorType((n,) + t.shape, t.dtype) for t in yt[k:]]
        if [r.type for r in op.results] != stacked:
            self.fail(op, "the results must be the carries, then each step output stacked", w)

    def while_(self, op, w):
        """Two regions: the condition over the carries and its captures,
        yielding a 0-d bool; the body over the carries and its captures,
        yielding carries of the carries' types, which are the results."""
        k, c1 = op.attrs.get("carries", 0), op.attrs.get("cond_captures", 0)
        types = [o.type for o in op.operands]
        if len(op.regions) != 2 or k + c1 > len(types):
            self.fail(op, f"a while holds a condition and a body over {k} carries, got "
                          f"{len(op.regions)} region(s) and {len(types)} operand(s)", w)
            return
        carry = types[:k]
        cond, body = (r.blocks[0] for r in op.regions)
        if [a.type for a in cond.args] != carry + types[k:k + c1] \
                or [a.type for a in body.args] != carry + types[k + c1:]:
            self.fail(op, "the condition's and the body's block arguments must be the carries "
                          "and their captures", w)
        yt = _yielded(cond)
        if yt is not None and yt != [TensorType((), "bool")]:
            self.fail(op, f"the condition yields ({', '.join(map(str, yt))}), not one 0-d bool", w)
        yt = _yielded(body)
        if yt is not None and yt != carry:
            self.fail(op, f"the body yields ({', '.join(map(str, yt))}), not the carries' types "
                          f"({', '.join(map(str, carry))})", w)
        if [r.type for r in op.results] != carry:
            self.fail(op, "the results must be the carries", w)

    def switch(self, op, w):
        """A region per branch, each over its own captures (the operands after
        the int32 0-d index, `captures[k]` for branch k), each yielding the
        op's result types."""
        counts = list(op.attrs.get("captures", ()))
        if len(op.regions) != len(counts) or not counts:
            self.fail(op, f"a switch holds one region per branch ({len(counts)} in `captures`), "
                          f"got {len(op.regions)}", w)
            return
        if not op.operands or op.operands[0].type.shape != () \
                or op.operands[0].type.dtype != "int32":
            self.fail(op, "the branch index (operand #0) must be a 0-d int32", w)
        types = [o.type for o in op.operands[1:]]
        if sum(counts) != len(types):
            self.fail(op, f"`captures` {counts} does not cover the {len(types)} captured operands",
                      w)
        rt = [r.type for r in op.results]
        first = 0
        for k, (region, n) in enumerate(zip(op.regions, counts)):
            block = region.blocks[0]
            if [a.type for a in block.args] != types[first:first + n]:
                self.fail(op, f"branch {k}'s block arguments differ from its captures", w)
            first += n
            yt = _yielded(block)
            if yt is not None and yt != rt:
                self.fail(op, f"branch {k} yields ({', '.join(map(str, yt))}), not the results "
                              f"({', '.join(map(str, rt))})", w)

    def kernel(self, op, w):
        if len(op.regions) != 1 or len(op.regions[0].blocks) != 1:
            shape = [len(r.blocks) for r in op.regions]
            self.fail(op, f"a kernel holds exactly one region of one block, got "
                          f"{len(op.regions)} region(s) with {shape} block(s)", w)
        block = op.regions[0].blocks[0]
        arg_types = [a.type for a in block.args]
        opd_types = [o.type for o in op.operands]
        if arg_types != opd_types:
            self.fail(op, f"operand types ({', '.join(map(str, opd_types))}) differ from the "
                          f"region's block argument types ({', '.join(map(str, arg_types))})", w)
        yt, rt = _yielded(block), [r.type for r in op.results]
        if yt is not None and yt != rt:
            self.fail(op, f"result types ({', '.join(map(str, rt))}) differ from the "
                          f"types the region yields ({', '.join(map(str, yt))})", w)

    def returns(self, body):
        declared = getattr(self.func, "result_types", None)
        if declared is None:
            return
        ret = body.ops[-1]
        got = [v.type for v in ret.operands]
        if list(declared) != got:
            self.fail(ret, f"returns ({', '.join(map(str, got))}) but the function declares "
                           f"({', '.join(map(str, declared))})", " (function body)")


def verify(func):
    """Check `func`; raise `VerificationError` naming the op and location of
    the first problem. Returns `func` (so it can serve as a pass)."""
    _Verifier(func).run()
    return func


__all__ = ["verify", "VerificationError"]
