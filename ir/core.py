"""SSA core: values, operations, blocks, regions and functions.

A recorded operation is detached: its operands are values produced by other
recorded operations or values that hold a materialized buffer (`data`).
`collect` gathers what a set of values reaches into a `Function`.
"""
from .types import TensorType


class Value:
    """An SSA value. `owner` is the defining Operation, a Block (block
    argument), or None for a materialized buffer / free function argument.
    `node` is the recorder's hash-consed structural key of the graph that
    computes it (see lazyops/recording.py), None where it has none.

    A recorded single-result op may be held as a `recipe` (name, operands,
    attributes or None, location, signature) until something asks for its
    `owner`: forcing a graph whose structure has a plan reads only nodes and
    leaves, so most recorded ops are never built. `source`: what computed a
    materialized result (the engine's record of its plan), None otherwise."""

    __slots__ = ("type", "_owner", "index", "data", "node", "recipe", "source", "__weakref__")

    def __init__(self, type, owner=None, index=0, data=None):
        self.type = type
        self._owner = owner
        self.index = index
        self.data = data
        self.node = None
        self.recipe = None
        self.source = None

    @property
    def owner(self):
        op = self._owner
        if op is None and self.recipe is not None:
            name, operands, attrs, loc, sig = self.recipe
            op = self._owner = Operation.__new__(Operation)
            op.name, op.operands, op.attrs, op.regions, op.loc, op.sig = \
                name, operands, {} if attrs is None else attrs, [], loc, sig
            op.results = [self]
            self.recipe = None
        return op

    @owner.setter
    def owner(self, op):
        self._owner = op
        self.recipe = None

    @property
    def shape(self):
        return self.type.shape

    @property
    def dtype(self):
        return self.type.dtype

    def __repr__(self):
        return f"<Value {self.type}>"


class Location:
    __slots__ = ("file", "line")

    def __init__(self, file, line):
        self.file, self.line = file, int(line)

    def __eq__(self, other):
        return isinstance(other, Location) and (self.file, self.line) == (other.file, other.line)

    def __hash__(self):
        return hash((self.file, self.line))

    def __str__(self):
        return f'loc("{self.file}":{self.line})'


class Operation:
    __slots__ = ("name", "operands", "results", "attrs", "regions", "loc", "sig")

    def __init__(self, name, operands, result_types, attrs=None, regions=(), loc=None):
        self.sig = None  # see `signature`
        self.name = name
        self.operands = list(operands)
        self.results = [Value(t, self, i) for i, t in enumerate(result_types)]
        self.attrs = dict(attrs or {})
        self.regions = list(regions)
        self.loc = loc

    @classmethod
    def detached(cls, name, operands, result_types, attrs, loc, sig=None):
        """An op as recorded: `operands` (a list) and `attrs` (a dict) are
        taken as they are, not copied (the recording hot path); `sig` is its
        `signature` where the recorder has it memoized."""
        op = cls.__new__(cls)
        op.name, op.operands, op.attrs, op.regions, op.loc, op.sig = name, operands, attrs, [], loc, sig
        op.results = [Value(result_types[0], op)] if len(result_types) == 1 else \
            [Value(t, op, i) for i, t in enumerate(result_types)]
        return op

    def signature(self):
        """What identifies this op in a graph's structural key besides its
        operands: name, attributes and result types (memoized)."""
        if self.sig is None:
            # repr keeps -0.0 apart from 0.0, which equality would merge
            self.sig = signature(self.name, self.attrs, [r.type for r in self.results])
        return self.sig

    @property
    def result(self):
        (r,) = self.results
        return r

    def clone(self, value_map):
        """A copy whose operands are `value_map[v]` (v itself where absent),
        with its regions cloned deeply; maps each old result (and nested
        value) to its copy in `value_map`. Passes then rewrite the copy, never
        the recorded graph."""
        new = Operation(self.name, [value_map.get(v, v) for v in self.operands],
                        [r.type for r in self.results], self.attrs,
                        [r.clone(value_map) for r in self.regions], self.loc)
        value_map.update(zip(self.results, new.results))
        return new

    def __repr__(self):
        return f"<Operation {self.name}>"


class Block:
    __slots__ = ("args", "ops")

    def __init__(self, arg_types=(), ops=None):
        self.args = [Value(t, self, i) for i, t in enumerate(arg_types)]
        self.ops = list(ops or [])

    @property
    def terminator(self):
        return self.ops[-1] if self.ops else None

    def clone(self, value_map):
        new = Block([a.type for a in self.args])
        value_map.update(zip(self.args, new.args))
        new.ops = [op.clone(value_map) for op in self.ops]
        return new


