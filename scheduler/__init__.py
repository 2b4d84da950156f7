"""lazyops.scheduler: cuts an optimized function into kernels (IR in, IR out)."""
from .fusion import outline, partition
from .views import sink_views


def schedule(func):
    """Sink views, partition into fusion groups, outline each as a lazy.kernel.
    Works on a copy: `func` is left as it is."""
    func = sink_views(func.clone())
    groups, group_of = partition(func)
    return outline(func, groups, group_of)


__all__ = ["schedule", "partition", "outline", "sink_views"]
