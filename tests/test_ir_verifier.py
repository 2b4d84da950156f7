"""The verifier accepts well-formed functions and rejects each kind of error
with a message naming the op, its location and its text."""
import numpy as np
import pytest

from lazyops.ir.core import Block, Function, Operation, Region, collect
from lazyops.ir.parser import parse
from lazyops.ir.registry import lookup
from lazyops.ir.types import TensorType
from lazyops.ir.verifier import VerificationError, verify
from test_ir_text import every_op_function, kernel_attr_text

F32 = "float32"


def T(shape, dtype=F32):
    return TensorType(shape, dtype)


KATTRS = kernel_attr_text(name="k0", space=(4, 8), axes=(1,))

GOOD = f"""\
func.func @main(%arg0: tensor<4x8xf32>, %arg1: tensor<f32>) -> (tensor<4x8xf32>, tensor<4xf32>) {{
  %0 = lazy.constant {{dtype = f32, value = 2.0}} : tensor<f32>
  %1 = lazy.multiply %arg0, %0 : tensor<4x8xf32> loc("demo.py":12)
  %2 = lazy.sum %1 {{axis = [1], keepdims = false}} : tensor<4xf32> loc("demo.py":13)
  %3, %4 = lazy.kernel %arg0, %arg1 {KATTRS} : tensor<4x8xf32>, tensor<4xf32> {{
  ^bb0(%5: tensor<4x8xf32>, %6: tensor<f32>):
    %7 = lazy.add %5, %6 : tensor<4x8xf32> loc("demo.py":20)
    %8 = lazy.sum %7 {{axis = [1], keepdims = false}} : tensor<4xf32>
    lazy.yield %7, %8
  }} loc("demo.py":14)
  return %3, %2
}}"""


def bad(old, new, count=1):
    assert GOOD.count(old) >= count, old
    return parse(GOOD.replace(old, new, count))


def rejects(func, *fragments):
    with pytest.raises(VerificationError) as e:
        verify(func)
    msg = str(e.value)
    assert isinstance(e.value, ValueError)
    assert msg.startswith("verify: ")
    for f in fragments:
        assert f in msg, f"{f!r} not in {msg!r}"
    return msg


# ---------------------------------------------------------------- accepted

def test_accepts_well_formed_functions():
    assert verify(parse(GOOD)) is not None
    verify(every_op_function())


def test_accepts_front_end_functions():
    import lazyops as lo
    x = lo.convert_to_tensor(np.linspace(-2, 2, 12, dtype=np.float32).reshape(3, 4))
    i = lo.convert_to_tensor(np.arange(4, dtype=np.int32))
    y = lo.sum(lo.exp(x * 2.0) ** 3 + 1.5, axis=1, keepdims=True)
    z = lo.where(x > 0.5, lo.maximum(x, y), 0.0) / lo.cast(i, "float32")
    w = lo.argmax(lo.transpose(z), axis=1) + i ** 2 - 1
    m = lo.matmul(x, lo.reshape(z, (4, 3)))
    f, _ = collect([y._value, z._value, w._value, m._value])
    verify(f)


# ---------------------------------------------------------------- op names and arity

def test_unregistered_op():
    f = parse(GOOD)
    f.ops[1].name = "lazy.frobnicate"
    rejects(f, "unknown operation 'lazy.frobnicate'", 'at loc("demo.py":12)',
            "%1 = lazy.frobnicate %arg0, %0")


def test_op_name_without_its_dialect():
    f = parse(GOOD)
    f.ops[1].name = "multiply"
    rejects(f, "unknown operation 'multiply'", "did you mean lazy.multiply?")


def test_operand_count():
    f = parse(GOOD)
    f.ops[1].operands.pop()
    rejects(f, "lazy.multiply", "expects 2 operand(s), got 1", 'loc("demo.py":12)')


# ---------------------------------------------------------------- attributes

def test_unknown_attribute():
    rejects(bad("keepdims = false}", "keepdims = false, frob = 1}"),
            "lazy.sum", "unknown attribute(s) frob", "allowed: axis, keepdims", 'loc("demo.py":13)')


def test_missing_attribute():
    rejects(bad("{axis = [1], keepdims = false}", "{axis = [1]}"), "missing attribute(s) keepdims")


@pytest.mark.parametrize("old, new, what", [
    ("axis = [1]", "axis = 1", "attribute axis = 1 must be a list of ints"),
    ("axis = [1]", "axis = [1.0]", "must be a list of ints"),
    ("keepdims = false", "keepdims = 0", "attribute keepdims = 0 must be a bool"),
    ("dtype = f32, value = 2.0", 'dtype = "float99", value = 2.0', "attribute dtype = 'float99' must be a dtype"),
    ("value = 2.0", 'value = "two"', "must be a Python scalar"),
])
def test_attribute_kinds(old, new, what):
    rejects(bad(old, new), what)