class Region:
    __slots__ = ("blocks",)

    def __init__(self, blocks=None):
        self.blocks = list(blocks or [])

    @property
    def block(self):
        return self.blocks[0]

    def clone(self, value_map):
        return Region([b.clone(value_map) for b in self.blocks])


class Function:
    """`func.func @name(args) -> results` with a single body block ending in `return`.

    `result_types`, when given (the parser gives the declared ones), are the
    declared result types the verifier checks the return operands against;
    None means "the types of the return operands"."""

    def __init__(self, name, body, result_types=None):
        self.name = name
        self.body = body
        self.result_types = None if result_types is None else list(result_types)

    @property
    def returns(self):
        return self.body.ops[-1].operands

    @property
    def args(self):
        return self.body.args

    @property
    def ops(self):
        return self.body.ops

    def clone(self):
        """A deep copy (passes rewrite functions in place)."""
        return Function(self.name, self.body.clone({}), self.result_types)

    def __eq__(self, other):
        from .printer import print_function
        return isinstance(other, Function) and print_function(other, locs=True) == print_function(self, locs=True)

    def __hash__(self):
        # functions equal as printed (locations included) have equal structure
        return hash(self.structural_key())

    def structural_key(self):
        """The function's structure as text, without locations."""
        from .printer import print_function
        return print_function(self, locs=False)

    def __str__(self):
        from .printer import print_function
        return print_function(self)


def blocks(func):
    """Every block of `func`: the body, then nested region blocks (iterative)."""
    out, stack = [], [func.body]
    while stack:
        b = stack.pop()
        out.append(b)
        for op in b.ops:
            for r in op.regions:
                stack.extend(r.blocks)
    return out


def signature(name, attrs, result_types):
    """An op's `Operation.signature` from its parts."""
    return (name, repr(sorted(attrs.items())) if attrs else "",
            tuple((t.shape, t.dtype) for t in result_types))


def walk(outputs):
    """The detached graph reaching `outputs`: (ops in topological order,
    leaves, structural key). Iterative post-order (graphs may be very deep).
    Values holding data, and values with no defining op, are the leaves, in
    first-visit order. The key identifies the graph's structure without
    locations: equal keys mean the same function up to argument data. Values
    are numbered in visit order; the key lists each leaf's type and each op's
    signature with its operands' numbers."""
    order, leaves, key, number = [], [], [], {}
    keyed = True
    for out in outputs:
        stack = [out]
        while stack:
            item = stack.pop()
            if item.__class__ is Operation:  # its operands are numbered: emit it
                op = item
                if op.results[0] in number:
                    continue
                order.append(op)
                if keyed:
                    if op.regions:  # region bodies are not in this key: such graphs key by printing
                        keyed = False
                    else:
                        key.append((op.sig or op.signature(), tuple([number[o] for o in op.operands])))
                for r in op.results:
                    number[r] = len(number)
                continue
            if item in number:
                continue
            op = item.owner if item.data is None else None
            if op.__class__ is not Operation:
                number[item] = len(number)
                leaves.append(item)
                key.append((item.type.shape, item.type.dtype))
                continue
            stack.append(op)
            for o in reversed(op.operands):
                if o not in number:
                    stack.append(o)
    if not keyed:
        return order, leaves, None
    key.append(tuple([number[v] for v in outputs]))
    return order, leaves, tuple(key)


def build(order, leaves, outputs, name="main"):
    """A Function from `walk`'s results; the recorded ops are cloned (regions
    included), so the recorded graph is untouched."""
    body = Block([v.type for v in leaves])
    mapping = dict(zip(leaves, body.args))
    body.ops = [op.clone(mapping) for op in order]
    body.ops.append(Operation("func.return", [mapping[v] for v in outputs], []))
    return Function(name, body)


def collect(outputs, name="main"):
    """Gather the detached graph reaching `outputs` into a Function.
    Returns (function, leaves): leaves[i] is the Value bound to argument i."""
    order, leaves, _ = walk(outputs)
    return build(order, leaves, outputs, name), leaves


__all__ = ["Value", "Operation", "Block", "Region", "Function", "Location", "TensorType",
           "blocks", "collect", "walk", "build", "signature"]
