"""Random programs over the lazyops API, for differential fuzzing.

A `Program` is a list of inputs and steps, one Python line each
(`v3 = lo.add(x0, 2.5)`, `v4 = v3[::2]`, `f5 = v4.numpy()`), ending in
`outs = lo.evaluate(...)` of several values at once. The same program

* runs on lazyops, on the compiled path (`small_work=0`), the default path,
  or the NumPy interpreter (`small_work` huge): `run_lazy`;
* runs on `keras.ops` with the NumPy backend, the semantic oracle: `run_numpy`;
* prints as a self-contained reproducer: `Program.reproducer()`.

Programs come from `generate(chooser)`, where the chooser is either a seeded
`random.Random` (`RandomChooser`, for `bench/fuzz.py`) or a hypothesis `draw`
(`HypothesisChooser`, wrapped as the strategy `programs()`); choices are made
so that hypothesis shrinks towards fewer, simpler steps and float32 inputs.

The generator records every step on lazyops (metadata only, nothing is
forced) as it goes, so a program is valid by construction: a step that lazyops
rejects is dropped, except that now and then it is kept as the program's last
step, to check that NumPy rejects it too (then nothing is forced).

`check_program` runs the program on the subject path, the interpreter and
Keras/NumPy and compares every forced value. Comparisons are NaN-aware,
exact for integers and booleans, and for floats allow per-dtype relative
error plus a per-element error bound `E` propagated along the program from
the NumPy run (`error_bounds`): exactly rounded ops on exact inputs give
E = 0; transcendental ops, float sums and products, and anything computed
from them get a bound from the input bounds (evaluating the op at the
corners of the input intervals) plus rounding. Where a discontinuous op
(floor, comparisons, casts to integers, argmax, a NaN appearing at a domain
edge, overflow at a threshold) could flip within the bound, E is infinite and
the element is not compared; so are float-to-int casts out of range
(undefined) and the sign of a zero that a reduction returns. So float noise
is not reported, while exact values, NaNs and infs are checked exactly.

Outcomes (`Outcome.status`): ok; skip (the last step is rejected at record
time on every path, NumPy included); mismatch (a value, shape or dtype);
error (an exception at force time, or recording raising on one side only).
`shrink` delta-debugs a failing program given a predicate that reruns it.
"""
from __future__ import annotations

import contextlib
import dataclasses
import itertools
import math
import os
import random
import traceback
import warnings
from typing import Any

import numpy as np

import lazyops as lo

HUGE = 1 << 62  # small_work for "always interpret"
BLOCK = 8192    # the CPU codegen's block of a flat loop

DTYPES = ("float32", "int32", "bool", "float64", "float16", "int8", "uint8")
FLOATS = ("float16", "float32", "float64")

# Base tolerances by result dtype (relative, absolute floor); the
# propagated bound E comes on top.
RTOL = {"float16": 1e-2, "float32": 1e-5, "float64": 1e-9}
ATOL = {"float16": 1e-4, "float32": 1e-7, "float64": 1e-12}


# ====================================================================== choosers

class RandomChooser:
    """Choices from a seeded `random.Random`."""

    def __init__(self, seed):
        self.r = seed if isinstance(seed, random.Random) else random.Random(seed)

    def int(self, lo_, hi):
        return self.r.randint(lo_, hi)

    def chance(self, p):
        return self.r.random() < p

    def choice(self, seq):
        return seq[self.r.randrange(len(seq))]

    def weighted(self, pairs):
        total = sum(w for _, w in pairs)
        x = self.r.random() * total
        for v, w in pairs:
            x -= w
            if x < 0:
                return v
        return pairs[-1][0]


class HypothesisChooser:
    """Choices from a hypothesis `draw`: each shrinks towards the first
    option, `chance` towards False."""

    def __init__(self, draw):
        from hypothesis import strategies as st
        self.draw, self.st = draw, st

    def int(self, lo_, hi):
        return self.draw(self.st.integers(lo_, hi))

    def chance(self, p):
        return self.draw(self.st.integers(0, 999)) >= 1000 - int(p * 1000)

    def choice(self, seq):
        return seq[self.draw(self.st.integers(0, len(seq) - 1))]

    def weighted(self, pairs):
        total = sum(w for _, w in pairs)
        x = self.draw(self.st.integers(0, total - 1))
        for v, w in pairs:
            x -= w
            if x < 0:
                return v
        return pairs[-1][0]


# ====================================================================== program

@dataclasses.dataclass(frozen=True)
class Ref:
    """A reference to a program variable."""
    name: str


def _refs_in(v):
    """The Refs in an argument value (a tuple of tensors holds several)."""
    if isinstance(v, Ref):
        return [v]
    return [r for e in v for r in _refs_in(e)] if isinstance(v, tuple) else []


def _map_refs(v, f):
    """An argument value with each Ref r replaced by f(r), tuples followed."""
    if isinstance(v, Ref):
        return f(v)
    return tuple(_map_refs(e, f) for e in v) if isinstance(v, tuple) else v


def fmt(v):
    """Python source for an argument value."""
    if isinstance(v, Ref):
        return v.name
    if isinstance(v, (bool, np.bool_)):
        return repr(bool(v))
    if isinstance(v, (int, np.integer)):
        return repr(int(v))
    if isinstance(v, (float, np.floating)):
        v = float(v)
        if math.isnan(v):
            return 'float("nan")'
        if math.isinf(v):
            return 'float("inf")' if v > 0 else 'float("-inf")'
        return repr(v)
    if isinstance(v, tuple):
        inner = ", ".join(fmt(e) for e in v)
        return f"({inner},)" if len(v) == 1 else f"({inner})"
    if isinstance(v, str):
        return repr(v)
    if v is None:
        return "None"
    if v is Ellipsis:
        return "..."
    if isinstance(v, slice):
        a = "" if v.start is None else fmt(v.start)
        b = "" if v.stop is None else fmt(v.stop)
        s = "" if v.step is None else ":" + fmt(v.step)
        return f"{a}:{b}{s}"
    raise TypeError(f"cannot format {v!r}")


def fmt_key(key):
    return ", ".join(fmt(k) for k in key) if key else "()"


SYMBOL = {"add": "+", "subtract": "-", "multiply": "*", "divide": "/", "floor_divide": "//",
          "mod": "%", "power": "**", "less": "<", "less_equal": "<=", "greater": ">",
          "greater_equal": ">=", "equal": "==", "not_equal": "!=", "logical_and": "&",
          "logical_or": "|", "logical_xor": "^"}


@dataclasses.dataclass
class Step:
    """One line. kind: call (`lo.fn(*args, **kwargs)`), binop (`a <sym> b`
    with fn the op's name), getitem (`src[key]`), T (`src.T`), loop (one of
    LOOPS, a control-flow call with its Python function, on `src`) or force
    (`src.numpy()`)."""
    target: str
    kind: str
    fn: str = ""
    args: tuple = ()
    kwargs: dict = dataclasses.field(default_factory=dict)
    key: tuple = ()

    def refs(self):
        out = [r.name for a in self.args for r in _refs_in(a)]
        out += [r.name for v in self.kwargs.values() for r in _refs_in(v)]
        return out

    @property
    def phase(self):
        return "force" if self.kind == "force" else "record"

    @property
    def op(self):
        return {"getitem": "getitem", "T": "transpose", "force": "numpy"}.get(self.kind, self.fn)

    def _call(self, mod):
        parts = [fmt(a) for a in self.args] + [f"{k}={fmt(v)}" for k, v in self.kwargs.items()]
        return f"{mod}.{self.fn}({', '.join(parts)})"

    def lazy_line(self):
        t = self.target
        if self.kind == "call":
            return f"{t} = {self._call('lo')}"
        if self.kind == "binop":
            a, b = self.args
            left = fmt(a)
            if left.startswith("-"):  # -2 ** x is -(2 ** x)
                left = f"({left})"
            return f"{t} = {left} {SYMBOL[self.fn]} {fmt(b)}"
        if self.kind == "getitem":
            return f"{t} = {self.args[0].name}[{fmt_key(self.key)}]"
        if self.kind == "T":
            return f"{t} = {self.args[0].name}.T"
        if self.kind == "force":
            return f"{t} = {self.args[0].name}.numpy()"
        if self.kind == "loop":
            return f"{t} = {LOOPS[self.fn].format(m='lo', x=self.args[0].name)}"
        raise ValueError(self.kind)

    def numpy_line(self):
        """The same step on keras.ops (NumPy backend) as `K`."""
        t = self.target
        if self.kind in ("call", "binop"):
            return f"{t} = {self._call('K')}"
        if self.kind == "getitem":
            return f"{t} = np.asarray({self.args[0].name}[{fmt_key(self.key)}])"
        if self.kind == "T":
            return f"{t} = K.transpose({self.args[0].name})"
        if self.kind == "force":
            return f"{t} = np.asarray({self.args[0].name})"
        if self.kind == "loop":
            return f"{t} = {LOOPS[self.fn].format(m='K', x=self.args[0].name)}"
        raise ValueError(self.kind)


# Control flow, each with its Python function, on a float tensor `x` (`m`:
# the module, lo or K): a linear recurrence (scan, forward and reverse), a
# fori_loop, a map, a cond on an exact predicate; loops whose bodies reduce
# beside a counter or the step index (several kernels a step), and an
# associative_scan of two ops (a left fold); those compute exactly or round
# once per step in the same order as Keras.
LOOPS = {
    "scan": "{m}.scan(lambda h, r: ({m}.add({m}.multiply(h, 0.5), r),) * 2, "
            "{m}.zeros_like({x}[0]), {x})[1]",
    "scan_reverse": "{m}.scan(lambda h, r: ({m}.add({m}.multiply(h, 0.5), r),) * 2, "
                    "{m}.zeros_like({x}[0]), {x}, reverse=True)[1]",
    "fori_loop": "{m}.fori_loop(0, 3, lambda i, v: {m}.add({m}.multiply(v, 0.5), 1.0), {x})",
    "map": "{m}.map(lambda r: {m}.add({m}.multiply(r, r), 1.0), {x})",
    "cond": "{m}.cond({m}.max({x}) > 0, lambda: {m}.multiply({x}, 2.0), "
            "lambda: {m}.subtract({x}, 1.0))",
    "while_counted": "{m}.while_loop(lambda i, v: i < 3, lambda i, v: (i + 1, {m}.add("
                     "{m}.multiply(v, 0.5), {m}.multiply({m}.max(v), 0.25))), (0, {x}))[1]",
    "fori_index": "{m}.fori_loop(1, 4, lambda i, v: {m}.add({m}.multiply(v, 0.5), {m}.multiply("
                  "{m}.min(v), {m}.cast(i, v.dtype))), {x})",
    "assoc_max": "{m}.associative_scan(lambda p, q: {m}.maximum({m}.maximum(p, q), q), {x})",
}


