"""Recording: each API call becomes a detached operation with its result
types inferred at once, the user's source location and a hash-consed
structural key (`node`) that lets a force find its plan without walking the
graph."""
import itertools
import operator
import os
import sys

from .ir.core import Block, Location, Operation, Value, signature
from .ir.dtypes import FLOAT8, is_complex
from .ir.registry import COMPLEX_OK, lookup
from .ir.types import TensorType

_PKG_DIR = os.path.dirname(os.path.dirname(os.path.abspath(__file__)))
_INTERNAL = tuple(os.path.join(_PKG_DIR, d) + os.sep for d in ("lazyops", "ir", "scheduler", "codegen"))
# The demo (`python -m lazyops demo`) is a user program shipped inside the
# package: its pipeline lines are the user's code there.
_USER_INSIDE = os.path.join(_PKG_DIR, "lazyops", "__main__.py")


def _user_file(path):
    """The base name a location shows for code in `path`, or None where the
    code is not the user's: lazyops itself, and the frozen modules (`runpy`,
    import machinery) that run a user's module under `python -m`."""
    if path.startswith(_INTERNAL) and path != _USER_INSIDE or path.startswith("<frozen "):
        return None
    return os.path.basename(path)


# Both tables are keyed by the code object's id and hold the object itself,
# checked by identity: code objects compare by content, so two files' `t =
# x + 1` compiled alike would share an entry (and an id is hashed faster).
_files = {}  # id(code) -> (code, its file's base name, or None where not the user's)
# (id(code), instruction offset) -> (code, its Location) (`f_lineno` costs
# four times `f_lasti`, and a call site is one offset)
_locations = {}


def user_location(depth=1):
    """File and line of the first caller frame outside lazyops, looking from
    the frame `depth` levels above the caller."""
    f = sys._getframe(depth)
    while f is not None:
        code = f.f_code
        known = _files.get(id(code))
        if known is None or known[0] is not code:
            if len(_files) > 1 << 14:
                _files.clear()
            known = _files[id(code)] = code, _user_file(code.co_filename)
        if known[1] is not None:
            key = (id(code), f.f_lasti)
            hit = _locations.get(key)
            if hit is None or hit[0] is not code:
                if len(_locations) > 1 << 14:
                    _locations.clear()
                hit = _locations[key] = code, Location(known[1], f.f_lineno)
            return hit[1]
        f = f.f_back
    return None


# The ops recorded while a function is traced into a region (innermost last;
# see lazyops/regions.py): they form its body.
TRACES = []


class TracedValueError(TypeError):
    """A function being traced into a region (a loop body, a branch) turned a
    value computed from its symbolic arguments into a Python value."""


def check_not_traced(v, kind):
    """Raise `TracedValueError` where `v` is computed from the arguments of a
    function being traced: `if x > 0:` on them has no value to decide by."""
    if not TRACES or v.data is not None or not _from_block(v):
        return
    raise TracedValueError(
        f"a function traced by lazyops (the body of `scan`, `fori_loop`, `while_loop`, "
        f"`map`, `vectorized_map`, the function of `associative_scan`, or a branch of `cond` "
        f"or `switch`) converted a tensor computed from its arguments to a Python {kind} "
        "(`if x > 0:`, `float(x)`, `int(x)`): such functions are called once on symbolic "
        "tensors, so Python control flow cannot depend on their values. Use `lazyops.cond` "
        "or `lazyops.switch` to branch, `lazyops.where` to choose elementwise, and "
        "`lazyops.while_loop` for a loop whose length depends on the data.")


def _from_block(v):
    """Whether unmaterialized `v` is computed from a block argument (a value
    of a region being traced)."""
    seen, todo = set(), [v]
    while todo:
        w = todo.pop()
        if id(w) in seen or w.data is not None:
            continue
        seen.add(id(w))
        if w.recipe is not None:
            todo.extend(w.recipe[1])
            continue
        owner = w._owner
        if owner is None:
            continue
        if isinstance(owner, Block):  # `w` is one of its arguments
            return True
        todo.extend(owner.operands)
    return False

# (op, then each operand's type key, then attribute items) ->
# (full name, result types, signature, the signature's interned id)
_inferred = {}
_TYPE_KEY = operator.attrgetter("type.key")


