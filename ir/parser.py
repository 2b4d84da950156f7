"""Parser for the textual IR written by `printer.print_function`.

`parse_function(text)` builds a `Function` such that
`print_function(parse_function(print_function(f))) == print_function(f)`:
locations, regions (blocks with arguments), multi-result ops and the declared
result types all survive. Result types are taken from the text, never
re-inferred; `verifier.verify` checks them. Malformed text and undefined
values raise `ParseError` (a `ValueError`) naming the line.
"""
import gc
import json
import re

from . import dtypes
from .core import Block, Function, Location, Operation, Region
from .registry import lookup
from .types import TensorType

RETURN = "func.return"


class ParseError(ValueError):
    pass


# One token per match; whitespace is skipped; `\S` catches stray characters.
_TOKEN = re.compile(r"""
    //[^\n]*
  | tensor<[^<>\n]*(?:complex<[a-z0-9]+>)?>
  | complex<[a-z0-9]+>
  | %[A-Za-z0-9_$.]+
  | \^[A-Za-z0-9_$.]+
  | @(?:[A-Za-z_][A-Za-z0-9_.$]*|"(?:[^"\\\n]|\\.)*")
  | "(?:[^"\\\n]|\\.)*"
  | ->
  | [-+]?(?:(?:\d+\.?\d*|\.\d+)(?:[eE][-+]?\d+)?|inf(?![A-Za-z0-9_.$])|nan(?![A-Za-z0-9_.$]))
  | [A-Za-z_][A-Za-z0-9_.$]*
  | [(){}\[\],:=]
  | \S
""", re.VERBOSE)

_EOF = ""   # the token past the end
_PAD = 4    # EOF tokens appended, so lookahead never runs off the end
_PUNCT = frozenset("(){}[],:=")


def _kind(t):
    """The kind of token `t` (computed on demand: most checks look at one char)."""
    if not t:
        return "eof"
    c = t[0]
    if c == "%":
        return "value" if len(t) > 1 else "bad"
    if c == "^":
        return "block" if len(t) > 1 else "bad"
    if c == "@":
        return "symbol" if len(t) > 1 else "bad"
    if c == '"':
        return "string" if len(t) > 1 and t[-1] == '"' else "bad"
    if t.startswith("tensor<"):
        return "type"
    if t == "->":
        return "arrow"
    if c.isdigit() or c in "-+." or t in ("inf", "nan"):
        return "number" if len(t) > 1 or c.isdigit() else "bad"
    if c.isalpha() or c == "_":
        return "ident"
    if t in _PUNCT:
        return "punct"
    return "bad"


def _tokenize(text):
    toks, lines = [], []
    findall = _TOKEN.findall
    for lineno, line in enumerate(text.split("\n"), 1):
        found = findall(line)
        if found:
            if "//" in line:
                found = [t for t in found if not t.startswith("//")]
            toks += found
            lines += [lineno] * len(found)
    last = lines[-1] if lines else 1
    toks += [_EOF] * _PAD
    lines += [last] * _PAD
    return toks, lines


def _error(text, line, msg):
    lines = text.split("\n")
    src = lines[line - 1].strip() if 0 < line <= len(lines) else ""
    return ParseError(f"line {line}: {msg}" + (f"\n    {src}" if src else ""))


def _number(s):
    if any(c in s for c in ".eEn"):  # "n": inf and nan
        return float(s)
    return int(s)


