"""The kernel graph as a picture: Graphviz DOT text written here (no
dependency), rendered to SVG or PNG by the optional `graphviz` package and
Graphviz's `dot` program (`pip install "lazyops[viz]"`), and shown inline in
Jupyter. Made by `lazyops.visualize` and `explain(t).graph()`."""
import os
import textwrap

from .ir.core import Operation
from .ir.registry import CONSTANT_OPS, family

_INSTALL = ("rendering the graph needs the graphviz Python package and Graphviz's `dot` "
            "program: pip install 'lazyops[viz]' (or pip install graphviz), and install "
            "Graphviz itself (apt-get install graphviz, brew install graphviz or conda install "
            "graphviz); the DOT text (.dot, or a filename ending in .dot) needs neither")

_STYLE = {  # node kind -> DOT attributes
    "input": 'shape=ellipse, style=filled, fillcolor="#dbe9f6"',
    "constant": 'shape=ellipse, style=dashed',
    "value": 'shape=box, style=rounded, fontsize=9',
    "output": 'shape=ellipse, style=filled, fillcolor="#d9f0d3", peripheries=2',
    "kernel": 'shape=box, style="filled", fillcolor="#fde9c9"',
    "step": 'shape=box, style="filled", fillcolor="#e8e8e8"',
}


class GraphvizMissing(RuntimeError):
    """Rendering needs the graphviz package and the `dot` program."""


class Graph:
    """A kernel graph: `.dot` (also `str()`) is its Graphviz DOT text;
    `.render(format)` gives an image's bytes, `.save(filename)` writes one,
    and Jupyter shows it inline as SVG."""

    def __init__(self, dot):
        self.dot = dot

    def __str__(self):
        return self.dot

    def __repr__(self):
        return (f"<lazyops.Graph, {self.dot.count(' [label=')} nodes: .dot for the DOT text, "
                ".render(format) or .save(filename) for an image>")

    def render(self, format="svg"):  # noqa: A002  (graphviz's name)
        """The picture as bytes in `format` ("svg", "png", "pdf", ...)."""
        try:
            import graphviz
        except ImportError:
            raise GraphvizMissing(_INSTALL) from None
        try:
            return graphviz.Source(self.dot).pipe(format=format)
        except graphviz.ExecutableNotFound:
            raise GraphvizMissing(_INSTALL) from None

    def save(self, filename, format=None):  # noqa: A002
        """Write the picture to `filename` in `format`, by default the
        filename's suffix (a filename without one gets ".png"); ".dot" or
        ".gv" writes the DOT text. Returns the path written."""
        root, suffix = os.path.splitext(os.fspath(filename))
        format = format or suffix[1:].lower() or "png"  # noqa: A001
        path = os.fspath(filename) if suffix else f"{root}.{format}"
        if format in ("dot", "gv"):
            data = self.dot.encode()
        else:
            data = self.render(format)
        with open(path, "wb") as f:
            f.write(data)
        return path

    def _repr_mimebundle_(self, include=None, exclude=None):
        try:
            return {"image/svg+xml": self.render("svg").decode(), "text/plain": repr(self)}
        except GraphvizMissing as e:
            return {"text/plain": f"{self.dot}\n({e})"}


def kernel_graph(plans):
    """DOT text of the plans: (scheduled function, its steps (see
    `explain.Step`) by op, a printer `Names` table of its values), each a
    cluster when there are several."""
    lines = ["digraph lazyops {", '  node [fontname="Helvetica", fontsize=10];',
             '  edge [color="#555555"];']
    for k, (func, steps, names) in enumerate(plans):
        body = _plan_nodes(func, steps, names, f"p{k}_" if len(plans) > 1 else "")
        if len(plans) > 1:
            body = [f"  subgraph cluster_{k} {{", f"    label={_q(f'plan {k + 1}')};"] \
                + ["  " + line for line in body] + ["  }"]
        lines += body
    lines.append("}")
    return "\n".join(lines)


def _plan_nodes(func, steps, names, prefix):
    """Nodes and edges of one scheduled function: its inputs, each step,
    the values passed between steps and its outputs."""
    out, node_of, lines = {}, {}, []
    for i, v in enumerate(func.returns):
        out.setdefault(v, i)

    def value(v):
        if v not in node_of:
            node_of[v] = f"{prefix}v{len(node_of)}"
            lines.append(f"  {node_of[v]} [label={_q(_value_label(v, names, out))}, "
                         f"{_STYLE[_value_kind(v, func, out)]}];")
        return node_of[v]

    for v in func.args:
        value(v)
    for k, step in enumerate(steps.values()):
        sid = f"{prefix}s{k}"
        style = _STYLE["kernel" if step.ops else "step"]
        lines.append(f"  {sid} [label={_q(_step_label(step))}, {style}];")
        for v in dict.fromkeys(step.op.operands):
            lines.append(f"  {value(v)} -> {sid};")
        for v in step.op.results:
            lines.append(f"  {sid} -> {value(v)};")
    for v in func.returns:  # an output that is an input, or a constant
        value(v)
    return lines


def _value_kind(v, func, out):
    if v in out:
        return "output"
    if v in func.args:
        return "input"
    if _constant(v) is not None:
        return "constant"
    return "value"


def _constant(v):
    """The constant op defining `v`, or None."""
    op = v.owner
    return op if isinstance(op, Operation) and family(op) == CONSTANT_OPS else None


def _value_label(v, names, out):
    t = v.type
    shape = "x".join(map(str, t.shape)) or "scalar"
    head = names[v]
    if v in out:
        head = f"output {out[v]}: {head}"
    if _constant(v) is not None:
        head = f"constant {_constant(v).attrs.get('value')}"
    return f"{head}\n{shape} {t.dtype}"


def _step_label(step):
    space = "x".join(map(str, step.space)) or "scalar"
    lines = [f"{step.name}: {step.kind}", space]
    if step.ops:
        lines += textwrap.wrap(" ".join(step.ops), 36)
    if step.where:
        lines.append(step.where)
    if step.seconds is not None:
        lines.append(f"{step.seconds * 1e3:.3f} ms")
    return "\n".join(lines)


def _q(text):
    """A DOT quoted string."""
    return '"' + text.replace("\\", "\\\\").replace('"', '\\"').replace("\n", "\\n") + '"'
