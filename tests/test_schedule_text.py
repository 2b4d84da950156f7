"""The scheduler and the loop plan as text tables (filecheck style): IR
text in, kernels out; and the loop plan each kernel lowers to."""
import numpy as np
import pytest

from lazyops.codegen import backend
from lazyops.codegen.launch import Launcher
from lazyops.ir.parser import parse
from lazyops.ir.printer import print_function
from lazyops.ir.verifier import verify
from lazyops.scheduler import schedule

# name -> (input IR, scheduled IR)
SCHEDULE = {
    "elementwise_chain": ("""\
func.func @f(%arg0: tensor<8xf32>, %arg1: tensor<8xf32>) -> tensor<8xf32> {
  %0 = lazy.multiply %arg0, %arg1 : tensor<8xf32>
  %1 = lazy.exp %0 : tensor<8xf32>
  %2 = lazy.subtract %1, %arg0 : tensor<8xf32>
  return %2
}""", """\
func.func @f(%arg0: tensor<8xf32>, %arg1: tensor<8xf32>) -> tensor<8xf32> {
  %0 = lazy.kernel %arg0, %arg1 {axes = [], name = "k0", space = [8]} : tensor<8xf32> {
  ^bb0(%1: tensor<8xf32>, %2: tensor<8xf32>):
    %3 = lazy.multiply %1, %2 : tensor<8xf32>
    %4 = lazy.exp %3 : tensor<8xf32>
    %5 = lazy.subtract %4, %1 : tensor<8xf32>
    lazy.yield %5
  }
  return %0
}"""),
    "broadcast": ("""\
func.func @f(%arg0: tensor<4x8xf32>, %arg1: tensor<8xf32>) -> tensor<4x8xf32> {
  %0 = lazy.broadcast_to %arg1 {shape = [4, 8]} : tensor<4x8xf32>
  %1 = lazy.add %arg0, %0 : tensor<4x8xf32>
  return %1
}""", """\
func.func @f(%arg0: tensor<4x8xf32>, %arg1: tensor<8xf32>) -> tensor<4x8xf32> {
  %0 = lazy.kernel %arg0, %arg1 {axes = [], name = "k0", space = [4, 8]} : tensor<4x8xf32> {
  ^bb0(%1: tensor<4x8xf32>, %2: tensor<8xf32>):
    %3 = lazy.broadcast_to %2 {shape = [4, 8]} : tensor<4x8xf32>
    %4 = lazy.add %1, %3 : tensor<4x8xf32>
    lazy.yield %4
  }
  return %0
}"""),
    "full_reduction": ("""\
func.func @f(%arg0: tensor<8xf32>, %arg1: tensor<8xf32>) -> tensor<f32> {
  %0 = lazy.subtract %arg0, %arg1 : tensor<8xf32>
  %1 = lazy.multiply %0, %0 : tensor<8xf32>
  %2 = lazy.sum %1 {axis = [0], keepdims = false} : tensor<f32>
  return %2
}""", """\
func.func @f(%arg0: tensor<8xf32>, %arg1: tensor<8xf32>) -> tensor<f32> {
  %0 = lazy.kernel %arg0, %arg1 {axes = [0], name = "k0", space = [8]} : tensor<f32> {
  ^bb0(%1: tensor<8xf32>, %2: tensor<8xf32>):
    %3 = lazy.subtract %1, %2 : tensor<8xf32>
    %4 = lazy.multiply %3, %3 : tensor<8xf32>
    %5 = lazy.sum %4 {axis = [0], keepdims = false} : tensor<f32>
    lazy.yield %5
  }
  return %0
}"""),
    "row_reduction_with_side_output": ("""\
func.func @f(%arg0: tensor<4x8xf32>, %arg1: tensor<4x8xf32>) -> (tensor<4x8xf32>, tensor<4xf32>) {
  %0 = lazy.subtract %arg0, %arg1 : tensor<4x8xf32>
  %1 = lazy.exp %0 : tensor<4x8xf32>
  %2 = lazy.sum %1 {axis = [1], keepdims = false} : tensor<4xf32>
  return %1, %2
}""", """\
func.func @f(%arg0: tensor<4x8xf32>, %arg1: tensor<4x8xf32>) -> (tensor<4x8xf32>, tensor<4xf32>) {
  %0, %1 = lazy.kernel %arg0, %arg1 {axes = [1], name = "k0", space = [4, 8]} : tensor<4x8xf32>, tensor<4xf32> {
  ^bb0(%2: tensor<4x8xf32>, %3: tensor<4x8xf32>):
    %4 = lazy.subtract %2, %3 : tensor<4x8xf32>
    %5 = lazy.exp %4 : tensor<4x8xf32>
    %6 = lazy.sum %5 {axis = [1], keepdims = false} : tensor<4xf32>
    lazy.yield %5, %6
  }
  return %0, %1
}"""),
    "reduction_with_epilogue": ("""\
func.func @f(%arg0: tensor<4x8xf32>, %arg1: tensor<f32>) -> tensor<4xf32> {
  %0 = lazy.mean %arg0 {axis = [1], keepdims = false} : tensor<4xf32>
  %1 = lazy.max %arg0 {axis = [1], keepdims = false} : tensor<4xf32>
  %2 = lazy.multiply %0, %arg1 : tensor<4xf32>
  %3 = lazy.add %2, %1 : tensor<4xf32>
  return %3
}""", """\
func.func @f(%arg0: tensor<4x8xf32>, %arg1: tensor<f32>) -> tensor<4xf32> {
  %0 = lazy.kernel %arg0, %arg1 {axes = [1], name = "k0", space = [4, 8]} : tensor<4xf32> {
  ^bb0(%1: tensor<4x8xf32>, %2: tensor<f32>):
    %3 = lazy.mean %1 {axis = [1], keepdims = false} : tensor<4xf32>
    %4 = lazy.max %1 {axis = [1], keepdims = false} : tensor<4xf32>
    %5 = lazy.multiply %3, %2 : tensor<4xf32>
    %6 = lazy.add %5, %4 : tensor<4xf32>
    lazy.yield %6
  }
  return %0
}"""),
    "multi_output_argmax": ("""\
func.func @f(%arg0: tensor<8xf32>) -> (tensor<i32>, tensor<f32>, tensor<8xf32>) {
  %0 = lazy.argmax %arg0 {axis = [0], keepdims = false} : tensor<i32>
  %1 = lazy.min %arg0 {axis = [0], keepdims = false} : tensor<f32>
  %2 = lazy.negative %arg0 : tensor<8xf32>
  return %0, %1, %2
}""", """\
func.func @f(%arg0: tensor<8xf32>) -> (tensor<i32>, tensor<f32>, tensor<8xf32>) {
  %0, %1, %2 = lazy.kernel %arg0 {axes = [0], name = "k0", space = [8]} : tensor<i32>, tensor<f32>, tensor<8xf32> {
  ^bb0(%3: tensor<8xf32>):
    %4 = lazy.argmax %3 {axis = [0], keepdims = false} : tensor<i32>
    %5 = lazy.min %3 {axis = [0], keepdims = false} : tensor<f32>
    %6 = lazy.negative %3 : tensor<8xf32>
    lazy.yield %4, %5, %6
  }
  return %0, %1, %2
}"""),
    "softmax_rows": ("""\
func.func @f(%arg0: tensor<4x8xf32>) -> tensor<4x8xf32> {
  %0 = lazy.max %arg0 {axis = [1], keepdims = true} : tensor<4x1xf32>
  %1 = lazy.broadcast_to %0 {shape = [4, 8]} : tensor<4x8xf32>
  %2 = lazy.subtract %arg0, %1 : tensor<4x8xf32>
  %3 = lazy.exp %2 : tensor<4x8xf32>
  %4 = lazy.sum %3 {axis = [1], keepdims = true} : tensor<4x1xf32>
  %5 = lazy.broadcast_to %4 {shape = [4, 8]} : tensor<4x8xf32>
  %6 = lazy.divide %3, %5 : tensor<4x8xf32>
  return %6
}""", """\
func.func @f(%arg0: tensor<4x8xf32>) -> tensor<4x8xf32> {
  %0 = lazy.kernel %arg0 {axes = [1], name = "k0", space = [4, 8]} : tensor<4x1xf32> {
  ^bb0(%1: tensor<4x8xf32>):
    %2 = lazy.max %1 {axis = [1], keepdims = true} : tensor<4x1xf32>
    lazy.yield %2
  }
  %3, %4 = lazy.kernel %arg0, %0 {axes = [1], name = "k1", space = [4, 8]} : tensor<4x8xf32>, tensor<4x1xf32> {
  ^bb0(%5: tensor<4x8xf32>, %6: tensor<4x1xf32>):
    %7 = lazy.broadcast_to %6 {shape = [4, 8]} : tensor<4x8xf32>
    %8 = lazy.subtract %5, %7 : tensor<4x8xf32>
    %9 = lazy.exp %8 : tensor<4x8xf32>
    %10 = lazy.sum %9 {axis = [1], keepdims = true} : tensor<4x1xf32>
    lazy.yield %9, %10
  }
  %11 = lazy.kernel %3, %4 {axes = [], name = "k2", space = [4, 8]} : tensor<4x8xf32> {
  ^bb0(%12: tensor<4x8xf32>, %13: tensor<4x1xf32>):
    %14 = lazy.broadcast_to %13 {shape = [4, 8]} : tensor<4x8xf32>
    %15 = lazy.divide %12, %14 : tensor<4x8xf32>
    lazy.yield %15
  }
  return %11
}"""),
    "view_of_computed_value_used_twice": ("""\
func.func @f(%arg0: tensor<4x4xf32>) -> tensor<4x4xf32> {
  %0 = lazy.exp %arg0 : tensor<4x4xf32>
  %1 = lazy.transpose %0 {perm = [1, 0]} : tensor<4x4xf32>
  %2 = lazy.add %0, %1 : tensor<4x4xf32>
  return %2
}""", """\
func.func @f(%arg0: tensor<4x4xf32>) -> tensor<4x4xf32> {
  %0 = lazy.kernel %arg0 {axes = [], name = "k0", space = [4, 4]} : tensor<4x4xf32> {
  ^bb0(%1: tensor<4x4xf32>):
    %2 = lazy.exp %1 : tensor<4x4xf32>
    lazy.yield %2
  }
  %3 = lazy.kernel %0 {axes = [], name = "k1", space = [4, 4]} : tensor<4x4xf32> {
  ^bb0(%4: tensor<4x4xf32>):
    %5 = lazy.transpose %4 {perm = [1, 0]} : tensor<4x4xf32>
    %6 = lazy.add %4, %5 : tensor<4x4xf32>
    lazy.yield %6
  }
  return %3
}"""),
    "library_boundary": ("""\
func.func @f(%arg0: tensor<4x8xf32>, %arg1: tensor<8x2xf32>) -> tensor<4x2xf32> {
  %0 = lazy.exp %arg0 : tensor<4x8xf32>
  %1 = lazy.matmul %0, %arg1 : tensor<4x2xf32>
  %2 = lazy.tanh %1 : tensor<4x2xf32>
  return %2
}""", """\
func.func @f(%arg0: tensor<4x8xf32>, %arg1: tensor<8x2xf32>) -> tensor<4x2xf32> {
  %0 = lazy.kernel %arg0 {axes = [], name = "k0", space = [4, 8]} : tensor<4x8xf32> {
  ^bb0(%1: tensor<4x8xf32>):
    %2 = lazy.exp %1 : tensor<4x8xf32>
    lazy.yield %2
  }
  %3 = lazy.matmul %0, %arg1 : tensor<4x2xf32>
  %4 = lazy.kernel %3 {axes = [], name = "k2", space = [4, 2]} : tensor<4x2xf32> {
  ^bb0(%5: tensor<4x2xf32>):
    %6 = lazy.tanh %5 : tensor<4x2xf32>
    lazy.yield %6
  }
  return %4
}"""),
    "row_softmax": ("""\
func.func @f(%arg0: tensor<4x8xf32>) -> tensor<4x8xf32> {
  %0 = lazy.max %arg0 {axis = [1], keepdims = true} : tensor<4x1xf32>
  %1 = lazy.subtract %arg0, %0 : tensor<4x8xf32>
  %2 = lazy.exp %1 : tensor<4x8xf32>
  %3 = lazy.sum %2 {axis = [1], keepdims = true} : tensor<4x1xf32>
  %4 = lazy.divide %2, %3 : tensor<4x8xf32>
  return %4
}""", """\
func.func @f(%arg0: tensor<4x8xf32>) -> tensor<4x8xf32> {
  %0 = lazy.kernel %arg0 {axes = [1], name = "k0", space = [4, 8]} : tensor<4x8xf32> {
  ^bb0(%1: tensor<4x8xf32>):
    %2 = lazy.max %1 {axis = [1], keepdims = true} : tensor<4x1xf32>
    %3 = lazy.subtract %1, %2 : tensor<4x8xf32>
    %4 = lazy.exp %3 : tensor<4x8xf32>
    %5 = lazy.sum %4 {axis = [1], keepdims = true} : tensor<4x1xf32>
    %6 = lazy.divide %4, %5 : tensor<4x8xf32>
    lazy.yield %6
  }
  return %0
}"""),
    "center_whole_array": ("""\
func.func @f(%arg0: tensor<8xf32>) -> (tensor<8xf32>, tensor<f32>) {
  %0 = lazy.mean %arg0 {axis = [0], keepdims = false} : tensor<f32>
  %1 = lazy.subtract %arg0, %0 : tensor<8xf32>
  %2 = lazy.multiply %1, %1 : tensor<8xf32>
  %3 = lazy.mean %2 {axis = [0], keepdims = false} : tensor<f32>
  %4 = lazy.sqrt %3 : tensor<f32>
  %5 = lazy.divide %1, %4 : tensor<8xf32>
  return %5, %0
}""", """\
func.func @f(%arg0: tensor<8xf32>) -> (tensor<8xf32>, tensor<f32>) {
  %0, %1 = lazy.kernel %arg0 {axes = [0], name = "k0", space = [8]} : tensor<f32>, tensor<8xf32> {
  ^bb0(%2: tensor<8xf32>):
    %3 = lazy.mean %2 {axis = [0], keepdims = false} : tensor<f32>
    %4 = lazy.subtract %2, %3 : tensor<8xf32>
    %5 = lazy.multiply %4, %4 : tensor<8xf32>
    %6 = lazy.mean %5 {axis = [0], keepdims = false} : tensor<f32>
    %7 = lazy.sqrt %6 : tensor<f32>
    %8 = lazy.divide %4, %7 : tensor<8xf32>
    lazy.yield %3, %8
  }
  return %1, %0
}"""),
}

