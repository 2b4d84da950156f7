"""The textual form of the IR (MLIR-like). `parser.parse_function` inverts it.

    func.func @main(%arg0: tensor<4x8xf32>) -> tensor<4xf32> {
      %0 = lazy.constant {dtype = f32, value = 2.0} : tensor<f32>
      %1 = lazy.multiply %arg0, %0 : tensor<4x8xf32> loc("demo.py":12)
      %2 = lazy.sum %1 {axis = [1], keepdims = false} : tensor<4xf32>
      return %2
    }

Function arguments print as `%argN`; every other value (op results, block
arguments of regions) is numbered `%0, %1, ...` in print order across the
whole function, nested regions included. Attributes are sorted by key. An op
with regions prints them after its result types, each region as
`{ ^bb0(args): ops }`, and its location after the last closing brace.

Printing is iterative and linear in the size of the function: it keys caches
(`Function.structural_key`) and graphs may hold 100k ops.
"""
import json
import math
import re

import numpy as np

from . import dtypes
from .registry import lookup

_IDENT = re.compile(r"[A-Za-z_][A-Za-z0-9_.$]*\Z")

RETURN = "func.return"


class Names:
    """Printed names of values: `%argN` for function arguments, `%N` for the
    rest, assigned in print order. Keyed by `id(value)`; the values must stay
    alive while the table is used (they do: the function holds them)."""

    __slots__ = ("_map", "_next")

    def __init__(self):
        self._map = {}
        self._next = 0

    def name_arg(self, value, i):
        name = f"%arg{i}"
        self._map[id(value)] = name
        return name

    def define(self, value):
        name = self._map.get(id(value))
        if name is None:
            name = self._map[id(value)] = f"%{self._next}"
            self._next += 1
        return name

    def __getitem__(self, value):
        # A use before any definition (an invalid function) still gets a name.
        name = self._map.get(id(value))
        return name if name is not None else self.define(value)

    def get(self, value, default=None):
        return self._map.get(id(value), default)


# ---------------------------------------------------------------- scalars and attributes

def quote(s):
    """A double-quoted, escaped string literal (JSON escapes)."""
    return json.dumps(s, ensure_ascii=False)


def format_float(v):
    """Shortest text that parses back to the identical float (`repr`), plus
    `inf`, `-inf`, `nan` and `-nan` (a NaN with its sign bit set)."""
    v = float(v)
    if v != v:
        return "-nan" if math.copysign(1.0, v) < 0 else "nan"
    if v == math.inf:
        return "inf"
    if v == -math.inf:
        return "-inf"
    return repr(v)


def format_attr(value, kind=None):
    """Text of one attribute value. `kind` is the op's schema string
    ("ints", "bool", "int", "str", "dtype", "scalar"); only "dtype" changes the
    spelling (a Keras dtype name prints as its IR short name, `f32`)."""
    if kind == "dtype" and isinstance(value, str) and value in dtypes.SHORT:
        return dtypes.SHORT[value]
    if value is None:
        return "none"
    if isinstance(value, (bool, np.bool_)):
        return "true" if value else "false"
    if isinstance(value, (int, np.integer)):
        return str(int(value))
    if isinstance(value, (float, np.floating)):
        return format_float(value)
    if isinstance(value, str):
        return quote(value)
    if isinstance(value, (tuple, list)):
        return "[" + ", ".join(format_attr(e) for e in value) + "]"
    if isinstance(value, np.dtype) and value.name in dtypes.SHORT:
        return dtypes.SHORT[value.name]
    raise TypeError(f"printer: attribute value {value!r} of type {type(value).__name__} "
                    "has no textual form")


def format_key(key):
    return key if _IDENT.match(key) else quote(key)


def format_attrs(op):
    """`{a = 1, b = [2]}` (sorted by key), or "" when the op has no attributes."""
    if not op.attrs:
        return ""
    d = lookup(op.name) if op.name != RETURN else None
    schema = d.attrs if d is not None else {}
    items = sorted(op.attrs.items())
    return "{" + ", ".join(f"{format_key(k)} = {format_attr(v, schema.get(k))}"
                           for k, v in items) + "}"


def format_loc(loc):
    return f"loc({quote(str(loc.file))}:{int(loc.line)})"


def format_type(t):
    return str(t)


def format_symbol(name):
    return "@" + (name if _IDENT.match(name) else quote(name))


