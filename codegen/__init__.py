"""lazyops.codegen: lowers kernels to loop plans, prints them per target,
compiles, caches and runs them."""


def backend(device):
    """The target for `device`: a module with `print_plan(plan) -> source`,
    `compile(source) -> function` and `launch(function, args)`."""
    if device == "cpu":
        from . import cpu
        return cpu
    raise ValueError(f"codegen: no target for device {device!r}; targets: 'cpu'")
