"""The declarative op registry: every op is defined once, as data.

An `OpDef` holds what every layer needs to know about an op: its traits,
arity, attribute schema, type inference (shape and dtype), the NumPy
reference implementation, and, for elementwise ops, the scalar expression
that code generators emit. Dtype *promotion* (which dtype operands are cast
to before the op) is part of the definition too; the front end applies it.
"""
from dataclasses import dataclass, field
from typing import Callable, Optional

# Traits
ELEMENTWISE = "Elementwise"
REDUCTION = "Reduction"
VIEW = "View"
SOURCE = "Source"
LIBRARY = "Library"
CONTROL_FLOW = "ControlFlow"
SCAN = "Scan"  # a cumulative scan along one axis (cumsum): a loop-carried accumulator
LOOP = "Loop"  # a loop over steps running its region (keras.ops.scan)
STRUCTURAL = "Structural"  # kernel, return, yield, constant
EXACT = "Exact"  # one correctly rounded arithmetic op: recomputed, it gives the same bits
GRADIENT = "Gradient"  # carries a traced gradient region (custom_gradient)
PIECEWISE = "Piecewise"  # its operands laid side by side along one axis (concatenate)

# Op families: the scheduler, codegen, the interpreter and explain ask an op's
# family, never its name (tinygrad's GroupOp). Derived from the traits.
ELEMENTWISE_OPS, REDUCTION_OPS, VIEW_OPS = "elementwise", "reduction", "view"
SOURCE_OPS, CONSTANT_OPS, LIBRARY_OPS = "source", "constant", "library"
SCAN_OPS = "scan"
PIECEWISE_OPS = "piecewise"
LOOP_OPS = "loop"
KERNEL_OPS, TERMINATOR_OPS = "kernel", "terminator"
COMPOSITE_OPS = "composite"  # decomposed into primitives by a pass before scheduling


@dataclass(frozen=True)
class Reduce:
    """How a reduction accumulates, as typed scalar templates over `{acc}`
    (the accumulator), `{x}` (an element, already in the accumulator dtype
    unless `arg`), `{other}` (a second partial accumulator) and `{count}`.

    Code generators turn a recipe into accumulator fields — the value, a NaN
    flag when `nan`, an index when `arg` — with init, update, merge (two
    partial states combined as one unit) and finalize."""
    init: str                       # zero | one | lowest | highest | false | true
    acc: Callable                   # element dtype -> accumulator dtype
    update: str = None              # acc, x -> acc
    merge: str = None               # acc, other -> acc (default: update with x=other)
    finalize: str = None            # acc, count -> result (before the cast to the result dtype)
    nan: bool = False               # NaN tracked apart (ordered selects lose it)
    arg: str = None                 # "max" / "min": the index of the extreme element
    regroup: str = None             # update as a call a target may reassociate (so it vectorizes)
    # "sum" / "product": regrouped float updates can leave the float's range
    # (or, for products, underflow to 0) where the sequential order does not,
    # and the sequential order saturates where the regrouped one may not; a
    # target that regroups a scan checks for it (see codegen/cpu.py `_scan`)
    saturates: str = None

    def merge_template(self):
        return self.merge or self.update.replace("{x}", "{other}")


# Ops that take complex64 operands (Keras's NumPy backend accepts more; these
# are the ones lazyops runs, as NumPy steps between kernels), besides views.
COMPLEX_OK = frozenset("""
    absolute real imag conjugate negative add subtract multiply divide square power
    reciprocal sign sqrt exp expm1 log log1p log2 log10 sin cos tan sinh cosh tanh arctan
    isnan isfinite isinf logical_not equal not_equal where sum mean prod vdot cast
    stop_gradient concatenate take take_along_axis pad repeat index custom_gradient""".split())


# Of those, the elementwise ops kernels compute on complex64 values: the ones
# exact per component, so results are NumPy's bit for bit. The others are
# NumPy steps: Numba multiplies and takes absolute values otherwise than
# NumPy's loops round (NumPy's complex64 multiply fuses a multiply-add).
COMPLEX_FUSED = frozenset("""
    real imag conjugate negative add subtract isnan isfinite isinf equal not_equal
    where cast""".split())


# Ops that take float8 operands: those Keras's NumPy backend passes to NumPy
# (ml_dtypes) without promoting, run as NumPy steps; views take them too.
FLOAT8_OK = frozenset("""
    absolute negative sign reciprocal round real imag conjugate isnan isfinite isinf
    logical_not stop_gradient sum max min any all argsort sort concatenate index
    cast_storage cast where subtract""".split())  # where: tril/triu; subtract: diff