def record(name, operands, attrs=None, result_types=None):
    """Record a detached operation; returns the result Value(s)."""
    attrs = dict(attrs) if attrs else {}
    sig = None
    if result_types is None:
        try:
            key = (name, *map(_TYPE_KEY, operands), *attrs.items())
            full, result_types, sig, _ = _inferred[key]
        except TypeError:  # unhashable attributes (lists)
            full, result_types, sig, _ = _infer(name, operands, attrs)
        except KeyError:
            if len(_inferred) > 1 << 16:
                _inferred.clear()
            full, result_types, sig, _ = _inferred[key] = _infer(name, operands, attrs)
    else:
        full = lookup(name).full_name
        sig = signature(full, attrs, result_types)
    loc = user_location(2)
    if len(result_types) != 1 or TRACES:
        op = Operation.detached(full, list(operands), result_types, attrs, loc, sig)
        if TRACES:
            TRACES[-1].add(op)
        if len(op.results) != 1:
            return op.results
        r = op.results[0]
        r.node = _node(op.signature(), operands)
        return r
    r = Value(result_types[0])
    r.recipe = (full, list(operands), attrs, loc, sig)
    r.node = _node(sig, operands)
    return r


# The hot paths of operators and plain elementwise functions: `record(name,
# [a])` and `record(name, [a, b])` for an op without attributes whose types
# were inferred before (`record_unary` gives None when they were not).
# `depth`: `sys._getframe(depth)` there is where the user's code should be.

def record_unary(name, a, depth, attrs=None):
    """`attrs`: the op's attributes, hashable, as `record` keys them (a
    reduction's axis and keepdims); None: it has none."""
    entry = _inferred.get((name, a.type.key) if attrs is None else
                          (name, a.type.key, *attrs.items()))
    if entry is None:
        return None
    f = sys._getframe(depth)  # (`user_location`'s common case, inline)
    code = f.f_code
    loc = _locations.get((id(code), f.f_lasti))
    loc = loc[1] if loc is not None and loc[0] is code else user_location(depth + 1)
    r = Value(entry[1][0])
    r.recipe = (entry[0], [a], None if attrs is None else dict(attrs), loc, entry[2])
    r.node = _unary_node(entry[3], a)
    if TRACES:
        TRACES[-1].add(r.owner)
    return r


def binary_entry(name, a, b):
    """What `record` infers for op `name` without attributes over `a` and
    `b` (the entry `record_binary` takes), where it inferred it before; else
    None."""
    return _inferred.get((name, a.type.key, b.type.key))


def record_binary(entry, a, b, depth):
    """`record(name, [a, b])`, given its `binary_entry`."""
    f = sys._getframe(depth)  # (`user_location`'s common case, inline)
    code = f.f_code
    loc = _locations.get((id(code), f.f_lasti))
    loc = loc[1] if loc is not None and loc[0] is code else user_location(depth + 1)
    r = Value(entry[1][0])
    r.recipe = (entry[0], [a, b], None, loc, entry[2])
    r.node = _binary_node(entry[3], a, b)
    if TRACES:
        TRACES[-1].add(r.owner)
    return r


def _infer(name, operands, attrs):
    d = lookup(name)
    if not d.complex_ok and any(is_complex(v.type.dtype) for v in operands):
        raise TypeError(f"{d.name}: complex64 operands are not supported by this op; "
                        f"ops that take them: {', '.join(sorted(COMPLEX_OK))} and views")
    if not d.float8_ok and any(v.type.dtype in FLOAT8 for v in operands):
        raise TypeError(f"{d.name}: float8 operands are not supported by this op (as in "
                        "Keras, which refuses implicit conversions from them): cast them to a "
                        "wider float first, e.g. cast(x, 'float32')")
    types = d.infer([v.type for v in operands], attrs)
    sig = signature(d.full_name, attrs, types)
    return d.full_name, types, sig, _intern(sig)


# A value's node is (id, leaves, epoch). Equal ids mean equal graphs once
# unfolded into trees, up to the leaves' data: the id interns the op's
# signature, its operands' ids and, per operand, the positions of its leaves
# among the value's leaves (so `x - x` and `x - y` differ). Pure ops make a
# plan built from one such graph right for all of them. `epoch` is FORCES[0]
# when the oldest op below was recorded: a force since then may have turned
# a value below into a leaf, so the node is stale unless it equals FORCES[0]
# (constants, shared by many graphs, do not age them). A stale node is still
# right, only slower: the engine then walks the graph.
FORCES = [0]  # graphs forced so far
_NEVER = 1 << 62
_ids = {}
_next_id = itertools.count(1).__next__
_MAX_LEAVES = 16