# ---------------------------------------------------------------- operations

class _Printer:
    def __init__(self, names, locs):
        self.names = names
        self.locs = locs
        self.types = {}
        self.attr_schemas = {}

    def type_str(self, t):
        s = self.types.get(t)
        if s is None:
            s = self.types[t] = str(t)
        return s

    def head(self, op, indent):
        """The op's first line (without its regions, loc only if it has none)."""
        names = self.names
        parts = [indent]
        if op.results:
            parts.append(", ".join([names.define(r) for r in op.results]))
            parts.append(" = ")
        parts.append("return" if op.name == RETURN else op.name)
        if op.operands:
            parts.append(" ")
            parts.append(", ".join([names[o] for o in op.operands]))
        if op.attrs:
            parts.append(" ")
            parts.append(format_attrs(op))
        if op.results:
            parts.append(" : ")
            parts.append(", ".join([self.type_str(r.type) for r in op.results]))
        if op.regions:
            parts.append(" {")
        elif self.locs and op.loc is not None:
            parts.append(" ")
            parts.append(format_loc(op.loc))
        return "".join(parts)

    def label(self, block, j, indent):
        if not block.args:
            return f"{indent}^bb{j}:"
        args = ", ".join(f"{self.names.define(a)}: {self.type_str(a.type)}" for a in block.args)
        return f"{indent}^bb{j}({args}):"

    def close(self, op, last, indent):
        if not last:
            return indent + "} {"
        if self.locs and op.loc is not None:
            return f"{indent}}} {format_loc(op.loc)}"
        return indent + "}"

    def emit(self, ops, indent, out):
        """Append the lines of `ops` (and their regions) to `out`, iteratively."""
        stack = [(iter(ops), indent)]
        while stack:
            it, ind = stack[-1]
            item = next(it, None)
            if item is None:
                stack.pop()
                continue
            if type(item) is tuple:
                if item[0] == 0:  # block label
                    out.append(self.label(item[1], item[2], item[3]))
                else:             # closing brace of a region
                    out.append(self.close(item[1], item[2], item[3]))
                continue
            out.append(self.head(item, ind))
            if item.regions:
                sub = []
                last = len(item.regions) - 1
                for ri, region in enumerate(item.regions):
                    for j, block in enumerate(region.blocks):
                        sub.append((0, block, j, ind))
                        sub.extend(block.ops)
                    sub.append((1, item, ri == last, ind))
                stack.append((iter(sub), ind + "  "))


def result_types(func):
    """The function's declared result types (`func.result_types` when set,
    else the types of its return operands)."""
    declared = getattr(func, "result_types", None)
    if declared is not None:
        return list(declared)
    ops = func.body.ops
    if ops and ops[-1].name == RETURN:
        return [v.type for v in ops[-1].operands]
    return []


def _signature(func, names, p):
    args = ", ".join(f"{names.name_arg(a, i)}: {p.type_str(a.type)}"
                     for i, a in enumerate(func.body.args))
    head = f"func.func {format_symbol(func.name)}({args})"
    res = result_types(func)
    if len(res) == 1:
        head += " -> " + p.type_str(res[0])
    elif res:
        head += " -> (" + ", ".join(p.type_str(t) for t in res) + ")"
    return head + " {"


def print_function(func, locs=True, names=None):
    """The text of `func`. With `locs=False` locations are left out (the
    structural key). `names`, if given, is a `Names` table filled in."""
    names = Names() if names is None else names
    p = _Printer(names, locs)
    out = [_signature(func, names, p)]
    p.emit(func.body.ops, "  ", out)
    out.append("}")
    return "\n".join(out)


def print_op(op, names=None, locs=True, indent=""):
    """The text of one operation, regions included. Without a `names` table
    (one filled in by `print_function`) values are numbered locally."""
    names = Names() if names is None else names
    out = []
    _Printer(names, locs).emit([op], indent, out)
    return "\n".join(out)


def op_head(op, names=None, locs=True):
    """The first line of an op's text (no regions), for messages."""
    return _Printer(Names() if names is None else names, locs).head(op, "")


def value_names(func):
    """The `Names` table `print_function(func)` uses."""
    names = Names()
    print_function(func, locs=False, names=names)
    return names


__all__ = ["print_function", "print_op", "op_head", "value_names", "Names", "format_attr",
           "format_float", "format_loc", "format_type", "quote", "result_types"]