@dataclass(frozen=True)
class OpDef:
    name: str                      # IR name without the "lazy." prefix
    traits: frozenset
    arity: Optional[int]           # number of operands; None = variadic
    attrs: dict = field(default_factory=dict)   # attr name -> schema (see verifier)
    infer: Callable = None         # (operand types, attrs) -> [TensorType]
    reference: Callable = None     # (*arrays, **attrs) -> array or tuple of arrays
    scalar: object = None          # elementwise: template str, or {kind: template}
    promote: Callable = None       # front end: (dtypes, weak flags) -> compute dtype
    reduce: "Reduce" = None        # reductions and scans: how they accumulate
    cost: int = 1                  # relative per-element cost (recompute rule)
    doc: str = ""
    structural: str = None         # the family of a structural op (kernel, terminator)
    decompose: Callable = None     # composites: (rewriter, operands, attrs) -> result values
    conditions: Callable = None    # elementwise: attrs -> how many leading operands are bool conditions
    mixed_dtypes: bool = False     # elementwise operands of their own dtypes (the op converts them)
    pieces: Callable = None        # piecewise: (operand types, attrs) -> (axis, offset of each operand)

    @property
    def full_name(self):
        return "lazy." + self.name

    def has(self, trait):
        return trait in self.traits

    @property
    def float8_ok(self):
        """Whether the op takes float8 operands (see FLOAT8_OK)."""
        return self.name in FLOAT8_OK or self.has(VIEW)

    @property
    def complex_ok(self):
        """Whether the op takes complex64 operands (see COMPLEX_OK)."""
        return self.name in COMPLEX_OK or self.has(VIEW)

    @property
    def complex_fused(self):
        """Whether kernels compute the op on complex64 values (see COMPLEX_FUSED)."""
        return self.name in COMPLEX_FUSED

    @property
    def family(self):
        if self.decompose is not None and not self.has(LIBRARY):  # a library op keeps
            return COMPOSITE_OPS  # the cases its decomposition declines
        if self.has(STRUCTURAL):
            return CONSTANT_OPS if self.has(SOURCE) else self.structural
        for trait, fam in ((ELEMENTWISE, ELEMENTWISE_OPS), (REDUCTION, REDUCTION_OPS),
                           (VIEW, VIEW_OPS), (SOURCE, SOURCE_OPS), (PIECEWISE, PIECEWISE_OPS),
                           (LIBRARY, LIBRARY_OPS),
                           (SCAN, SCAN_OPS), (LOOP, LOOP_OPS)):
            if self.has(trait):
                return fam
        raise TypeError(f"op {self.full_name} belongs to no family")

    def scalar_template(self, dtype, result_dtype=None):
        """The scalar expression for operands of `dtype` (elementwise ops):
        a template string, or a dict by operand dtype or kind (bool/int/float/
        complex/any, to_bool for a boolean result, `<operand dtype or kind>_to_<result
        dtype>` for one conversion)."""
        s = self.scalar
        if isinstance(s, str) or s is None:
            return s
        if result_dtype == "bool" and "to_bool" in s:
            return s["to_bool"]
        kind = "bool" if dtype == "bool" else "float" if "float" in dtype else \
            "complex" if "complex" in dtype else "int"
        for k in (f"{dtype}_to_{result_dtype}", f"{kind}_to_{result_dtype}"):
            if k in s:
                return s[k]
        return s.get(dtype, s.get(kind, s.get("any")))


_REGISTRY = {}


# full op name -> its family: OpDefs are frozen, and `family` runs for every
# op of every pass (0.2 s of a 3000-op plan when computed each time)
_FAMILIES = {"func.return": TERMINATOR_OPS}


def register(opdef):
    if opdef.full_name in _REGISTRY:
        raise ValueError(f"op {opdef.full_name} registered twice")
    _REGISTRY[opdef.full_name] = opdef
    return opdef


def lookup(name):
    """OpDef for a full IR name ("lazy.add") or a short one ("add"); None for
    unknown names."""
    d = _REGISTRY.get(name)
    if d is None and not name.startswith(("lazy.", "func.")):
        d = _REGISTRY.get("lazy." + name)
    return d


def family(op):
    """The family of an Operation (or a full op name); an op no layer knows
    fails loudly."""
    name = op if type(op) is str else op.name
    fam = _FAMILIES.get(name)
    if fam is None:
        d = _REGISTRY.get(name)
        if d is None:
            raise KeyError(f"op {name!r} is not in the registry: no layer knows how to handle it")
        fam = _FAMILIES[name] = d.family
    return fam


def all_ops():
    return dict(_REGISTRY)