def test_attribute_kind_int_and_str():
    body = Block([T((3,))])
    r = Operation("lazy.round", body.args, [T((3,))], {"decimals": True})
    body.ops += [r, Operation("func.return", r.results, [])]
    rejects(Function("f", body), "lazy.round", "decimals = True must be an int")
    f = parse(GOOD)
    f.ops[3].attrs["name"] = 7
    rejects(f, "lazy.kernel", "attribute name = 7 must be a string")


@pytest.mark.parametrize("axis, what", [
    ("[2]", "axis [2] out of range for an operand of rank 2"),
    ("[-1]", "out of range"),
    ("[1, 1]", "repeats an axis"),
    ("[1, 0]", "is not sorted"),
])
def test_reduction_axis(axis, what):
    rejects(bad("axis = [1], keepdims = false} : tensor<4xf32> loc",
                f"axis = {axis}, keepdims = false}} : tensor<4xf32> loc"), "lazy.sum", what)


# ---------------------------------------------------------------- types

def test_result_type_differs_from_inference():
    rejects(bad("%1 = lazy.multiply %arg0, %0 : tensor<4x8xf32>", "%1 = lazy.multiply %arg0, %0 : tensor<4x8xf64>"),
            "lazy.multiply", "result types (tensor<4x8xf64>) differ from the inferred (tensor<4x8xf32>)")
    rejects(bad("%2 = lazy.sum %1 {axis = [1], keepdims = false} : tensor<4xf32>",
                "%2 = lazy.sum %1 {axis = [1], keepdims = false} : tensor<4x1xf32>"),
            "differ from the inferred (tensor<4xf32>)")


def test_result_count_differs_from_inference():
    f = parse(GOOD)
    op = f.ops[1]
    op.results.append(type(op.results[0])(T((4, 8)), op, 1))
    rejects(f, "lazy.multiply", "result types (tensor<4x8xf32>, tensor<4x8xf32>) differ")


def test_inference_failure_is_reported():
    text = """\
func.func @f(%arg0: tensor<3xf32>, %arg1: tensor<4xf32>) -> tensor<3xf32> {
  %0 = lazy.add %arg0, %arg1 : tensor<3xf32> loc("m.py":3)
  return %0
}"""
    rejects(parse(text), "lazy.add", 'loc("m.py":3)', "type inference failed", "cannot be broadcast")


def test_elementwise_operands_share_a_dtype():
    text = """\
func.func @f(%arg0: tensor<3xf32>, %arg1: tensor<3xf64>) -> tensor<3xf64> {
  %0 = lazy.add %arg0, %arg1 : tensor<3xf64>
  return %0
}"""
    rejects(parse(text), "lazy.add", "elementwise operands must share one dtype",
            "tensor<3xf32>, tensor<3xf64>")


def test_where_condition_is_bool_and_cast_is_exempt():
    ok = """\
func.func @f(%arg0: tensor<3xi1>, %arg1: tensor<3xf32>, %arg2: tensor<f32>) -> (tensor<3xf32>, tensor<3xi32>) {
  %0 = lazy.where %arg0, %arg1, %arg2 : tensor<3xf32>
  %1 = lazy.cast %arg1 {dtype = i32} : tensor<3xi32>
  return %0, %1
}"""
    verify(parse(ok))
    rejects(parse(ok.replace("%arg0: tensor<3xi1>", "%arg0: tensor<3xf32>")),
            "lazy.where", "the condition (operand #0) must be bool")
    rejects(parse(ok.replace("%arg2: tensor<f32>", "%arg2: tensor<i32>")),
            "lazy.where", "must share one dtype")


# ---------------------------------------------------------------- SSA dominance

def test_use_before_definition():
    f = parse(GOOD)
    f.body.ops[1], f.body.ops[2] = f.body.ops[2], f.body.ops[1]
    rejects(f, "lazy.sum", "operand #0 %2 is used before its definition", 'loc("demo.py":13)')


def test_value_from_another_function():
    f, g = parse(GOOD), parse(GOOD)
    f.ops[1].operands[0] = g.args[0]
    rejects(f, "lazy.multiply", "is not defined in this function")


def test_regions_are_closed():
    f = bad("lazy.add %5, %6", "lazy.add %arg0, %6")
    rejects(f, "lazy.add", 'loc("demo.py":20)', "defined outside this block; regions are closed",
            "region 0 of lazy.kernel")


def test_region_may_not_use_outer_op_results():
    rejects(bad("lazy.add %5, %6", "lazy.add %1, %6"), "regions are closed")


def test_value_defined_twice():
    f = parse(GOOD)
    f.body.ops.insert(2, f.body.ops[1])
    rejects(f, "lazy.multiply", "is defined twice")


