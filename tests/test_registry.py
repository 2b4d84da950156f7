"""Every registered op is complete: a family every layer knows, a NumPy
reference, the lowering its family needs, and Keras test cases."""
import importlib

import pytest

from lazyops.ir.registry import CONTROL_FLOW, Reduce, all_ops, family


@pytest.mark.parametrize("name", sorted(all_ops()))
def test_every_op_is_complete(name):
    d = all_ops()[name]
    fam = family(name)
    if fam in ("kernel", "terminator") or d.has(CONTROL_FLOW):  # defined by their regions
        return
    assert d.reference is not None, f"{name}: no NumPy reference"
    assert d.infer is not None, f"{name}: no type inference"
    if fam in ("elementwise", "source"):
        assert d.scalar is not None, f"{name}: no scalar lowering"
    if fam == "reduction":
        assert isinstance(d.reduce, Reduce), f"{name}: no typed reduce recipe"


@pytest.mark.parametrize("name", sorted(all_ops()))
def test_every_op_has_keras_cases(name):
    from test_ops_keras import keras_tested
    if family(name) in ("kernel", "terminator"):
        return
    where = keras_tested().get(all_ops()[name].name)
    assert where is not None, f"{name}: no Keras differential test cases"
    module, test = where
    assert callable(getattr(importlib.import_module(module), test, None)), where


def test_unknown_ops_fail_loudly():
    with pytest.raises(KeyError, match="not in the registry"):
        family("lazy.frobnicate")