@dataclasses.dataclass
class Input:
    """An input array `a<k>` and its tensor `x<k>`. style: literal (values
    written out), grid (multiples of 1/8), normal, wide, ints, bits (bool), or
    const (np.full, used by the shrinker); specials: (flat index, value)
    written over the base data."""
    name: str
    shape: tuple
    dtype: str
    style: str
    seed: int = 0
    specials: tuple = ()
    literal: Any = None  # nested lists, for style "literal"
    fill: Any = 1

    @property
    def array_name(self):
        return "a" + self.name[1:]

    def data_lines(self):
        a, shp, dt = self.array_name, fmt(tuple(self.shape)), self.dtype
        rng = f"np.random.default_rng({self.seed})"
        if self.style == "literal":
            return [f"{a} = np.array({_literal(self.literal)}, dtype={dt!r})"]
        if self.style == "const" or math.prod(self.shape) == 0:
            fill = 0 if math.prod(self.shape) == 0 else self.fill
            line = f"{a} = np.full({shp}, {fmt(fill)}, dtype={dt!r})"
        elif self.style == "grid":
            line = f"{a} = ({rng}.integers(-32, 33, size={shp}) / 8).astype({dt!r})"
        elif self.style == "normal":
            line = f"{a} = (2 * {rng}.standard_normal({shp})).astype({dt!r})"
        elif self.style == "wide":
            line = (f"{a} = ({rng}.choice([-1.0, 1.0], {shp})"
                    f" * 10.0 ** {rng}.uniform(-40, 40, {shp})).astype({dt!r})")
        elif self.style == "ints":
            lo_, hi = _int_range(dt, self.seed)
            line = f"{a} = {rng}.integers({lo_}, {hi}, size={shp}, endpoint=True).astype({dt!r})"
        elif self.style == "bits":
            line = f"{a} = {rng}.random({shp}) < 0.5"
        else:
            raise ValueError(self.style)
        lines = [line]
        if self.specials:
            idx = [p for p, _ in self.specials]
            vals = ", ".join(_lit_scalar(v) for _, v in self.specials)
            lines.append(f"{a}.flat[{idx!r}] = [{vals}]")
        return lines

    def convert_line(self, mod="lo"):
        return f"{self.name} = {mod}.convert_to_tensor({self.array_name}, dtype={self.dtype!r})"

    def array(self):
        ns = {"np": np}
        with warnings.catch_warnings(), np.errstate(all="ignore"):
            warnings.simplefilter("ignore")
            for line in self.data_lines():
                exec(line, ns)  # noqa: S102
        return ns[self.array_name]


def _int_range(dtype, seed):
    if dtype == "uint8":
        return (0, 12) if seed % 4 else (0, 255)
    if dtype == "int8":
        return (-6, 6) if seed % 4 else (-128, 127)
    return (-6, 6) if seed % 5 else (-2**31, 2**31 - 1)


def _lit_scalar(v):
    if isinstance(v, (bool, np.bool_)):
        return repr(bool(v))
    if isinstance(v, (int, np.integer)):
        return repr(int(v))
    v = float(v)
    if math.isnan(v):
        return "np.nan"
    if math.isinf(v):
        return "np.inf" if v > 0 else "-np.inf"
    return repr(v)


def _literal(x):
    if isinstance(x, list):
        return "[" + ", ".join(_literal(e) for e in x) + "]"
    return _lit_scalar(x)


@dataclasses.dataclass
class Program:
    inputs: list
    steps: list
    outputs: list  # variable names forced together by lo.evaluate
    label: str = ""

    # -- structure
    def forced(self):
        """Names of the `.numpy()` results (checked like outputs)."""
        return [s.target for s in self.steps if s.kind == "force"]

    def producer(self, name):
        for s in self.steps:
            if s.target == name:
                return s
        return None

    def source_of(self, name):
        """The value a name stands for: a force step's source."""
        s = self.producer(name)
        while s is not None and s.kind == "force":
            name = s.args[0].name
            s = self.producer(name)
        return name

    def evaluate_line(self, mod="lo"):
        if mod == "lo":
            return f"outs = lo.evaluate({', '.join(self.outputs)})"
        return f"outs = tuple(np.asarray(v) for v in ({''.join(o + ', ' for o in self.outputs)}))"

    def _replay_reproducer(self, note):
        head = f'"""{note}"""\n' if note else ""
        data = "\n".join(line for inp in self.inputs for line in inp.data_lines())
        arrays = ", ".join(inp.array_name for inp in self.inputs)
        return f'''{head}import numpy as np

import lazyops as lo


{self.function_source()}
{data}
first = [{arrays}]
shuffle = np.random.default_rng({self.shuffle_seed}).permutation
other = [shuffle(a.ravel()).reshape(a.shape) for a in first]
with lo.config.override(small_work=0, tiered=False):  # the compiled path
    want = [np.asarray(v) for v in lo.evaluate(*program(*other))]
    replay = lo.function(program)
    replay(*first)  # traced
    got = replay(*other)  # replayed
for k, (g, w) in enumerate(zip(got, want)):
    same = g.dtype == w.dtype and g.shape == w.shape and np.array_equal(g, w, equal_nan=True)
    print(k, "same" if same else f"DIFFERENT:\\n  got  {{g!r}}\\n  want {{w!r}}")
'''

    def _chunked_reproducer(self, note):
        head = f'"""{note}"""\n' if note else ""
        forced = self.forced()
        ret = "[" + "".join(f + ", " for f in forced) + "*outs]"
        body = "\n".join("    " + line for line in self.body())
        return f'''{head}import numpy as np

import lazyops as lo
from lazyops import engine
from lazyops.codegen import background


def program():
{body}
    return {ret}


def first_runs(chunk):
    """Every plan on its tiered first run, kernels interpreted `chunk`
    elements at a time; the compiles it queues are dropped."""
    engine._plans.clear()
    engine._by_node.clear()
    engine._CHUNK, background.submit = chunk, lambda job: None
    with lo.config.override(small_work=0, tiered=True):
        return [np.asarray(v) for v in program()]


want, got = first_runs(1 << 62), first_runs(3)
for k, (g, w) in enumerate(zip(got, want)):
    same = g.dtype == w.dtype and g.shape == w.shape and np.array_equal(g, w, equal_nan=True)
    print(k, "same" if same else f"DIFFERENT:\\n  got  {{g!r}}\\n  want {{w!r}}")
'''

    def lines(self, mod="lo"):
        """(line, phase, step or None) in order, for `mod` lo or K."""
        out = []
        for inp in self.inputs:
            for line in inp.data_lines():
                out.append((line, "data", None))
            out.append((inp.convert_line(mod), "record", None))
        for s in self.steps:
            out.append((s.lazy_line() if mod == "lo" else s.numpy_line(), s.phase, s))
        out.append((self.evaluate_line(mod), "force", None))
        return out

    def body(self):
        return [line for line, _, _ in self.lines("lo")]

    def function_source(self):
        """`def program(a0, ...)`: the program as a function of its input
        arrays returning its outputs, for `lazyops.function`; None where it
        forces along the way or has no outputs."""
        if self.forced() or not self.outputs:
            return None
        conv = [inp.convert_line("lo") for inp in self.inputs]
        steps = [s.lazy_line() for s in self.steps]
        return (f"def program({', '.join(inp.array_name for inp in self.inputs)}):\n"
                + "".join(f"    {line}\n" for line in conv + steps)
                + f"    return ({''.join(o + ', ' for o in self.outputs)})\n")

    @property
    def shuffle_seed(self):
        """The seed permuting the inputs' values in `data` (and the replay reproducer)."""
        return len(self.steps)

    def data(self, permuted=False):
        """The input arrays (each one's values permuted, seeded: other data
        of the same shapes and dtypes)."""
        ns = {"np": np}
        for inp in self.inputs:
            for line in inp.data_lines():
                exec(line, ns)  # noqa: S102  (the generator's own text)
        arrays = [np.asarray(ns[inp.array_name]) for inp in self.inputs]
        if permuted:
            shuffle = np.random.default_rng(self.shuffle_seed).permutation
            arrays = [shuffle(a.ravel()).reshape(a.shape) for a in arrays]
        return arrays

    def reproducer(self, subject="compiled", note=""):
        """A self-contained script: runs the program on the subject path and
        on the NumPy interpreter and prints the outputs that differ."""
        if subject == "replay":
            return self._replay_reproducer(note)
        if subject == "chunked":
            return self._chunked_reproducer(note)
        forced = self.forced()
        ret = "[" + "".join(f + ", " for f in forced) + "*outs]"
        body = "\n".join("    " + line for line in self.body())
        subj = {"compiled": "lo.config.override(small_work=0, tiered=False, serial_work=0)",
                "default": "contextlib.nullcontext()"}[subject]
        head = f'"""{note}"""\n' if note else ""
        return f'''{head}import contextlib

import numpy as np

import lazyops as lo


def program():
{body}
    return {ret}


with {subj}:  # the {subject} path
    got = program()
with lo.config.override(small_work=1 << 62):  # the NumPy interpreter
    want = program()
for name, g, w in zip({(forced + ["evaluate:" + o for o in self.outputs])!r}, got, want):
    same = g.dtype == w.dtype and g.shape == w.shape and np.allclose(
        g.astype("float64"), w.astype("float64"), rtol=1e-5, atol=1e-7, equal_nan=True)
    print(name, "same" if same else
          f"DIFFERENT:\\n  got  {{g.dtype}} {{g.shape}} {{g!r}}\\n  want {{w.dtype}} {{w.shape}} {{w!r}}")
'''

    def __str__(self):
        return "\n".join(self.body())

    def __repr__(self):  # hypothesis prints this for a falsifying example
        return "Program(<<\n" + str(self) + "\n>>)"

    def _repr_pretty_(self, p, cycle):
        p.text(repr(self))


# ====================================================================== generation

UNARY_FLOAT = ["exp", "log", "sqrt", "sin", "cos", "tanh", "expm1", "log1p", "log2", "log10",
               "tan", "sinh", "cosh", "arcsin", "arccos", "arctan", "rsqrt"]
UNARY_EXACT = ["negative", "absolute", "square", "abs", "sign", "floor", "ceil", "trunc",
               "round", "logical_not", "isnan", "isinf", "isfinite"]
BINARY = ["add", "subtract", "multiply", "divide", "maximum", "minimum", "power",
          "floor_divide", "mod", "arctan2", "less", "greater", "equal", "not_equal",
          "less_equal", "greater_equal", "logical_and", "logical_or", "logical_xor"]
REDUCE = ["sum", "max", "mean", "min", "prod", "argmax", "argmin", "any", "all", "amax"]
INT_SCALARS = [2, 1, 0, -1, 3, 7, -5, 100, 255, -128, 1000]
FLOAT_SCALARS = [0.5, 2.0, 1.5, -1.0, 0.0, 1.0, 0.25, -2.5, 3.0, 0.1, 1e-3, 1e4,
                 float("nan"), float("inf"), float("-inf"), -0.0]
# Ops whose float64 handling once differed from Keras's (lazy 64-bit tensors
# kept their width where Keras converts them to 32 bits; now `api._narrow`).
# Unless `strict`, the generator still leaves them out for float64 values.
F64_QUIRK = frozenset({"clip", "exp", "expm1", "mean", "prod", "rsqrt", "square", "trunc",
                       "argmax", "argmin", "arcsinh", "arctanh", "erf", "erfinv", "reciprocal",
                       "logaddexp", "divide_no_nan", "logsumexp", "nan_to_num", "average",
                       "trace", "diff", "count_nonzero", "tril", "triu", "roll", "tile",
                       "repeat", "flip", "moveaxis", "swapaxes", "diagonal", "take"})
# integer-only and shape ops the `more` step draws from
BITWISE = ["bitwise_and", "bitwise_or", "bitwise_xor", "left_shift", "right_shift"]
MORE_UNARY = ["arcsinh", "arctanh", "erf", "erfinv", "reciprocal", "nan_to_num",
              "count_nonzero", "logsumexp", "average", "bitwise_invert"]
MAX_ELEMENTS = 1 << 18  # no value may be bigger (a broadcast could ask for gigabytes)
BIG_SHAPES = [(40000,), (8192 * 3 + 5,), (20000,), (32768,), (24577,),
              (160, 250), (3, 10000), (10000, 3), (128, 257), (1, 30000), (8192, 4)]