class _Parser:
    def __init__(self, text):
        self.text = text
        self.toks, self.lines = _tokenize(text)
        self.i = 0
        self.scopes = [{}]
        self.types = {}
        self.strings = {}
        self.names = {}

    # -- tokens
    def error(self, msg, at=None):
        at = self.i if at is None else at
        tok = self.toks[at]
        if tok and _kind(tok) == "bad":
            msg = f"unexpected character {tok[0]!r}"
        return _error(self.text, self.lines[at], msg)

    def kind(self, k=0):
        return _kind(self.toks[self.i + k])

    def val(self, k=0):
        return self.toks[self.i + k]

    def at(self, v, k=0):
        return self.toks[self.i + k] == v

    def describe(self):
        t = self.toks[self.i]
        return "end of input" if t == _EOF else repr(t)

    def expect(self, v):
        if self.toks[self.i] != v:
            raise self.error(f"expected '{v}', got {self.describe()}")
        self.i += 1

    def take(self, kind, what):
        s = self.toks[self.i]
        if _kind(s) != kind:
            raise self.error(f"expected {what}, got {self.describe()}")
        self.i += 1
        return s

    def string(self, s):
        v = self.strings.get(s)
        if v is None:
            v = self.strings[s] = json.loads(s)
        return v

    # -- names
    def define(self, name, value, at):
        for scope in self.scopes:
            if name in scope:
                raise self.error(f"redefinition of value {name}", at)
        self.scopes[-1][name] = value

    def use(self):
        at = self.i
        name = self.take("value", "a value (%name)")
        for scope in reversed(self.scopes):
            v = scope.get(name)
            if v is not None:
                return v
        raise self.error(f"use of undefined value {name}", at)

    # -- types
    def type(self):
        at = self.i
        s = self.take("type", "a type (tensor<...>)")
        t = self.types.get(s)
        if t is None:
            body = s[len("tensor<"):-1]
            cut = body.find("complex<")  # the element type holds an `x` of its own
            cut = body.rfind("x") + 1 if cut < 0 else cut
            short, dims = body[cut:].strip(), body[:cut].split("x")[:-1]
            if short not in dtypes.LONG:
                raise self.error(f"unknown element type {short!r} in {s}", at)
            if not all(d.strip().isdigit() for d in dims):
                raise self.error(f"malformed shape in {s} (static dimensions only)", at)
            name = dtypes.LONG[short]
            if name in dtypes.EXTENDED:
                dtypes.numpy_types()
            t = self.types[s] = TensorType(tuple(int(d) for d in dims), name)
        return t

    def type_list(self):
        types = [self.type()]
        while self.at(","):
            self.i += 1
            types.append(self.type())
        return types

    # -- attributes
    def attr_value(self):
        kind, s = self.kind(), self.val()
        if kind == "number":
            self.i += 1
            return _number(s)
        if kind == "string":
            self.i += 1
            return self.string(s)
        if kind == "ident":
            self.i += 1
            if s == "true":
                return True
            if s == "false":
                return False
            if s == "none":
                return None
            if s in dtypes.LONG:
                if dtypes.LONG[s] in dtypes.EXTENDED:
                    dtypes.numpy_types()
                return dtypes.LONG[s]
            self.i -= 1
            raise self.error(f"unknown attribute value {s!r}")
        if self.at("["):
            self.i += 1
            items = []
            if not self.at("]"):
                items.append(self.attr_value())
                while self.at(","):
                    self.i += 1
                    items.append(self.attr_value())
            self.expect("]")
            return tuple(items)
        raise self.error(f"expected an attribute value, got {self.describe()}")

    def attr_dict(self):
        self.expect("{")
        attrs = {}
        while not self.at("}"):
            if attrs:
                self.expect(",")
            at = self.i
            if self.kind() == "string":
                key = self.string(self.val())
                self.i += 1
            else:
                key = self.take("ident", "an attribute name")
            if key in attrs:
                raise self.error(f"duplicate attribute {key!r}", at)
            self.expect("=")
            attrs[key] = self.attr_value()
        self.expect("}")
        return attrs

    def starts_attr_dict(self):
        if not self.at("{"):
            return False
        if self.kind(1) in ("ident", "string") and self.at("=", 2):
            return True
        return self.at("}", 1) and self.at(":", 2)  # `{} : type`

    # -- locations
    def location(self):
        self.expect("loc")
        self.expect("(")
        if self.at("unknown"):
            self.i += 1
            self.expect(")")
            return None
        file = self.string(self.take("string", "a file name string"))
        self.expect(":")
        at = self.i
        line = self.take("number", "a line number")
        if not line.lstrip("-+").isdigit():
            raise self.error(f"line number must be an integer, got {line}", at)
        self.expect(")")
        return Location(file, int(line))

    # -- operations, blocks, regions
    def op(self):
        toks = self.toks
        start = self.i
        result_names = []
        if toks[start][:1] == "%":
            result_names.append((self.take("value", "a value"), start))
            while toks[self.i] == ",":
                self.i += 1
                at = self.i
                result_names.append((self.take("value", "a result name"), at))
            self.expect("=")
        name_at = self.i
        name = self.op_name(self.take("ident", "an operation name"), name_at)
        line = self.lines[name_at]
        operands = []
        if toks[self.i][:1] == "%" and self.lines[self.i] == line:
            operands.append(self.use())
            while toks[self.i] == ",":
                self.i += 1
                operands.append(self.use())
        attrs = self.attr_dict() if toks[self.i] == "{" and self.starts_attr_dict() else {}
        types = []
        if toks[self.i] == ":":
            self.i += 1
            types = self.type_list()
        if len(types) != len(result_names):
            raise self.error(f"{name} declares {len(result_names)} result(s) but "
                             f"{len(types)} result type(s)", name_at)
        regions = []
        while toks[self.i] == "{":
            regions.append(self.region())
        loc = self.location() if (toks[self.i] == "loc" and toks[self.i + 1] == "(") else None
        op = Operation(name, operands, types, attrs, regions, loc)
        for (n, at), r in zip(result_names, op.results):
            self.define(n, r, at)
        return op

    def op_name(self, name, at):
        full = self.names.get(name)
        if full is None:
            if name in ("return", RETURN):
                full = RETURN
            else:
                d = lookup(name)
                if d is None or d.full_name != name:
                    raise self.error(f"unknown operation {name!r}", at)
                full = name
            self.names[name] = full
        return full

    def ops_until_end_of_block(self, block):
        while not (self.at("}") or self.kind() == "block"):
            if self.at(_EOF):
                raise self.error("unexpected end of input: missing '}'")
            block.ops.append(self.op())

    def block_label(self):
        self.take("block", "a block label (^bb0)")
        names, types = [], []
        if self.at("("):
            self.i += 1
            while not self.at(")"):
                if names:
                    self.expect(",")
                at = self.i
                names.append((self.take("value", "a block argument name"), at))
                self.expect(":")
                types.append(self.type())
            self.expect(")")
        self.expect(":")
        block = Block(types)
        for (n, at), a in zip(names, block.args):
            self.define(n, a, at)
        return block

    def region(self):
        self.expect("{")
        self.scopes.append({})
        blocks = []
        if not self.at("}") and self.kind() != "block":
            blocks.append(Block())  # entry block without a label
            self.ops_until_end_of_block(blocks[-1])
        while self.kind() == "block":
            blocks.append(self.block_label())
            self.ops_until_end_of_block(blocks[-1])
        self.expect("}")
        self.scopes.pop()
        return Region(blocks)

    def function(self):
        self.expect("func.func")
        sym = self.take("symbol", "a function name (@name)")[1:]
        name = json.loads(sym) if sym.startswith('"') else sym
        self.expect("(")
        arg_names, arg_types = [], []
        while not self.at(")"):
            if arg_names:
                self.expect(",")
            at = self.i
            arg_names.append((self.take("value", "an argument name"), at))
            self.expect(":")
            arg_types.append(self.type())
        self.expect(")")
        result_types = []
        if self.at("->"):
            self.i += 1
            if self.at("("):
                self.i += 1
                if not self.at(")"):
                    result_types = self.type_list()
                self.expect(")")
            else:
                result_types = [self.type()]
        body = Block(arg_types)
        for (n, at), a in zip(arg_names, body.args):
            self.define(n, a, at)
        self.expect("{")
        self.ops_until_end_of_block(body)
        if self.kind() == "block":
            raise self.error("a function body is a single block: unexpected block label")
        self.expect("}")
        if not self.at(_EOF):
            raise self.error(f"unexpected {self.describe()} after the function")
        return Function(name, body, result_types)


def parse_function(text):
    """Parse the text of one `func.func` into a `Function`."""
    if not isinstance(text, str):
        raise TypeError(f"parse_function expects a str, got {type(text).__name__}")
    # A parse allocates many container objects at once; the cyclic GC would
    # rescan them again and again (super-linear on 100k ops) and find nothing.
    enabled = gc.isenabled()
    gc.disable()
    try:
        return _Parser(text).function()
    finally:
        if enabled:
            gc.enable()


parse = parse_function

__all__ = ["parse_function", "parse", "ParseError"]
