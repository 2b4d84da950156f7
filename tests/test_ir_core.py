"""SSA core: cloning, function identity, and forcing that leaves the
recorded graph as it was."""
import numpy as np

import lazyops as lo
from lazyops.engine import plan_of
from lazyops.ir.core import collect
from lazyops.ir.parser import parse
from lazyops.ir.passes import canonicalize, dce
from lazyops.ir.printer import print_function
from test_ir_text import double_negation_kernel, every_op_function

KERNEL = double_negation_kernel()


def test_clone_copies_regions_and_passes_leave_the_original():
    f = parse(KERNEL)
    g = f.clone()
    assert g == f and g is not f
    fk, gk = f.ops[0], g.ops[0]
    assert gk.regions[0].block is not fk.regions[0].block
    assert gk.regions[0].block.args[0] is not fk.regions[0].block.args[0]
    assert gk.operands[0] is g.args[0]
    canonicalize(g)
    dce(g)
    assert print_function(f) == KERNEL
    assert len(g.ops[0].regions[0].block.ops) == 1


def test_equal_functions_hash_alike():
    f = every_op_function()
    for g in (parse(print_function(f)), f.clone()):
        assert g == f and hash(g) == hash(f)
    x = lo.convert_to_tensor(np.ones((2, 3), "float32"))
    y = lo.sum(lo.exp(x) * 2, axis=1)
    collected, _ = collect([y._value])
    again = parse(print_function(collected))
    assert again == collected and hash(again) == hash(collected)


def test_forcing_leaves_the_recorded_graph_unchanged():
    x = lo.convert_to_tensor(np.arange(6, dtype="float32").reshape(2, 3))
    y = lo.transpose(lo.exp(x) * 1.0)  # canonicalize drops *1; the view is sunk
    before = print_function(collect([y._value])[0])
    plan, _, leaves = plan_of([y._value])
    for compiled in (False, True):
        plan.run([leaf.data for leaf in leaves], compiled=compiled)
    assert print_function(collect([y._value])[0]) == before
    assert "lazy.multiply" in before and "lazy.multiply" not in plan.optimized