def test_result_owned_by_another_op():
    f = parse(GOOD)
    f.ops[2].results[0] = f.ops[1].results[0]
    rejects(f, "lazy.sum", "is not owned by this op")


# ---------------------------------------------------------------- terminators

def test_function_must_end_with_return():
    f = parse(GOOD)
    f.body.ops.pop()
    rejects(f, "the function body must end with func.return, not lazy.kernel")


def test_terminator_in_the_middle():
    f = parse(GOOD)
    f.body.ops.insert(1, Operation("func.return", [f.args[0]], []))
    rejects(f, "terminator func.return in the middle of a block")


def test_yield_cannot_end_the_function():
    f = parse(GOOD)
    f.body.ops[-1].name = "lazy.yield"
    rejects(f, "lazy.yield cannot end the function body; it must end with func.return")


def test_region_must_end_with_yield():
    f = parse(GOOD)
    f.ops[3].regions[0].block.ops[-1].name = "func.return"
    rejects(f, "func.return cannot end the block 0 of region 0 of lazy.kernel",
            "it must end with lazy.yield")
    f = parse(GOOD)
    f.ops[3].regions[0].block.ops.pop()
    rejects(f, "must end with lazy.yield, not lazy.sum")


def test_empty_blocks():
    f = parse(GOOD)
    f.ops[3].regions[0].block.ops.clear()
    rejects(f, "lazy.kernel", "is empty; it must end with lazy.yield")
    with pytest.raises(VerificationError, match="function body is empty"):
        verify(Function("f", Block([])))


def test_return_takes_no_attributes():
    f = parse(GOOD)
    f.body.ops[-1].attrs["x"] = 1
    rejects(f, "func.return takes no results, attributes or regions")


# ---------------------------------------------------------------- kernels and regions

def test_kernel_result_types_match_yield():
    rejects(bad("lazy.kernel %arg0, %arg1 {" + KATTRS[1:] + " : tensor<4x8xf32>, tensor<4xf32>",
                "lazy.kernel %arg0, %arg1 {" + KATTRS[1:] + " : tensor<4x8xf32>, tensor<4xf64>"),
            "lazy.kernel", 'loc("demo.py":14)',
            "result types (tensor<4x8xf32>, tensor<4xf64>) differ from the types the region yields "
            "(tensor<4x8xf32>, tensor<4xf32>)")


def test_kernel_operand_types_match_block_args():
    rejects(bad("^bb0(%5: tensor<4x8xf32>, %6: tensor<f32>):", "^bb0(%5: tensor<4x8xf32>, %6: tensor<4x8xf32>):"),
            "operand types (tensor<4x8xf32>, tensor<f32>) differ from the region's block argument types")


def test_kernel_holds_one_region_of_one_block():
    f = parse(GOOD)
    k = f.ops[3]
    k.regions.append(Region([Block()]))
    rejects(f, "a kernel holds exactly one region of one block, got 2 region(s)")


def test_regions_on_an_op_that_takes_none():
    f = parse(GOOD)
    f.ops[1].regions.append(Region([Block()]))
    rejects(f, "lazy.multiply takes no regions, got 1")


def test_yield_has_no_results():
    f = parse(GOOD)
    y = f.ops[3].regions[0].block.ops[-1]
    y.results.append(type(f.args[0])(T(()), y, 0))
    rejects(f, "lazy.yield has no results")


def test_declared_return_types():
    f = bad("-> (tensor<4x8xf32>, tensor<4xf32>)", "-> (tensor<4x8xf32>, tensor<5xf32>)")
    rejects(f, "func.return", "returns (tensor<4x8xf32>, tensor<4xf32>) but the function declares "
            "(tensor<4x8xf32>, tensor<5xf32>)")
    f = bad("-> (tensor<4x8xf32>, tensor<4xf32>)", "-> tensor<4x8xf32>")
    rejects(f, "but the function declares (tensor<4x8xf32>)")


def test_message_without_location_says_so():
    f = parse(GOOD)
    f.ops[0].attrs["dtype"] = "float99"
    msg = rejects(f, "lazy.constant (no location) (op #0 of the function body)")
    assert "\n    %0 = lazy.constant" in msg


def test_verifier_is_linear_on_deep_graphs():
    t = T((4,))
    body = Block([t])
    v = body.args[0]
    for _ in range(50_000):
        op = Operation("lazy.negative", [v], [t])
        body.ops.append(op)
        v = op.results[0]
    body.ops.append(Operation("func.return", [v], []))
    verify(Function("deep", body))


def test_registry_ops_have_schemas_the_verifier_knows():
    from lazyops.ir.registry import all_ops
    known = {"ints", "int", "bool", "str", "dtype", "scalar"}
    for name, d in all_ops().items():
        assert set(d.attrs.values()) <= known, name
        assert lookup(name) is d
