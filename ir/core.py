"""SSA core: values, operations, blocks, regions and functions.

A recorded operation is detached: its operands are values produced by other
recorded operations or values that hold a materialized buffer (`data`).
`collect` gathers what a set of values reaches into a `Function`.
"""
from .types import TensorType


class Value:
    """An SSA value. `owner` is the defining Operation, a Block (block
    argument), or None for a materialized buffer / free function argument."""

    __slots__ = ("type", "owner", "index", "data", "__weakref__")

    def __init__(self, type, owner=None, index=0, data=None):
        self.type = type
        self.owner = owner
        self.index = index
        self.data = data

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
    __slots__ = ("name", "operands", "results", "attrs", "regions", "loc")

    def __init__(self, name, operands, result_types, attrs=None, regions=(), loc=None):
        self.name = name
        self.operands = list(operands)
        self.results = [Value(t, self, i) for i, t in enumerate(result_types)]
        self.attrs = dict(attrs or {})
        self.regions = list(regions)
        self.loc = loc

    @property
    def result(self):
        (r,) = self.results
        return r

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


class Region:
    __slots__ = ("blocks",)

    def __init__(self, blocks=None):
        self.blocks = list(blocks or [])

    @property
    def block(self):
        return self.blocks[0]


class Function:
    """`func.func @name(args) -> results` with a single body block ending in `return`.

    `result_types`, when given (the parser gives the declared ones), are the
    declared result types the verifier checks the return operands against;
    None means "the types of the return operands"."""

    def __init__(self, name, body, result_types=None):
        self.name = name
        self.body = body
        self.result_types = None if result_types is None else list(result_types)
        self.key = None  # structural key computed by `collect`, if any

    @property
    def returns(self):
        return self.body.ops[-1].operands

    @property
    def args(self):
        return self.body.args

    @property
    def ops(self):
        return self.body.ops

    def __eq__(self, other):
        from .printer import print_function
        return isinstance(other, Function) and print_function(other, locs=True) == print_function(self, locs=True)

    def __hash__(self):
        return hash(self.structural_key())

    def structural_key(self):
        """A hashable key of the function's structure, without locations.
        `collect` computes it as it builds the function (cheaper than
        printing); passes mutate in place, so it describes the function as
        collected."""
        if self.key is not None:
            return self.key
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


def walk(outputs):
    """The detached graph reaching `outputs`: (ops in topological order,
    leaves, structural key). Iterative post-order (graphs may be very deep).
    Values holding data, and values with no defining op, are the leaves, in
    first-visit order. The key identifies the graph's structure without
    locations: equal keys mean the same function up to argument data."""
    order, seen, stack = [], set(), []
    leaves = []
    for v in outputs:
        stack.append((v, False))
        while stack:
            val, expanded = stack.pop()
            op = val.owner if val.data is None else None
            if not isinstance(op, Operation):
                if id(val) not in seen:
                    seen.add(id(val))
                    leaves.append(val)
                continue
            if expanded:
                if id(op) not in seen:
                    seen.add(id(op))
                    order.append(op)
                continue
            if id(op) in seen:
                continue
            stack.append((val, True))
            for o in reversed(op.operands):
                stack.append((o, False))
    number = {id(v): i for i, v in enumerate(leaves)}
    key = [tuple((v.type.shape, v.type.dtype) for v in leaves)]
    for op in order:
        if op.regions:  # region bodies are not in this key: such graphs key by printing
            key = None
            break
        for r in op.results:
            number[id(r)] = len(number)
        # repr keeps -0.0 apart from 0.0, which equality would merge
        key.append((op.name, repr(sorted(op.attrs.items())) if op.attrs else "",
                    tuple(number[id(o)] for o in op.operands),
                    tuple((r.type.shape, r.type.dtype) for r in op.results)))
    if key is not None:
        key.append(tuple(number[id(v)] for v in outputs))
        key = tuple(key)
    return order, leaves, key


def build(order, leaves, outputs, name="main"):
    """A Function from `walk`'s results; the recorded ops are cloned, so the
    recorded graph is untouched."""
    body = Block([v.type for v in leaves])
    mapping = {id(v): a for v, a in zip(leaves, body.args)}
    for op in order:
        new = Operation(op.name, [mapping[id(o)] for o in op.operands],
                        [r.type for r in op.results], op.attrs, op.regions, op.loc)
        for r, nr in zip(op.results, new.results):
            mapping[id(r)] = nr
        body.ops.append(new)
    body.ops.append(Operation("func.return", [mapping[id(v)] for v in outputs], []))
    return Function(name, body)


def collect(outputs, name="main"):
    """Gather the detached graph reaching `outputs` into a Function.
    Returns (function, leaves): leaves[i] is the Value bound to argument i."""
    order, leaves, key = walk(outputs)
    func = build(order, leaves, outputs, name)
    func.key = key
    return func, leaves


__all__ = ["Value", "Operation", "Block", "Region", "Function", "Location", "TensorType",
           "blocks", "collect", "walk", "build"]