def _part(v):
    """An operand's (key, leaves, epoch): its node, or itself as a leaf (its
    type's key, negative: node ids are positive); None where it has no
    node."""
    if v.data is None:
        return v.node
    return -1 - v.type.key, (v,), _NEVER


def _node(sig, operands):
    """The node of an op of signature `sig` over `operands`."""
    if len(operands) == 1:
        return _unary_node(_ids.get(sig) or _intern(sig), operands[0])
    if len(operands) == 2:
        return _binary_node(_ids.get(sig) or _intern(sig), *operands)
    return _general_node(sig, operands)


def _unary_node(sig, a):
    """`_node` of a one-operand op; `sig`: the interned id of its signature."""
    epoch = FORCES[0]
    if a.data is not None:
        key = sig, -1 - a.type.key
        return _ids.get(key) or _intern(key), (a,), epoch
    pa = a.node
    if pa is None:
        return None
    key = sig, pa[0]
    return _ids.get(key) or _intern(key), pa[1], pa[2] if pa[2] < epoch else epoch


def _binary_node(sig, a, b):
    """`_node` of a two-operand op (the common case, unrolled); `sig`: the
    interned id of the op's signature."""
    if a.data is None:
        pa = a.node
        if pa is None:
            return None
    else:
        pa = -1 - a.type.key, (a,), _NEVER
    ka, la, epoch = pa
    if b.data is not None:  # b a leaf (a scalar, an input): the common case, unpacked
        if epoch > FORCES[0]:
            epoch = FORCES[0]
        kb = -1 - b.type.key
        if b in la:
            leaves, key = la, (sig, ka, kb, la.index(b))
        else:
            leaves, key = la + (b,), (sig, ka, kb)
        if len(leaves) > _MAX_LEAVES:
            return None
        return _ids.get(key) or _intern(key), leaves, epoch
    pb = b.node
    if pb is None:
        return None
    kb, lb, eb = pb
    if epoch > FORCES[0]:
        epoch = FORCES[0]
    if eb < epoch:
        epoch = eb
    if len(lb) == 1:  # b over one leaf (`y - x` with x below y)
        b0 = lb[0]
        if b0 in la:
            leaves, key = la, (sig, ka, kb, la.index(b0))
        else:
            leaves, key = la + lb, (sig, ka, kb)
    else:
        for leaf in lb:
            if leaf in la:  # shared leaves: the key says where b's are
                leaves = la + tuple([x for x in lb if x not in la])
                key = (sig, ka, kb, tuple([leaves.index(x) for x in lb]))
                break
        else:
            leaves, key = la + lb, (sig, ka, kb)
    if len(leaves) > _MAX_LEAVES:
        return None
    return _ids.get(key) or _intern(key), leaves, epoch


def _general_node(sig, operands):
    """`_node` for any number of operands."""
    epoch = FORCES[0] if operands else _NEVER
    key = [sig, None]
    index = {}  # leaf -> position
    for o in operands:
        p = _part(o)
        if p is None:
            return None
        key.append(p[0])
        epoch = min(epoch, p[2])
        key.extend([index.setdefault(leaf, len(index)) for leaf in p[1]])
        key.append(None)
    if len(index) > _MAX_LEAVES:
        return None
    return _intern(tuple(key)), tuple(index), epoch


def _intern(key):
    nid = _ids.get(key)
    if nid is None:
        if len(_ids) > 1 << 16:
            _ids.clear()  # ids are never reused, so stale ones just miss
        nid = _ids[key] = _next_id()
    return nid


_leaf_types = {}  # (shape, NumPy dtype) -> its TensorType (dtype.name is slow)


def leaf(array):
    """A Value holding a materialized buffer."""
    key = (array.shape, array.dtype)
    t = _leaf_types.get(key)
    if t is None:
        if len(_leaf_types) > 1 << 12:
            _leaf_types.clear()
        t = _leaf_types[key] = TensorType(array.shape, array.dtype.name)
    return Value(t, None, 0, array)