@dataclasses.dataclass
class _Val:
    name: str
    t: Any          # lazyops Tensor: recorded, never forced here
    is_input: bool = False

    @property
    def shape(self):
        return tuple(self.t.shape)

    @property
    def dtype(self):
        return self.t.dtype

    @property
    def ndim(self):
        return len(self.t.shape)

    @property
    def size(self):
        return math.prod(self.t.shape)


def _bcast_ok(a, b):
    try:
        np.broadcast_shapes(a, b)
        return True
    except ValueError:
        return False


class _Gen:
    def __init__(self, c, max_steps, big, keep_error, strict=False):
        self.c = c
        self.strict = strict
        self.max_steps = max_steps
        self.big_p = big
        self.keep_error = keep_error
        self.vals = []
        self.steps = []
        self.inputs = []
        self.counter = 0
        self.forced = set()
        self.done = False  # a kept failing step ends the program

    # -- names and values
    def fresh(self, prefix):
        n = f"{prefix}{self.counter}"
        self.counter += 1
        return n

    def pick(self, pred=None, recent=True):
        cands = [v for v in self.vals if pred is None or pred(v)]
        if not cands:
            return None
        if recent and self.c.chance(0.6):
            cands = cands[-3:]
        return cands[len(cands) - 1 - self.c.int(0, len(cands) - 1)]

    def emit(self, kind, fn="", args=(), kwargs=None, key=()):
        """Record a step on the metadata tensors; keep it if lazyops accepts it."""
        kwargs = kwargs or {}
        step = Step(self.fresh("v"), kind, fn, tuple(args), dict(kwargs), tuple(key))
        env = {v.name: v.t for v in self.vals}

        def val(a):
            return _map_refs(a, lambda r: env[r.name])
        if not self.strict and fn in F64_QUIRK and any(
                isinstance(a, Ref) and env[a.name].dtype == "float64" for a in step.args):
            return None
        try:
            with warnings.catch_warnings(), np.errstate(all="ignore"):
                warnings.simplefilter("ignore")
                t = _apply_lazy(step, [val(a) for a in step.args],
                                {k: val(v) for k, v in step.kwargs.items()})
        except Exception:  # noqa: BLE001  (recording rejected the step)
            if self.keep_error and self.c.chance(0.08):
                self.steps.append(step)
                self.done = True
            return None
        if not isinstance(t, lo.Tensor) or math.prod(t.shape) > MAX_ELEMENTS:
            return None
        self.steps.append(step)
        v = _Val(step.target, t)
        self.vals.append(v)
        return v

    # -- inputs
    def make_inputs(self):
        c = self.c
        self.big = c.chance(self.big_p)
        if self.big:
            base = c.choice(BIG_SHAPES)
        else:
            rank = c.weighted([(1, 3), (2, 4), (0, 1), (3, 2), (4, 1)])
            base = tuple(c.weighted([(3, 4), (1, 3), (2, 3), (5, 3), (4, 2), (7, 2), (0, 1)])
                         for _ in range(rank))
        n = c.weighted([(1, 3), (2, 4), (3, 2), (4, 1)])
        first_dtype = None
        for i in range(n):
            shape = base
            if i:
                variant = c.weighted([("same", 4), ("ones", 3), ("suffix", 2), ("scalar", 1)])
                if variant == "ones":
                    shape = tuple(1 if c.chance(0.5) else d for d in base)
                elif variant == "suffix":
                    shape = base[c.int(0, len(base)):]
                elif variant == "scalar":
                    shape = ()
            if first_dtype is not None and c.chance(0.5):
                dtype = first_dtype
            else:
                dtype = c.weighted([("float32", 30), ("int32", 10), ("bool", 8), ("float64", 8),
                                    ("float16", 8), ("int8", 6), ("uint8", 6)])
            first_dtype = first_dtype or dtype
            self.add_input(shape, dtype)

    def add_input(self, shape, dtype):
        c = self.c
        name = self.fresh("x")
        size = math.prod(shape)
        seed = c.int(0, 2**20)
        if dtype in FLOATS:
            style = c.weighted([("grid", 5), ("normal", 3), ("wide", 1)])
        elif dtype == "bool":
            style = "bits"
        else:
            style = "ints"
        specials = []
        if dtype in FLOATS and size and c.chance(0.7 if size > BLOCK else 0.5):
            if size > BLOCK:
                cands = [0, BLOCK - 1, BLOCK, 2 * BLOCK - 1, 2 * BLOCK, size - 1, size // 2,
                         size - BLOCK, 3 * BLOCK]
                cands = [p for p in cands if 0 <= p < size]
            else:
                cands = list(range(size))
            for _ in range(c.int(1, 4)):
                p = c.choice(cands)
                v = c.choice([np.nan, np.inf, -np.inf, -0.0, np.nan])
                if all(p != q for q, _ in specials):
                    specials.append((p, v))
        inp = Input(name, tuple(shape), dtype, style, seed, tuple(specials))
        if 0 < size <= 48 and not c.chance(0.1):
            inp = dataclasses.replace(inp, style="literal", specials=(),
                                      literal=inp.array().tolist())
        arr = inp.array()
        self.inputs.append(inp)
        self.vals.append(_Val(name, lo.convert_to_tensor(arr, dtype=dtype), is_input=True))

    # -- scalars, axes
    def scalar(self, v):
        if v.dtype in FLOATS or self.c.chance(0.3):
            return self.c.choice(FLOAT_SCALARS)
        return self.c.choice(INT_SCALARS)

    def axis(self, v, allow_tuple=True, allow_none=True):
        c = self.c
        if v.ndim == 0 or (allow_none and c.chance(0.45 if self.big else 0.35)):
            return None
        if allow_tuple and v.ndim >= 2 and c.chance(0.35):
            k = c.int(1, v.ndim)
            axes = sorted({c.int(0, v.ndim - 1) for _ in range(k)})
            if c.chance(0.2):
                axes = axes[::-1]
            return tuple(a - v.ndim if c.chance(0.2) else a for a in axes)
        a = c.int(0, v.ndim - 1)
        return a - v.ndim if c.chance(0.3) else a

    # -- step builders
    def step(self):
        kind = self.c.weighted([
            ("binary", 18), ("unary", 14), ("scalar", 12), ("reduce", 12), ("view", 10),
            ("pattern", 8), ("where", 4), ("cast", 5), ("force", 4), ("create", 3),
            ("clip", 2), ("matmul", 1), ("varstd", 1), ("more", 6), ("loop", 5), ("join", 4)])
        getattr(self, "b_" + kind)()

    def b_loop(self):
        x = self.pick(lambda v: v.dtype in ("float32", "float16") and v.ndim >= 1
                      and v.shape[0] >= 1 and v.size >= 1)
        if x is not None:
            self.emit("loop", self.c.choice(sorted(LOOPS)), [Ref(x.name)])

    def b_unary(self):
        x = self.pick()
        if x.dtype in FLOATS or self.c.chance(0.3):
            fn = self.c.weighted([(f, 3 if f in ("exp", "log", "sqrt", "sin", "tanh") else 1)
                                  for f in UNARY_FLOAT] + [(f, 1) for f in UNARY_EXACT])
        else:
            fn = self.c.choice(UNARY_EXACT)
        kwargs = {}
        if fn == "round" and self.c.chance(0.3):
            kwargs["decimals"] = self.c.choice([1, 2, -1])
        if fn in ("exp", "sinh", "cosh") and self.c.chance(0.5) and x.dtype != "bool":
            y = self.emit("call", "tanh", [Ref(x.name)])  # keep magnitudes sane
            x = y or x
        self.emit("call", fn, [Ref(x.name)], kwargs)

    def b_more(self):
        """The ops of the full keras.ops API beyond the core: math, bitwise,
        masks, views by index maps, gathers and fused reductions."""
        c = self.c
        x = self.pick()
        kind = c.weighted([("unary", 4), ("binary", 2), ("bits", 2), ("shape", 4)])
        if kind == "unary":
            fn = c.choice(MORE_UNARY)
            if fn in ("logsumexp", "average") and 0 in x.shape:
                # on empty arrays scipy's logsumexp (axis=None) raises IndexError and
                # np.average of an empty result ZeroDivisionError: lazyops gives -inf / []
                return None
            kwargs = {}
            if fn in ("logsumexp", "count_nonzero", "average") and x.ndim and c.chance(0.6):
                kwargs["axis"] = self.axis(x)
            return self.emit("call", fn, [Ref(x.name)], kwargs)
        if kind == "binary":
            y = self.pick(lambda v: _bcast_ok(v.shape, x.shape))
            fn = c.choice(["logaddexp", "divide_no_nan", "isclose"])
            return self.emit("call", fn, [Ref(x.name), Ref(y.name)])
        if kind == "bits":
            y = self.pick(lambda v: _bcast_ok(v.shape, x.shape) and v.dtype not in FLOATS)
            if x.dtype in FLOATS or y is None:
                return None
            fn = c.choice(BITWISE)
            other = Ref(y.name) if fn in BITWISE[:3] or c.chance(0.3) else c.choice([0, 1, 3, 7])
            return self.emit("call", fn, [Ref(x.name), other])
        if x.ndim == 0:
            return None
        fn = c.choice(["flip", "roll", "tile", "repeat", "diff", "take", "cumsum", "cumprod"] +
                      (["moveaxis", "swapaxes", "tril", "triu", "diagonal", "trace"]
                       if x.ndim >= 2 else []))
        args, kwargs = [Ref(x.name)], {}
        if fn == "roll":
            args.append(c.choice([1, -2, 5]))
            kwargs["axis"] = self.axis(x, allow_tuple=False) if c.chance(0.7) else None
        elif fn == "tile":
            args.append(c.choice([2, (1, 2), (2, 1, 1)]))
        elif fn == "repeat":
            args.append(c.choice([2, 3]))
            kwargs["axis"] = self.axis(x, allow_tuple=False) if c.chance(0.7) else None
        elif fn == "take":
            n = x.shape[0]
            if n == 0:
                return None
            args.append(tuple(c.int(-n, n - 1) for _ in range(c.int(1, 4))))
            kwargs["axis"] = 0
        elif fn in ("moveaxis", "swapaxes"):
            args += [0, -1]
        elif fn in ("tril", "triu"):
            args.append(c.choice([0, 1, -1]))
        elif fn in ("flip", "diff") and c.chance(0.5):
            kwargs["axis"] = self.axis(x, allow_tuple=False, allow_none=fn == "flip")
        elif fn in ("cumsum", "cumprod") and c.chance(0.7):
            kwargs["axis"] = self.axis(x, allow_tuple=False)
        return self.emit("call", fn, args, kwargs)

    def b_join(self):
        """Concatenations (concatenate, stack, append) of a value with one of a
        matching shape, and pad, on values the program computed, so they fuse."""
        c = self.c
        x = self.pick(lambda v: v.ndim >= 1)
        if x is None:
            return None
        fn = c.weighted([("concatenate", 4), ("pad", 3), ("stack", 2), ("append", 1)])
        if fn == "pad":
            w = c.choice([1, 0, (0, 2), (2, 1)])
            if x.ndim > 1 and c.chance(0.4):
                w = tuple((c.int(0, 2), c.int(0, 2)) for _ in range(x.ndim))
            kwargs = {"constant_values": c.choice([1.5, -2, 0])} if c.chance(0.3) else {}
            if min(x.shape) >= 3 and c.chance(0.4):  # modes built from views of x
                kwargs = {"mode": c.choice(["edge", "wrap", "reflect", "symmetric"])}
            return self.emit("call", "pad", [Ref(x.name), w], kwargs)
        a = c.int(0, x.ndim - 1)
        if fn == "stack":
            y = self.pick(lambda v: v.shape == x.shape)
            return self.emit("call", "stack", [(Ref(x.name), Ref(y.name))],
                             {"axis": c.int(-x.ndim - 1, x.ndim)})
        y = self.pick(lambda v: v.ndim == x.ndim and all(
            d == e for i, (d, e) in enumerate(zip(v.shape, x.shape)) if i != a))
        axis = a - x.ndim if c.chance(0.3) else a
        if fn == "append":
            return self.emit("call", "append", [Ref(x.name), Ref(y.name)],
                             {"axis": None if c.chance(0.4) else axis})
        parts = (Ref(x.name), Ref(y.name)) + ((Ref(x.name),) if c.chance(0.2) else ())
        return self.emit("call", "concatenate", [parts if c.chance(0.5) else parts[::-1]],
                         {"axis": axis})

    def b_binary(self, fn=None):
        x = self.pick()
        y = self.pick(lambda v: _bcast_ok(v.shape, x.shape))
        fn = fn or self.c.weighted([(f, 3 if f in ("add", "subtract", "multiply", "divide",
                                                   "maximum", "minimum", "less", "greater") else 1)
                                    for f in BINARY])
        if fn == "power" and y.dtype not in FLOATS and x.dtype not in FLOATS:
            return self.emit("call", fn, [Ref(x.name), self.c.choice([2, 0, 1, 3])])
        args = [Ref(x.name), Ref(y.name)]
        if self.c.chance(0.3):
            args.reverse()
        kind = "binop" if fn in SYMBOL and self.c.chance(0.3) else "call"
        if kind == "binop" and fn.startswith("logical") and not all(
                self.dtype_of(a) == "bool" for a in args):
            kind = "call"
        return self.emit(kind, fn, args)

    def dtype_of(self, a):
        for v in self.vals:
            if v.name == a.name:
                return v.dtype
        return None

    def b_scalar(self):
        x = self.pick()
        fn = self.c.weighted([("add", 4), ("multiply", 4), ("subtract", 3), ("divide", 3),
                              ("maximum", 2), ("minimum", 1), ("power", 2), ("greater", 2),
                              ("less_equal", 1), ("equal", 1), ("mod", 1), ("floor_divide", 1)])
        s = self.scalar(x)
        if fn == "power":
            s = self.c.choice([2, 3, 0.5, -1, 1.5, 0, -2, 2.0])
        args = [Ref(x.name), s]
        if fn != "power" and self.c.chance(0.4):
            args.reverse()
        elif fn == "power" and (x.dtype in FLOATS or isinstance(s, float)) and self.c.chance(0.2):
            args.reverse()  # a tensor exponent: not for integers (negative powers raise)
        kind = "binop" if fn in SYMBOL and self.c.chance(0.4) else "call"
        self.emit(kind, fn, args)

    def b_reduce(self, x=None):
        c = self.c
        x = x or self.pick()
        fn = c.weighted([(f, 3 if f in ("sum", "max", "mean") else 1) for f in REDUCE])
        arg = fn.startswith("arg")
        kwargs = {}
        ax = self.axis(x, allow_tuple=not arg)
        if ax is not None or c.chance(0.5):
            kwargs["axis"] = ax
        if c.chance(0.4):
            kwargs["keepdims"] = True
        return self.emit("call", fn, [Ref(x.name)], kwargs)

    def b_view(self):
        c = self.c
        x = self.pick()
        kind = c.weighted([("slice", 4), ("transpose", 3), ("reshape", 3), ("expand_dims", 2),
                           ("broadcast_to", 2), ("squeeze", 1), ("T", 1)])
        if kind == "slice":
            if x.ndim == 0:
                return self.emit("getitem", args=[Ref(x.name)], key=(None,))
            first = c.choice([slice(None, None, 2), slice(1, None), slice(None, None, -1),
                              slice(1, -1, 2), 0, None, slice(None, 2)])
            if first == 0 and x.ndim < 2:
                first = slice(1, None)
            key = [first]
            if x.ndim >= 2 and c.chance(0.5):
                key = [slice(None), c.choice([slice(None, None, 2), slice(1, None),
                                              slice(None, None, -1)])]
                if c.chance(0.3):
                    key = [Ellipsis, key[1]]
            return self.emit("getitem", args=[Ref(x.name)], key=tuple(key))
        if kind == "T":
            return self.emit("T", args=[Ref(x.name)])
        if kind == "transpose":
            perm = list(range(x.ndim))
            for i in range(len(perm) - 1, 0, -1):
                j = c.int(0, i)
                perm[i], perm[j] = perm[j], perm[i]
            kw = {"axes": tuple(perm)} if c.chance(0.7) else {}
            return self.emit("call", "transpose", [Ref(x.name)], kw)
        if kind == "expand_dims":
            return self.emit("call", "expand_dims", [Ref(x.name), c.int(-x.ndim - 1, x.ndim)])
        if kind == "squeeze":
            return self.emit("call", "squeeze", [Ref(x.name)])
        if kind == "reshape":
            shp = x.shape
            opt = c.weighted([("flat", 3), ("merge", 2), ("split", 2), ("ones", 1)])
            if opt == "flat" or x.ndim == 0:
                new = (-1,) if c.chance(0.5) else (math.prod(shp),)
            elif opt == "merge" and x.ndim >= 2:
                i = c.int(0, x.ndim - 2)
                new = shp[:i] + (shp[i] * shp[i + 1],) + shp[i + 2:]
            elif opt == "split":
                i = c.int(0, x.ndim - 1)
                d = shp[i]
                f = next((k for k in (2, 3, 5) if d % k == 0 and d > k), None)
                new = shp[:i] + ((f, d // f) if f else (d, 1)) + shp[i + 1:]
            else:
                new = (1,) + shp + (1,)
            return self.emit("call", "reshape", [Ref(x.name), tuple(new)])
        # broadcast_to: prepend a dim and/or grow size-1 dims
        shp = tuple(c.choice([2, 3]) if d == 1 and c.chance(0.7) else d for d in x.shape)
        if c.chance(0.5) or shp == x.shape:
            shp = (c.choice([2, 3, 1]),) + shp
        other = self.pick(lambda v: v.ndim > x.ndim and _bcast_ok(v.shape, x.shape)
                          and np.broadcast_shapes(v.shape, x.shape) == v.shape)
        if other is not None and c.chance(0.4):
            shp = other.shape
        return self.emit("call", "broadcast_to", [Ref(x.name), tuple(shp)])

    def b_pattern(self):
        c = self.c
        kind = c.weighted([("softmax", 3), ("combine", 3), ("scalar_bcast", 3), ("self_view", 2),
                           ("normalize", 1), ("logsumexp", 1)])
        x = self.pick(lambda v: v.ndim >= 1) or self.pick()
        if kind == "self_view":  # a value combined with a view of itself: x + x[::-1], x * x.T
            if x.ndim == 0:
                return
            sq = x.ndim >= 2 and x.shape[-1] == x.shape[-2]
            v = c.choice(["flip", "T", "bcast", "reshape"] if sq else ["flip", "bcast", "reshape"])
            if v == "flip":
                w = self.emit("getitem", args=[Ref(x.name)], key=(slice(None, None, -1),))
            elif v == "T":
                w = self.emit("call", "transpose", [Ref(x.name)],
                              {"axes": tuple(range(x.ndim - 2)) + (x.ndim - 1, x.ndim - 2)})
            elif v == "bcast":
                w = self.emit("call", "broadcast_to", [Ref(x.name), (2,) + x.shape])
            else:
                w = self.emit("call", "reshape", [Ref(x.name), (1,) + x.shape])
            if w is not None:
                op = c.choice(["add", "subtract", "multiply", "maximum", "where", "greater"])
                if op == "where":
                    cond = self.emit("call", "greater", [Ref(x.name), 0])
                    if cond is not None:
                        self.emit("call", "where", [Ref(cond.name), Ref(w.name), Ref(x.name)])
                else:
                    args = [Ref(x.name), Ref(w.name)]
                    self.emit("call", op, args if c.chance(0.5) else args[::-1])
            return
        ax = self.axis(x, allow_none=x.ndim == 0 or c.chance(0.2))
        kw = {"axis": ax, "keepdims": True}
        if kind == "combine":
            red = c.choice(["sum", "max", "mean", "min", "any", "prod"])
            if ax is not None and c.chance(0.3):
                kw = {"axis": 0}
            r = self.emit("call", red, [Ref(x.name)], kw)
            if r:
                op = c.choice(["subtract", "divide", "add", "multiply", "greater", "equal"])
                args = [Ref(x.name), Ref(r.name)]
                self.emit("binop" if op in SYMBOL and c.chance(0.5) else "call", op,
                          args if c.chance(0.7) else args[::-1])
            return
        if kind == "scalar_bcast":
            red = c.choice(["sum", "max", "mean", "min", "any"])
            s = self.emit("call", red, [Ref(x.name)])
            if s is None:
                return
            if c.chance(0.4):
                other = self.pick(lambda v: v.ndim >= 1) or x
                shp = other.shape if c.chance(0.6) else (3,)
                self.emit("call", "broadcast_to", [Ref(s.name), tuple(shp)])
            else:
                other = self.pick(lambda v: v.name != s.name) or x
                op = c.choice(["add", "multiply", "subtract", "maximum", "less"])
                args = [Ref(other.name), Ref(s.name)]
                self.emit("call", op, args if c.chance(0.5) else args[::-1])
            return
        if x.dtype not in FLOATS:
            x = self.emit("call", "cast", [Ref(x.name),
                                           c.choice(["float32", "float16", "float64"])])
            if x is None:
                return
        if kind == "normalize":
            m = self.emit("call", "mean", [Ref(x.name)], kw)
            if m is None:
                return
            d = self.emit("binop", "subtract", [Ref(x.name), Ref(m.name)])
            if d is None:
                return
            q = self.emit("call", "square", [Ref(d.name)])
            v = q and self.emit("call", "mean", [Ref(q.name)], kw)
            e = v and self.emit("call", "add", [Ref(v.name), 1e-5])
            s = e and self.emit("call", "sqrt", [Ref(e.name)])
            if s:
                self.emit("binop", "divide", [Ref(d.name), Ref(s.name)])
            return
        m = self.emit("call", "max", [Ref(x.name)], kw)
        if m is None:
            return
        d = self.emit(c.choice(["binop", "call"]), "subtract", [Ref(x.name), Ref(m.name)])
        e = d and self.emit("call", "exp", [Ref(d.name)])
        s = e and self.emit("call", "sum", [Ref(e.name)], kw)
        if s is None:
            return
        if kind == "softmax":
            self.emit(c.choice(["binop", "call"]), "divide", [Ref(e.name), Ref(s.name)])
        else:
            ls = self.emit("call", "log", [Ref(s.name)])
            if ls:
                self.emit("call", "add", [Ref(ls.name), Ref(m.name)])

    def b_where(self):
        c = self.c
        cond = self.pick(lambda v: v.dtype == "bool")
        if cond is None or c.chance(0.3):
            x = self.pick()
            fn = c.choice(["greater", "less", "isnan", "not_equal"])
            args = [Ref(x.name)] + ([] if fn == "isnan" else [self.scalar(x)])
            cond = self.emit("call", fn, args)
            if cond is None:
                return
        a = self.pick(lambda v: _bcast_ok(v.shape, cond.shape))
        b = self.pick(lambda v: _bcast_ok(v.shape, cond.shape))
        args = [Ref(cond.name), Ref(a.name) if a and c.chance(0.8) else self.scalar(a or cond),
                Ref(b.name) if b and c.chance(0.6) else self.scalar(b or cond)]
        self.emit("call", "where", args)

    def b_cast(self):
        x = self.pick()
        self.emit("call", "cast", [Ref(x.name), self.c.choice(list(DTYPES) + ["int16"])])

    def b_force(self):
        x = self.pick(lambda v: not v.is_input and v.name not in self.forced)
        if x is None:
            return
        self.forced.add(x.name)
        self.steps.append(Step(self.fresh("f"), "force", args=(Ref(x.name),)))

    def b_create(self):
        c = self.c
        x = self.pick()
        kind = c.choice(["zeros_like", "ones_like", "full_like", "full", "arange"])
        if kind == "full_like":
            v = self.emit("call", kind, [Ref(x.name), self.scalar(x)])
        elif kind == "full":
            v = self.emit("call", "full", [x.shape, self.scalar(x)],
                          {"dtype": c.choice(list(DTYPES))})
        elif kind == "arange":
            n = x.shape[-1] if x.ndim else 4
            v = self.emit("call", "arange", [n], {"dtype": c.choice(["int32", "float32", "uint8"])})
        else:
            kw = {"dtype": c.choice(list(DTYPES))} if c.chance(0.5) else {}
            v = self.emit("call", kind, [Ref(x.name)], kw)
        if v is not None:
            y = self.pick(lambda u: _bcast_ok(u.shape, v.shape) and u.name != v.name)
            if y is not None:
                self.emit("call", c.choice(["add", "multiply", "maximum"]),
                          [Ref(v.name), Ref(y.name)])

    def b_clip(self):
        x = self.pick()
        a = self.c.choice([-1, 0, -0.5, 1.5, -3])
        b = a + self.c.choice([1, 2, 0.5, 4])
        self.emit("call", "clip", [Ref(x.name), a, b])

    def b_matmul(self):
        x = self.pick(lambda v: 1 <= v.ndim <= 2 and v.size <= 4096)
        if x is None:
            return
        if x.ndim == 2 and self.c.chance(0.6):
            t = self.emit("T", args=[Ref(x.name)])
            if t:
                self.emit("call", "matmul", [Ref(x.name), Ref(t.name)])
            return
        y = self.pick(lambda v: v.ndim >= 1 and v.shape[-1 if v.ndim == 1 else -2] == x.shape[-1])
        if y is not None:
            self.emit("call", "matmul", [Ref(x.name), Ref(y.name)])

    def b_varstd(self):
        x = self.pick()
        self.emit("call", self.c.choice(["var", "std"]), [Ref(x.name)],
                  {"axis": self.axis(x)})

    # -- outputs
    def outputs(self):
        """The values no later step reads (each mostly), the last one, and a
        few intermediates, reductions preferred: forced together."""
        c = self.c
        computed = [v for v in self.vals if not v.is_input]
        if not computed:
            return []
        read = {r for s in self.steps for r in s.refs()}
        outs = [computed[-1].name]
        for v in computed[:-1]:
            if v.name not in read and c.chance(0.8):
                outs.append(v.name)
        reductions = {s.target for s in self.steps if s.fn in REDUCE}
        pool = [(v, 4 if v.name in reductions else 1) for v in self.vals]
        for _ in range(c.weighted([(0, 2), (1, 3), (2, 2)])):
            v = c.weighted(pool)
            if v.name not in outs or c.chance(0.05):
                outs.append(v.name)
        if c.chance(0.3):
            outs = outs[::-1]
        return outs


def _apply_lazy(step, args, kwargs):
    """Apply a step to lazyops tensors (for generation; runs mirror the lines)."""
    if step.kind == "call":
        return getattr(lo, step.fn)(*args, **kwargs)
    if step.kind == "binop":
        a, b = args
        return _PY_OPS[step.fn](a, b)
    if step.kind == "getitem":
        return args[0][step.key]
    if step.kind == "T":
        return args[0].T
    if step.kind == "loop":
        return eval(LOOPS[step.fn].format(m="lo", x="x"), {"lo": lo}, {"x": args[0]})
    raise ValueError(step.kind)


import operator as _operator  # noqa: E402

_PY_OPS = {"add": _operator.add, "subtract": _operator.sub, "multiply": _operator.mul,
           "divide": _operator.truediv, "floor_divide": _operator.floordiv,
           "mod": _operator.mod, "power": _operator.pow, "less": _operator.lt,
           "less_equal": _operator.le, "greater": _operator.gt, "greater_equal": _operator.ge,
           "equal": _operator.eq, "not_equal": _operator.ne, "logical_and": _operator.and_,
           "logical_or": _operator.or_, "logical_xor": _operator.xor}


def generate(chooser, max_steps=12, big=0.15, keep_error=True, strict=False, label=""):
    """A random program. `chooser`: RandomChooser / HypothesisChooser / seed.
    max_steps: at most this many steps; big: the probability that the inputs
    are big (20k-40k elements: several parallel blocks); keep_error: now and
    then end with a step that recording rejects; strict: also apply the
    F64_QUIRK ops to float64 values."""
    if not hasattr(chooser, "weighted"):
        chooser = RandomChooser(chooser)
    g = _Gen(chooser, max_steps, big, keep_error, strict)
    with warnings.catch_warnings():
        warnings.simplefilter("ignore")
        g.make_inputs()
        n = chooser.int(1, max_steps)
        while len(g.steps) < n and not g.done:
            g.step()
        outs = [] if g.done else g.outputs()
    return Program(g.inputs, g.steps, outs, label)


def programs(max_steps=10, big=0.1, keep_error=True, strict=False):
    """Hypothesis strategy of programs (see `generate`)."""
    from hypothesis import strategies as st

    @st.composite
    def strategy(draw):
        return generate(HypothesisChooser(draw), max_steps=max_steps, big=big,
                        keep_error=keep_error, strict=strict)
    return strategy()


# ====================================================================== running

@dataclasses.dataclass
class LegResult:
    values: dict       # label -> ndarray (forced values and evaluate outputs)
    meta: dict         # label -> (shape, dtype) of the lazy handle before forcing
    env: dict          # variable -> value after the run
    error: Any = None  # (line index, phase, step op, exception, traceback text)
    fail_line: str = ""


def _labels(prog):
    return prog.forced() + ["evaluate:" + o for o in prog.outputs]


def _run_lines(lines, ns):
    err, fail_line = None, ""
    with warnings.catch_warnings(), np.errstate(all="ignore"):
        warnings.simplefilter("ignore")
        for i, (line, phase, step) in enumerate(lines):
            try:
                exec(compile(line, f"<program line {i}>", "exec"), ns)  # noqa: S102
            except Exception as e:  # noqa: BLE001
                op = step.op if step is not None else (
                    "evaluate" if line.startswith("outs =") else "convert_to_tensor")
                err = (i, phase, op, e, traceback.format_exc(limit=-6))
                fail_line = line
                break
    return err, fail_line


def run_lazy(prog, small_work=None):
    """Run on lazyops; small_work None = the default path, 0 = compiled,
    HUGE = the interpreter."""
    ns = {"np": np, "lo": lo}
    # compiled: every force runs its kernels, the first one too (not tiered),
    # parallel at every size unless LAZYOPS_FUZZ_SERIAL_WORK says otherwise
    serial = int(os.environ.get("LAZYOPS_FUZZ_SERIAL_WORK", 0))
    cm = contextlib.nullcontext() if small_work is None else \
        lo.config.override(small_work=small_work, tiered=False, serial_work=serial)
    lines = prog.lines("lo")
    with cm:
        # metadata of the outputs before they are forced
        err, fail_line = _run_lines(lines[:-1], ns)
        meta = {}
        if err is None:
            for lab in _labels(prog):
                if lab.startswith("evaluate:"):
                    t = ns[lab[9:]]
                    meta[lab] = (tuple(t.shape), t.dtype)
            err, fail_line = _run_lines(lines[-1:], ns)
            if err is not None:
                err = (len(lines) - 1,) + err[1:]
    return LegResult(_collect(prog, ns), meta, ns, err, fail_line)


def _collect(prog, ns):
    vals = {}
    for f in prog.forced():
        if f in ns:
            vals[f] = np.asarray(ns[f])
    if "outs" in ns:
        for o, v in zip(prog.outputs, ns["outs"]):
            vals["evaluate:" + o] = np.asarray(v)
    return vals


_K = None


def keras_ops():
    global _K
    if _K is None:
        import os
        os.environ.setdefault("KERAS_BACKEND", "numpy")
        import keras
        if keras.backend.backend() != "numpy":
            raise RuntimeError("KERAS_BACKEND must be 'numpy' for the NumPy oracle")
        from keras import ops
        _K = ops
    return _K


def run_numpy(prog):
    """Run on keras.ops with the NumPy backend (eager: errors come at once)."""
    ns = {"np": np, "K": keras_ops()}
    err, fail_line = _run_lines(prog.lines("K"), ns)
    return LegResult(_collect(prog, ns), {}, ns, err, fail_line)


# ====================================================================== error bounds

def _eps(dt):
    return float(np.finfo(dt).eps) if np.dtype(dt).kind == "f" else 0.0


def _zero(e):
    return isinstance(e, float) and e == 0.0


def _f64(x):
    return np.asarray(x).astype(np.float64)


def _tiny(dt):
    return float(np.finfo(dt).smallest_subnormal) if np.dtype(dt).kind == "f" else 0.0


def _rsqrt(x):
    return 1 / np.sqrt(x)


def _arctan2_jump(y, x):
    return np.where(x < 0, np.sign(y) + 2, 0) + np.where(np.isnan(x) | np.isnan(y), 9, 0)


def _floor_div_jump(a, b):
    return np.floor(a / b)


def _power_jump(a, b):
    """A negative base has a real power only at integer exponents: the
    result jumps between NaN and a number wherever the exponent's interval
    holds an integer (a tanh one ulp from -1 feeding the exponent)."""
    return np.where(a < 0, np.floor(b), 0.0)


# name -> (float64 function, approx, discontinuous, jump, can overflow)
EW = {
    "negative": (np.negative, False, False, None, False),
    "absolute": (np.abs, False, False, None, False),
    "abs": (np.abs, False, False, None, False),
    "square": (np.square, False, False, None, False),
    "sqrt": (np.sqrt, False, False, None, False),
    "rsqrt": (_rsqrt, True, False, None, False),
    "sign": (np.sign, False, True, None, False),
    "floor": (np.floor, False, True, None, False),
    "ceil": (np.ceil, False, True, None, False),
    "trunc": (np.trunc, False, True, None, False),
    "logical_not": (np.logical_not, False, True, None, False),
    "isnan": (np.isnan, False, True, None, False),
    "isinf": (np.isinf, False, True, None, False),
    "isfinite": (np.isfinite, False, True, None, False),
    "add": (np.add, False, False, None, False),
    "subtract": (np.subtract, False, False, None, False),
    "multiply": (np.multiply, False, False, None, False),
    "divide": (np.divide, False, False, None, False),
    "true_divide": (np.divide, False, False, None, False),
    "maximum": (np.maximum, False, False, None, False),
    "minimum": (np.minimum, False, False, None, False),
    "power": (np.power, True, False, _power_jump, True),
    "floor_divide": (np.floor_divide, False, True, None, False),
    "mod": (np.mod, False, False, _floor_div_jump, False),
    "arctan2": (np.arctan2, True, False, _arctan2_jump, False),
    "logical_and": (np.logical_and, False, True, None, False),
    "logical_or": (np.logical_or, False, True, None, False),
    "logical_xor": (np.logical_xor, False, True, None, False),
}
for _n in ("exp", "expm1", "sinh", "cosh"):
    EW[_n] = (getattr(np, _n), True, False, None, True)
for _n in ("log", "log1p", "log2", "log10", "sin", "cos", "tan", "tanh", "arcsin", "arccos",
           "arctan"):
    EW[_n] = (getattr(np, _n), True, False, None, False)
for _n in ("equal", "not_equal", "less", "less_equal", "greater", "greater_equal"):
    EW[_n] = (getattr(np, _n), False, True, None, False)


def _ew_bound(fn, out, xs, es, approx=False, disc=False, jump=None, overflow=False):
    """Error bound of an elementwise result from its inputs' bounds, by
    evaluating `fn` in float64 at the corners of the input intervals."""
    out = np.asarray(out)
    odt = out.dtype
    exact_in = all(_zero(e) for e in es)
    if exact_in and not approx:
        return 0.0
    shape = out.shape
    X = [_f64(x) for x in xs]
    E = [np.broadcast_to(np.asarray(e, np.float64), np.shape(x)) for x, e in zip(X, es)]
    with np.errstate(all="ignore"), warnings.catch_warnings():
        warnings.simplefilter("ignore")
        center = np.broadcast_to(_f64(fn(*X)), shape)
        ccast = center.astype(odt) if odt.kind == "f" else center
        unstable = np.zeros(shape, bool)
        dev = np.zeros(shape)
        for e in E:
            unstable |= np.broadcast_to(~np.isfinite(e), shape)
        jc = np.broadcast_to(jump(*X), shape) if jump else None
        err_idx = [i for i, e in enumerate(es) if not _zero(e)]
        corners = []
        for signs in itertools.product((-1.0, 1.0), repeat=len(err_idx)):
            Xc = list(X)
            for i, s in zip(err_idx, signs):
                Xc[i] = X[i] + s * np.where(np.isfinite(E[i]), E[i], 0)
            corners.append((Xc, False))
        if approx:  # the op's own error, as a few ulps of wiggle on each float input
            for i, x in enumerate(xs):
                dt = np.asarray(x).dtype
                if dt.kind == "f":
                    for s in (-1.0, 1.0):
                        Xc = list(X)
                        Xc[i] = X[i] * (1 + s * 4 * _eps(dt))
                        corners.append((Xc, True))
        for Xc, wiggle in corners:
            c = np.broadcast_to(_f64(fn(*Xc)), shape)
            ccc = c.astype(odt) if odt.kind == "f" else c
            nan_diff = np.isnan(ccc) != np.isnan(ccast)
            inf_diff = (np.isinf(ccc) != np.isinf(ccast)) | (
                np.isinf(ccc) & np.isinf(ccast) & (np.sign(ccc) != np.sign(ccast)))
            both = np.isfinite(c) & np.isfinite(center)
            d = np.where(both, np.abs(c - center), 0.0)
            if wiggle:
                # a NaN at a domain edge is not wiggle's business; overflow is
                if overflow:
                    unstable |= inf_diff & ~np.isnan(ccc)
            else:
                unstable |= nan_diff | inf_diff
                if disc or odt.kind != "f":
                    unstable |= (d > 0) | (np.isnan(c) != np.isnan(center))
                if jump is not None:
                    jj = np.broadcast_to(jump(*Xc), shape)
                    unstable |= (jj != jc) & ~(np.isnan(jj) & np.isnan(jc))
            dev = np.maximum(dev, d)
        if odt.kind in "iu":  # a float result (rsqrt of a bool) cast out of range: undefined
            info = np.iinfo(odt)
            unstable |= ~np.isfinite(center) | (center < info.min) | (center > info.max)
        if odt.kind != "f":
            return np.where(unstable, np.inf, 0.0)
        r = np.abs(_f64(out))
        rnd = (8 if approx else 2) * _eps(odt) * np.where(np.isfinite(r), r, 0)
        bound = dev + rnd
        bound = np.where(np.isfinite(r) & (r + bound > float(np.finfo(odt).max)), np.inf, bound)
        bound = np.where(np.isfinite(r), bound, 0.0)
        return np.where(unstable, np.inf, bound)


def _norm_axes(axis, ndim):
    if axis is None or ndim == 0:
        return tuple(range(ndim))
    axes = axis if isinstance(axis, (tuple, list)) else (axis,)
    return tuple(sorted(a % ndim for a in axes))


def _reduce_bound(fn, x, e, out, axis):
    x = np.asarray(x)
    out = np.asarray(out)
    axes = _norm_axes(axis, x.ndim)
    n = int(np.prod([x.shape[a] for a in axes])) if axes else 1
    E = np.broadcast_to(np.asarray(e, np.float64), x.shape)

    def red(f, a):
        return np.reshape(f(a, axis=axes, keepdims=True), out.shape) if axes else \
            np.reshape(a, out.shape)
    with np.errstate(all="ignore"), warnings.catch_warnings():
        warnings.simplefilter("ignore")
        bad = red(np.any, ~np.isfinite(E)) if not _zero(e) else np.zeros(out.shape, bool)
        ok_float = out.dtype.kind == "f"
        xf = _f64(x)
        if fn in ("any", "all"):
            if x.dtype.kind == "f" and not _zero(e):
                bad = bad | red(np.any, E >= np.abs(xf))
            return np.where(bad, np.inf, 0.0) if not _zero(e) else 0.0
        if fn in ("argmax", "argmin"):
            if _zero(e):
                return 0.0
            sgn = 1 if fn == "argmax" else -1
            v = sgn * xf
            m = red(np.max, np.where(np.isnan(v), -np.inf, v))
            mk = np.reshape(m, [1 if i in axes else s for i, s in enumerate(x.shape)]) \
                if axes else m
            near = (v + E >= mk - red(np.max, E).reshape(np.shape(mk)))
            bad = bad | (red(np.sum, near) > 1) | red(np.any, np.isnan(v) & (E > 0))
            return np.where(bad, np.inf, 0.0)
        if not ok_float:
            # integer sums/products/max wrap or select exactly
            return np.where(bad, np.inf, 0.0) if not _zero(e) else 0.0
        odt = out.dtype
        o = _f64(out)
        absx = np.where(np.isfinite(xf), np.abs(xf), 0.0)
        finite_row = red(np.all, np.isfinite(xf))
        if fn in ("max", "min", "amax", "amin"):
            bound = red(np.max, E) if not _zero(e) else np.zeros(out.shape)
            bound = np.where(o == 0, np.maximum(bound, _tiny(odt)), bound)  # sign of zero
            bound = np.where(np.isfinite(o), bound, 0.0)
            return np.where(bad, np.inf, bound)
        if fn in ("sum", "mean"):
            in_eps = _eps(x.dtype) if x.dtype.kind == "f" else _eps(odt)
            k = 2 * (math.ceil(math.log2(n + 1)) + 2)
            s_abs = red(np.sum, absx)
            bound = (red(np.sum, E) if not _zero(e) else 0.0) + k * in_eps * s_abs
            if fn == "mean":
                bound = bound / max(n, 1)
                s_abs = s_abs / max(n, 1) * (n if x.dtype.kind == "f" else 1)
            bound = bound + 2 * _eps(odt) * np.abs(np.where(np.isfinite(o), o, 0))
            # NumPy itself may sum sequentially (a strided or broadcast
            # operand is not summed pairwise): add its actual error
            exact = red(np.sum, np.where(np.isfinite(xf), xf, 0))
            exact = exact / max(n, 1) if fn == "mean" else exact
            bound = bound + np.where(np.isfinite(o), np.abs(o - exact), 0)
            lim = float(np.finfo(odt).max) * 0.5
            unstable = bad | (finite_row & ~np.isfinite(o)) | (s_abs > lim)
            bound = np.where(o == 0, np.maximum(bound, _tiny(odt)), bound)
            bound = np.where(np.isfinite(o), bound, 0.0)
            return np.where(unstable, np.inf, bound)
        if fn == "prod":
            lg = np.where(np.isfinite(xf) & (xf != 0), np.log2(np.abs(np.where(xf == 0, 1, xf))), 0)
            info = np.finfo(odt)
            pos = red(np.sum, np.maximum(lg, 0))
            neg = red(np.sum, np.minimum(lg, 0))
            unstable = bad | (pos > info.maxexp - 2) | (neg < info.minexp + 2)
            rel = red(np.sum, np.where(E > 0, E / np.abs(xf), 0)) if not _zero(e) else 0.0
            if not _zero(e):
                unstable |= red(np.any, (E > 0) & (E >= np.abs(xf)))
            bound = np.abs(o) * (rel + 2 * (n + 1) * _eps(odt))
            bound = np.where(np.isfinite(o), np.where(o == 0, _tiny(odt), bound), 0.0)
            return np.where(unstable, np.inf, bound)
    return np.inf


def error_bounds(prog, env):
    """Per-variable error bound (0.0, or an array: inf = not compared) of
    the values in `env` (a NumPy run of `prog`)."""
    bounds = {inp.name: 0.0 for inp in prog.inputs}

    def E(a):
        return _map_refs(a, lambda r: bounds.get(r.name, np.inf)) if _refs_in(a) else 0.0

    def V(a):
        return _map_refs(a, lambda r: env[r.name])

    for s in prog.steps:
        if s.target not in env:
            break
        try:
            with warnings.catch_warnings(), np.errstate(all="ignore"):
                warnings.simplefilter("ignore")
                b = _step_bound(s, env[s.target], [V(a) for a in s.args], [E(a) for a in s.args],
                                {k: V(v) for k, v in s.kwargs.items()},
                                {k: E(v) for k, v in s.kwargs.items()})
        except Exception:  # noqa: BLE001  (a bound we cannot compute: compare nothing)
            b = np.inf
        if not isinstance(b, float):
            b = np.asarray(b, np.float64)
            b = np.where(np.isnan(b), np.inf, b)
            b = np.broadcast_to(b, np.shape(env[s.target]))
            if not b.any():
                b = 0.0
        elif b != 0.0:
            b = np.broadcast_to(np.float64(b), np.shape(env[s.target]))
        bounds[s.target] = b
    return bounds


def _full(e, shape):
    return e if _zero(e) else np.broadcast_to(np.asarray(e, np.float64), shape)


def _step_bound(s, out, args, es, kwargs, kes):
    out = np.asarray(out)
    if s.kind == "force":
        return es[0]
    if s.kind in ("getitem", "T") or s.fn in ("transpose", "reshape", "expand_dims", "squeeze",
                                              "broadcast_to"):
        e = es[0]
        if _zero(e):
            return 0.0
        e = _full(e, np.shape(args[0]))
        if s.kind == "getitem":
            return np.asarray(e[s.key])
        if s.kind == "T":
            return np.transpose(e)
        if s.fn == "transpose":
            return np.transpose(e, kwargs.get("axes", args[1] if len(args) > 1 else None))
        return np.reshape(np.broadcast_to(e, np.shape(e)), out.shape) if s.fn != "broadcast_to" \
            else np.broadcast_to(e, out.shape)
    fn = s.fn
    if fn in ("zeros_like", "ones_like", "full_like", "full", "zeros", "ones", "arange"):
        return 0.0
    if fn in _MOVES:
        return _move_bound(fn, out, args, es, kwargs)
    if fn in EW:
        f, approx, disc, jump, over = EW[fn]
        return _ew_bound(f, out, args, es, approx, disc, jump, over)
    if fn == "round":
        d = kwargs.get("decimals", args[1] if len(args) > 1 else 0)
        return _ew_bound(lambda x: np.round(x, d), out, args[:1], es[:1], False, True)
    if fn == "clip":
        a, b = args[1], args[2]
        return _ew_bound(lambda x: np.minimum(np.maximum(x, a), b), out, args[:1], es[:1])
    if fn == "cast":
        x = np.asarray(args[0])
        dt = np.dtype(args[1] if len(args) > 1 else kwargs["dtype"])
        if x.dtype.kind == "f" and dt.kind in "iub":
            bad = np.zeros(out.shape, bool)
            if dt.kind in "iu":
                info = np.iinfo(dt)
                xf = _f64(x)
                bad = ~np.isfinite(xf) | (xf <= info.min - 1) | (xf >= info.max + 1)
            f = (lambda v: v != 0) if dt.kind == "b" else np.trunc
            b = _ew_bound(f, out, [x], es[:1], False, True)
            return np.where(bad, np.inf, b)
        return _ew_bound(lambda v: v, out, [x], es[:1])
    if fn == "where":
        c, a, b = args
        ec, ea, eb = es
        cb = np.asarray(c).astype(bool)
        res = np.where(cb, np.broadcast_to(np.asarray(ea, float), out.shape),
                       np.broadcast_to(np.asarray(eb, float), out.shape))
        if not _zero(ec):
            cf = _f64(c)
            bad = ~np.isfinite(ec) | (np.asarray(ec) >= np.abs(cf))
            res = np.where(np.broadcast_to(bad, out.shape), np.inf, res)
        return res
    if fn in ("sum", "mean", "max", "min", "amax", "amin", "prod", "any", "all", "argmax",
              "argmin"):
        axis = kwargs.get("axis", args[1] if len(args) > 1 else None)
        x = np.asarray(args[0])
        if fn in ("argmax", "argmin") and x.ndim == 0:
            return 0.0
        return _reduce_bound(fn, x, es[0], out, axis)
    if fn in ("var", "std"):
        x = _f64(args[0])
        if not _zero(es[0]):
            return np.inf
        axis = kwargs.get("axis", None)
        axes = _norm_axes(axis, x.ndim)
        n = int(np.prod([x.shape[a] for a in axes])) if axes else 1
        with np.errstate(all="ignore"):
            m2 = np.mean(np.where(np.isfinite(x), x * x, 0), axis=axes or None)
        odt = out.dtype
        # Keras computes in the result dtype or wider (float64 input: float32)
        xdt = np.asarray(args[0]).dtype
        eps = max(_eps(xdt), _eps(odt)) if xdt.kind == "f" else _eps(odt)
        ev = 8 * (math.log2(n + 1) + 2) * eps * m2 * 4
        ev = np.reshape(ev, out.shape)
        o = _f64(out)
        b = ev if fn == "var" else np.sqrt(ev)
        b = b + 4 * _eps(odt) * np.abs(np.where(np.isfinite(o), o, 0))
        # NumPy sums an outer axis sequentially, not pairwise: add its actual error
        with np.errstate(all="ignore"):
            exact = np.reshape(np.var(x, axis=axes or None), out.shape)
        exact = exact if fn == "var" else np.sqrt(exact)
        b = b + np.where(np.isfinite(o) & np.isfinite(exact), np.abs(o - exact), 0)
        b = np.where(o == 0, np.maximum(b, _tiny(odt)), b)
        return np.where(np.isfinite(o), b, np.where(np.isnan(o), 0.0, np.inf))
    if fn in ("cumsum", "cumprod"):
        return _scan_bound(fn, np.asarray(args[0]), es[0], out, kwargs.get("axis"))
    if s.kind == "loop":
        return _loop_bound(fn, _f64(args[0]), es[0], out)
    if fn == "matmul":
        a, b = _f64(args[0]), _f64(args[1])
        if out.dtype.kind != "f":
            return 0.0 if _zero(es[0]) and _zero(es[1]) else np.inf
        ea = _full(es[0], a.shape)
        eb = _full(es[1], b.shape)
        k = a.shape[-1]
        with np.errstate(all="ignore"):
            aa, ab = np.abs(a), np.abs(b)
            fa, fb = np.isfinite(a).all(), np.isfinite(b).all()
            bound = 2 * (k + 2) * _eps(out.dtype) * np.matmul(aa, ab)
            if not _zero(ea):
                bound = bound + np.matmul(ea, ab + (0 if _zero(eb) else eb))
            if not _zero(eb):
                bound = bound + np.matmul(aa, eb)
        if not (fa and fb):
            # BLAS kernels may skip products with a zero factor: NaN * 0 gives
            # NaN or 0 depending on the layout, so such results are unchecked
            return np.full(np.shape(out), np.inf)
        return np.where(np.isfinite(bound), bound, np.inf)
    return np.inf


# data movement: each element of the result is one element of an operand (or
# pad's constant), converted to the result's dtype
_MOVES = ("concatenate", "stack", "append", "pad", "roll")


def _move_bound(fn, out, args, es, kwargs):
    """The operands' bounds moved as their values are, plus a rounding where
    a bounded value changes dtype."""
    many = fn in ("concatenate", "stack")
    vals, errs = (list(args[0]), list(es[0])) if many else (args[:2], es[:2]) \
        if fn == "append" else (args[:1], es[:1])
    if all(_zero(e) for e in errs):
        return 0.0
    full = [np.broadcast_to(np.asarray(e, np.float64), np.shape(v)) for v, e in zip(vals, errs)]
    if many:
        moved = getattr(np, fn)(full, axis=kwargs.get("axis", 0))
    elif fn == "append":
        moved = np.append(*full, axis=kwargs.get("axis"))
    elif fn == "pad":
        moved = np.pad(full[0], args[1], mode=kwargs.get("mode", "constant"))
    else:
        moved = np.roll(full[0], args[1], axis=kwargs.get("axis"))
    if out.dtype.kind == "f" and any(np.asarray(v).dtype != out.dtype for v in vals):
        o = _f64(out)
        moved = moved + np.where(np.isfinite(o), 4 * _eps(out.dtype) * np.abs(o), 0)
    return moved


def _scan_bound(fn, x, e, out, axis):
    """A running sum or product in any grouping (a tiled scan regroups it):
    after k steps, k roundings of the running magnitude (the sum of |x|, or
    the product's own size), plus the inputs' bounds carried along (sums
    add them; products: exact inputs only). Not compared where it is not
    finite (overflow, inf - inf)."""
    if axis is None:
        x, e = x.reshape(-1), (e if _zero(e) else np.reshape(e, -1))
        axis = 0
    if out.dtype.kind != "f":
        return 0.0 if _zero(e) else np.inf
    eps = _eps(out.dtype) if x.dtype.kind != "f" else max(_eps(out.dtype), _eps(x.dtype))
    a = _f64(x)
    k = np.cumsum(np.ones_like(a), axis=axis)
    o = np.reshape(_f64(out), a.shape)
    with np.errstate(all="ignore"):
        if fn == "cumsum":
            b = 2 * k * eps * np.cumsum(np.abs(a), axis=axis)
            if not _zero(e):
                b = b + np.cumsum(_full(e, a.shape), axis=axis)
        else:
            if not _zero(e):
                return np.inf
            b = 2 * k * eps * np.abs(np.cumprod(a, axis=axis))
        b = b + 2 * _tiny(out.dtype)
    return np.reshape(np.where(np.isfinite(b) & np.isfinite(o), b, np.inf), out.shape)


def _loop_bound(fn, x, e, out):
    """LOOPS' results: the recurrence's weights are at most 1, so it is
    bounded as a running sum of |x| (reversed for `scan_reverse`); the
    others are a few roundings of their result, exact inputs only."""
    if fn.startswith("scan"):
        if fn == "scan_reverse":
            b = _scan_bound("cumsum", np.flip(x, 0), e if _zero(e) else np.flip(e, 0),
                            np.flip(out, 0), 0)
            return b if isinstance(b, float) else np.flip(b, 0)
        return _scan_bound("cumsum", x, e, out, 0)
    if not _zero(e):
        return np.inf
    o = _f64(out)
    b = 8 * _eps(out.dtype) * (np.abs(o) + 2) + 2 * _tiny(out.dtype)
    return np.where(np.isfinite(o), b, np.inf)


# ====================================================================== comparison

def compare(got, want, bound, what=""):
    """None if `got` matches `want` within `bound`, else a description."""
    got, want = np.asarray(got), np.asarray(want)
    if got.shape != want.shape:
        return f"{what}: shape {got.shape} != expected {want.shape}"
    if got.dtype != want.dtype:
        return f"{what}: dtype {got.dtype} != expected {want.dtype}"
    E = np.broadcast_to(np.asarray(bound, np.float64), want.shape)
    checked = np.isfinite(E)
    if want.dtype.kind != "f":
        bad = checked & (got != want)
    else:
        g, w = _f64(got), _f64(want)
        dt = want.dtype.name
        with np.errstate(all="ignore"):
            nan_bad = np.isnan(g) != np.isnan(w)
            inf_bad = (np.isinf(g) != np.isinf(w)) | (
                np.isinf(g) & np.isinf(w) & (np.sign(g) != np.sign(w)))
            fin = np.isfinite(g) & np.isfinite(w)
            tol = 2 * np.where(checked, E, 0) + RTOL[dt] * np.abs(w) + ATOL[dt]
            bad = checked & (nan_bad | inf_bad | (fin & (np.abs(g - w) > tol)))
    if not bad.any():
        return None
    idx = np.argwhere(bad)
    first = tuple(int(i) for i in idx[0])
    n_bad = int(bad.sum())
    g0, w0 = got[first] if got.ndim else got, want[first] if want.ndim else want
    e0 = E[first] if E.ndim else E
    msg = (f"{what}: {n_bad} of {want.size} element(s) differ; first at {first}: "
           f"got {g0!r}, expected {w0!r} (bound {float(e0):.3g}, {int(checked.sum())} checked)")
    if want.size <= 24:
        msg += (f"\n    got      {np.array2string(got, separator=', ')}"
                f"\n    expected {np.array2string(want, separator=', ')}")
    return msg


@dataclasses.dataclass
class Outcome:
    status: str        # ok | skip | mismatch | error
    kind: str = ""     # e.g. "compiled!=numpy", "force-time RuntimeError"
    op: str = ""       # the op that produced the offending value / raised
    detail: str = ""
    checked: int = 0   # values compared

    @property
    def ok(self):
        return self.status in ("ok", "skip")

    @property
    def signature(self):
        return f"{self.status}: {self.kind} [{self.op}]"

    def report(self):
        return f"{self.status}: {self.kind} [{self.op}]\n{self.detail}"


def _err_kind(e):
    return type(e).__name__


def _same_error_kind(lazy_exc, np_exc):
    """lazyops may raise TypeError/ValueError where NumPy/Keras raise anything
    (as in tests/oracle.py), or the very same class."""
    return isinstance(lazy_exc, (TypeError, ValueError, type(np_exc)))


def check_replay(prog, compiled=True):
    """`prog` as `lazyops.function` of its arrays (`function_source`), traced
    on its data and replayed on other data of the same shapes and dtypes,
    against the program recorded and forced on that data, both on the
    compiled path (or the default one): a replay must compute what a
    recording computes."""
    src = prog.function_source()
    if src is None:
        return Outcome("skip", "forces while recording, or no outputs")
    ns = {"np": np, "lo": lo}
    exec(src, ns)  # noqa: S102  (the generator's own text)
    first, other = prog.data(), prog.data(permuted=True)
    path = lo.config.override(small_work=0, tiered=False) if compiled else contextlib.nullcontext()
    with path, warnings.catch_warnings(), np.errstate(all="ignore"):
        warnings.simplefilter("ignore")
        try:
            want = [np.asarray(v) for v in lo.evaluate(*ns["program"](*other))]
        except (TypeError, ValueError) as e:
            return Outcome("skip", f"recording raises {_err_kind(e)}")
        replay = lo.function(ns["program"])
        try:
            replay(*first)
            got = replay(*other)
        except Exception as e:  # noqa: BLE001
            return Outcome("error", f"replay: {_err_kind(e)}: {_short(e)}", "function",
                           traceback.format_exc(limit=-6))
    for k, (g, w) in enumerate(zip(got, want)):
        if g.dtype != w.dtype or g.shape != w.shape or not np.array_equal(g, w, equal_nan=True):
            return Outcome("mismatch", "replay!=recording", prog.source_of(prog.outputs[k]),
                           f"output {k}: got {g.dtype} {g.shape} {g!r}\nwant {w.dtype} {w.shape} "
                           f"{w!r}", k + 1)
    return Outcome("ok", checked=len(want))


def check_chunked(prog, chunk=3):
    """`prog` forced with every plan on its tiered first run, which interprets
    the kernels that compute each row alone `chunk` elements at a time
    (`ir.interpreter.run_chunked`), against the same runs interpreting them
    whole: bit for bit. The compiles those runs queue are dropped."""
    from lazyops import engine
    from lazyops.codegen import background
    background.wait()  # (a compile still running would make the first runs whole)

    def run(size):
        engine._plans.clear()  # every plan new: each force its first run
        engine._by_node.clear()
        saved = engine._CHUNK, background.submit
        engine._CHUNK, background.submit = size, lambda job: None
        try:
            with lo.config.override(small_work=0, tiered=True):
                return run_lazy(prog)
        finally:
            engine._CHUNK, background.submit = saved
            engine._plans.clear()
            engine._by_node.clear()

    whole, parts = run(1 << 62), run(chunk)
    if (whole.error is None) != (parts.error is None):
        which = whole if whole.error else parts
        return Outcome("error", f"chunked and whole runs differ: {_err_kind(which.error[3])}",
                       which.error[2], which.error[4])
    for lab, w in whole.values.items():
        g = parts.values.get(lab)
        if g is None or g.dtype != w.dtype or g.shape != w.shape or \
                not np.array_equal(g, w, equal_nan=True):
            return Outcome("mismatch", "chunked!=whole", lab,
                           f"got {None if g is None else (g.dtype, g.shape)} {g!r}\n"
                           f"want {w.dtype} {w.shape} {w!r}")
    return Outcome("ok", checked=len(whole.values))


def check_program(prog, subject="compiled", reference="numpy"):
    """Run `prog` on the subject path ('compiled' or 'default'), the NumPy
    interpreter and (reference='numpy') keras.ops on NumPy; compare. The
    subject 'replay' checks `lazyops.function` instead (`check_replay`),
    'chunked' the tiered first run's chunked interpretation
    (`check_chunked`)."""
    if subject == "replay":
        return check_replay(prog)
    if subject == "chunked":
        return check_chunked(prog)
    subject_sw = {"compiled": 0, "default": None}[subject]
    S = run_lazy(prog, subject_sw)
    Interp = run_lazy(prog, HUGE)
    R = run_numpy(prog) if reference == "numpy" else Interp
    lines = prog.lines("lo")

    def where(err):
        i = err[0]
        return f"line {i}: {lines[i][0] if i < len(lines) else '?'}"

    # force-time errors on lazyops are failures, whatever NumPy does
    for leg, name in ((S, subject), (Interp, "interpreter")):
        if leg.error and leg.error[1] == "force":
            i, _, op, e, tb = leg.error
            return Outcome("error", f"{name}: force-time {_err_kind(e)}: {_short(e)}", op,
                           f"{where(leg.error)}\n{tb}")
    # record-time errors: the same step must raise on every path
    if S.error or Interp.error or R.error:
        errs = [(n, leg.error) for n, leg in ((subject, S), ("interpreter", Interp), ("numpy", R))]
        se, re_ = S.error, R.error
        if se and re_ and se[0] == re_[0] and Interp.error and Interp.error[0] == se[0] \
                and _same_error_kind(se[3], re_[3]):
            out = _compare_values(prog, S, Interp, R, subject)  # what was forced before
            if out.status != "ok":
                return out
            return Outcome("skip", f"recording raises {_err_kind(se[3])} on every path",
                           se[2], where(se))
        detail = "\n".join(f"  {n}: " + (f"{_err_kind(e[3])} at {where(e)}: {_short(e[3])}"
                                          if e else "no error") for n, e in errs)
        le = se or Interp.error
        if (se is None) != (Interp.error is None) or (se and se[0] != Interp.error[0]):
            kind = f"record-time: {subject} and interpreter differ"
        elif le and not re_:
            kind = f"record-time: lazyops raises {_err_kind(le[3])}, NumPy does not"
        elif re_ and not le:
            kind = f"record-time: NumPy raises {_err_kind(re_[3])}, lazyops does not"
        elif le[0] != re_[0]:
            kind = "record-time: lazyops and NumPy raise at different steps"
        else:
            kind = (f"record-time: lazyops raises {_err_kind(le[3])} "
                    f"where NumPy raises {_err_kind(re_[3])}")
        op = min((e for e in (le, re_) if e), key=lambda e: e[0])[2]
        return Outcome("error", kind, op, detail)
    return _compare_values(prog, S, Interp, R, subject)


def _short(e):
    s = str(e).strip().splitlines()
    return (s[0] if s else "")[:160]


def _compare_values(prog, S, Interp, R, subject):
    bounds = error_bounds(prog, R.env)
    problems = []
    checked = 0
    for lab in _labels(prog):
        if lab not in R.values:
            continue
        src = prog.source_of(lab[9:] if lab.startswith("evaluate:") else lab)
        b = bounds.get(src, np.inf)
        want = R.values[lab]
        step = prog.producer(src)
        op = step.op if step is not None else "input"
        pos = prog.steps.index(step) if step is not None else -1
        if lab in S.meta:
            shp, dt = S.meta[lab]
            if shp != want.shape or dt != want.dtype.name:
                problems.append((f"lazy-metadata!=numpy", (op, pos),
                                 f"{lab}: lazy handle says {shp} {dt}, NumPy gives "
                                 f"{want.shape} {want.dtype.name}"))
        if lab not in S.values or lab not in Interp.values:
            problems.append(("missing-output", (op, pos), f"{lab}: no value"))
            continue
        ps = compare(S.values[lab], want, b, f"{lab} ({subject})")
        pi = compare(Interp.values[lab], want, b, f"{lab} (interpreter)")
        checked += 1
        if ps and pi:
            problems.append(("lazyops!=numpy", (op, pos), ps + "\n  " + pi))
        elif ps:
            problems.append((f"{subject}!=numpy", (op, pos), ps))
        elif pi:
            problems.append(("interpreter!=numpy", (op, pos), pi))
    if not problems:
        return Outcome("ok", checked=checked)
    order = [f"{subject}!=numpy", "lazy-metadata!=numpy", "missing-output", "lazyops!=numpy",
             "interpreter!=numpy"]
    # the first kind in `order`; of those, the most upstream value names the op
    problems.sort(key=lambda p: (order.index(p[0]) if p[0] in order else 99, p[1][1]))
    kind, (op, _), _ = problems[0]
    return Outcome("mismatch", kind, op,
                   "\n".join(f"- [{k}, {o}] {d}" for k, (o, _), d in problems), checked)


# ====================================================================== shrinking

def drop_step(prog, target):
    """The program without `target` and everything that depends on it."""
    gone = {target}
    steps = []
    for s in prog.steps:
        if s.target in gone or gone & set(s.refs()):
            gone.add(s.target)
        else:
            steps.append(s)
    outs = [o for o in prog.outputs if o not in gone]
    used = {r for s in steps for r in s.refs()} | set(outs)
    inputs = [i for i in prog.inputs if i.name in used]
    return Program(inputs, steps, outs, prog.label)


def shrink_candidates(prog):
    """Smaller variants of `prog`, most promising first."""
    for cand in _candidates(prog):
        yield _drop_unused_inputs(cand)


def _drop_unused_inputs(prog):
    used = {r for s in prog.steps for r in s.refs()} | set(prog.outputs)
    return Program([i for i in prog.inputs if i.name in used], prog.steps, prog.outputs,
                   prog.label)


def _candidates(prog):
    # whole steps (later ones first: fewer dependents to lose)
    for s in reversed(prog.steps):
        yield drop_step(prog, s.target)
    # a step replaced by its first operand (x = f(y): later uses of x read y)
    for s in prog.steps:
        src = next((a for a in s.args if isinstance(a, Ref)), None)
        if src is not None and s.kind != "force":
            yield _bypass(prog, s, src)
    # outputs
    for i in range(len(prog.outputs)):
        outs = prog.outputs[:i] + prog.outputs[i + 1:]
        p = Program(prog.inputs, prog.steps, outs, prog.label)
        yield _prune(p)
    # forced intermediates that are not needed
    for s in prog.steps:
        if s.kind == "force":
            yield Program(prog.inputs, [t for t in prog.steps if t is not s], prog.outputs,
                          prog.label)
    # simpler input data
    for k, inp in enumerate(prog.inputs):
        variants = []
        if inp.style != "const":
            for fill in ((True,) if inp.dtype == "bool" else (1, 0)):
                variants.append(dataclasses.replace(inp, style="const", fill=fill,
                                                    specials=_specials_of(inp)))
        for j in range(len(inp.specials)):
            variants.append(dataclasses.replace(
                inp, specials=inp.specials[:j] + inp.specials[j + 1:]))
        for v in variants:
            yield Program(prog.inputs[:k] + [v] + prog.inputs[k + 1:], prog.steps, prog.outputs,
                          prog.label)


def _bypass(prog, step, src):
    def sub(a):
        return _map_refs(a, lambda r: src if r.name == step.target else r)
    steps = [dataclasses.replace(t, args=tuple(sub(a) for a in t.args),
                                 kwargs={k: sub(v) for k, v in t.kwargs.items()})
             for t in prog.steps if t is not step]
    outs = []
    for o in prog.outputs:
        o = src.name if o == step.target else o
        if o not in outs:
            outs.append(o)
    return Program(prog.inputs, steps, outs, prog.label)


def _specials_of(inp):
    """The NaN/inf/-0.0 positions of an input (kept when its data is simplified)."""
    if inp.style != "literal":
        return inp.specials
    a = inp.array().reshape(-1)
    if a.dtype.kind != "f":
        return ()
    sp = []
    for i, v in enumerate(a.tolist()):
        if math.isnan(v) or math.isinf(v) or (v == 0 and math.copysign(1, v) < 0):
            sp.append((i, v))
    return tuple(sp[:8])


def _prune(prog):
    """Drop steps nothing uses."""
    steps = list(prog.steps)
    while True:
        used = {r for s in steps for r in s.refs()} | set(prog.outputs)
        keep = [s for s in steps if s.target in used or s.kind == "force"
                or s is steps[-1] and not prog.outputs]
        if len(keep) == len(steps):
            break
        steps = keep
    used = {r for s in steps for r in s.refs()} | set(prog.outputs)
    inputs = [i for i in prog.inputs if i.name in used]
    return Program(inputs, steps, prog.outputs, prog.label)


def has_results(prog):
    return bool(prog.outputs or prog.forced())


def shrink(prog, still_fails, budget=200):
    """Greedy delta debugging: keep taking the first smaller candidate for
    which `still_fails(candidate)` holds. Returns (program, tries)."""
    tries = 0
    progress = True
    seen = set()
    while progress and tries < budget:
        progress = False
        for cand in shrink_candidates(prog):
            if not has_results(cand) and not any(s for s in cand.steps):
                continue
            key = "\n".join(cand.body()) + "|" + ",".join(cand.outputs)
            if key in seen:
                continue
            seen.add(key)
            tries += 1
            if still_fails(cand):
                prog = cand
                progress = True
                break
            if tries >= budget:
                break
    return prog, tries
