"""lazyops.codegen: lowers kernels to loop plans, prints them per target,
compiles, caches and runs them."""


def backend(device):
    """The target for `device`: a module with `print_plan(plan) -> source`,
    `compile(source) -> function` and `launch(function, args)`; a target
    that can compile ahead (see `codegen.background`) also has
    `describe(args)` and `precompile(function, described)`, and may have
    `ahead(source, described)`, run first, which has the compile worker put
    the kernel in the disk cache (`codegen.worker`)."""
    if device == "cpu":
        from . import cpu
        return cpu
    raise ValueError(f"codegen: no target for device {device!r}; targets: 'cpu'")
