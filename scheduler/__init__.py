"""lazyops.scheduler: cuts an optimized function into kernels (IR in, IR out)."""
from .fusion import op_kinds, outline, partition
from .views import sink_views


def schedule(func):
    """Sink views, partition into fusion groups, outline each as a lazy.kernel.
    Works on a copy: `func` is left as it is."""
    func = sink_views(func.clone())
    kind = op_kinds(func)
    groups, group_of = partition(func, kind)
    return outline(func, groups, group_of, kind)


__all__ = ["schedule", "partition", "outline", "sink_views"]