# name -> loop plan of the kernel (inputs C-contiguous)
PLAN = {
    "elementwise_chain": """\
form flat: parallel loop over n elements
  in  L0: f32 elem
  in  L1: f32 elem
  out O0: f32 per element
  per element:
    x0 = load L0
    x1 = load L1
    v2 = np.float32((x0 * x1))
    v3 = np.float32(exp(v2))
    v4 = np.float32((v3 - x0))
    store O0 = v4""",
    "broadcast": """\
form runs: parallel loop nest over a rank-2 space, each innermost run contiguous
  in  L0: f32 elem
  in  L1: f32 elem
  out O0: f32 per element
  per element:
    x0 = load L0
    x1 = load L1
    v2 = np.float32((x0 + x1))
    store O0 = v2""",
    "full_reduction": """\
form full: partials: parallel chunks of the n elements, each folding into its own accumulators; merge: the chunks' states in order
  in  L0: f32 elem
  in  L1: f32 elem
  out O0: f32 once
  acc a0 = sum {value f64}
  per element:
    x0 = load L0
    x1 = load L1
    v2 = np.float32((x0 - x1))
    v3 = np.float32((v2 * v2))
    update a0 with v3
  after the reduction:
    r0 = np.float32(a0)
    store O0 = r0""",
    "row_reduction_with_side_output": """\
form rows: parallel loop over m rows; serial loop over the n elements of each row
  in  L0: f32 elem
  in  L1: f32 elem
  out O0: f32 per element
  out O1: f32 per row
  acc a0 = sum {value f64}
  per element:
    x0 = load L0
    x1 = load L1
    v2 = np.float32((x0 - x1))
    v3 = np.float32(exp(v2))
    update a0 with v3
    store O0 = v3
  per row:
    r0 = np.float32(a0)
    store O1 = r0""",
    "reduction_with_epilogue": """\
form rows: parallel loop over m rows; serial loop over the n elements of each row
  in  L0: f32 elem
  in  L1: f32 uniform
  out O0: f32 per row
  acc a0 = mean {value f64}
  acc a1 = max {value f32, nan i1}
  before the loops:
    x0 = load L1
  per element:
    x1 = load L0
    update a0 with x1
    update a1 with x1
  per row:
    r0 = np.float32((a0 / count))
    r1 = np.float32((np.float32(np.nan) if a1n else a1))
    v4 = np.float32((r0 * x0))
    v5 = np.float32((v4 + r1))
    store O0 = v5""",
    "multi_output_argmax": """\
form full: partials: parallel chunks of the n elements, each folding into its own accumulators; merge: the chunks' states in order
  in  L0: f32 elem
  out O0: i32 once
  out O1: f32 once
  out O2: f32 per element
  acc a0 = argmax {value f32, index i64}
  acc a1 = min {value f32, nan i1}
  per element:
    x0 = load L0
    update a0 with x0
    update a1 with x0
    v1 = np.float32((-x0))
    store O2 = v1
  after the reduction:
    r0 = np.int32(a0i)
    r1 = np.float32((np.float32(np.nan) if a1n else a1))
    store O0 = r0
    store O1 = r1""",
    "row_softmax": """\
form rows: parallel loop over m rows; serial loop over the n elements of each row; 3 passes
  in  L0: f32 elem
  out O0: f32 per element
  tmp S0: f32 per element, between passes
  acc a0 = max {value f32, nan i1}
  acc a1 = sum {value f64}
  pass 1, per element:
    x0 = load L0
    update a0 with x0
  pass 1, per row:
    r0 = np.float32((np.float32(np.nan) if a0n else a0))
  pass 2, per element:
    x2 = load L0
    v3 = np.float32((x2 - r0))
    v4 = np.float32(exp(v3))
    store S0 = v4
    update a1 with v4
  pass 2, per row:
    r1 = np.float32(a1)
  pass 3, per element:
    x6 = load S0
    v7 = np.float32((x6 / r1))
    store O0 = v7""",
    "center_whole_array": """\
form full: partials: parallel chunks of the n elements, each folding into its own accumulators; merge: the chunks' states in order; 3 passes, 2 over the elements
  in  L0: f32 elem
  out O0: f32 once
  out O1: f32 per element
  acc a0 = mean {value f64}
  acc m0 = chunk means and squared deviations of L0
  pass 1, per element:
    x0 = load L0
    update a0 with x0
    update m0 with x0
  pass 1, after the reduction:
    r0 = np.float32((a0 / count))
    store O0 = r0
  pass 2, after the reduction:
    a1 = sum of (L0 - r0)**2 from m0
    r1 = np.float32((a1 / count))
    v3 = np.float32(sqrt(r1))
  pass 3, per element:
    x4 = load L0
    v5 = np.float32((x4 - r0))
    v6 = np.float32((v5 / v3))
    store O1 = v6""",
}


@pytest.mark.parametrize("name", sorted(SCHEDULE))
def test_schedule(name):
    text, want = SCHEDULE[name]
    func = parse(text)
    got = schedule(func)
    verify(got)
    assert print_function(got, locs=False) == want
    assert print_function(func, locs=False) == text  # the input is not rewritten


@pytest.mark.parametrize("name", sorted(PLAN))
def test_loop_plan(name):
    f = schedule(parse(SCHEDULE[name][0]))
    (kernel,) = [op for op in f.ops if op.name == "lazy.kernel"]
    args = [np.zeros(a.type.shape, a.type.dtype) for a in f.args]
    form, plan, source = Launcher(kernel, backend("cpu")).explain_for(args)
    assert plan.text() == PLAN[name]
