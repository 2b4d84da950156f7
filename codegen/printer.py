"""What every target's printer of a loop plan shares: lines, statements and
the merge of a partial accumulator state. A target adds its loops, buffer
subscripts (`sub(buffer)`) and value conversions at loads and stores."""
from .plan import INDEX, Let, Load, Store


class Printer:
    def __init__(self, plan):
        self.plan = plan
        self.lines = []

    def emit(self, depth, line):
        self.lines.append("    " * depth + line)

    def stmts(self, depth, stmts, sub):
        """Print `stmts`; `sub(buffer)` is the subscripted buffer at the current index."""
        for s in stmts:
            if isinstance(s, Let):
                self.emit(depth, f"{s.var} = {s.expr}")
            elif isinstance(s, Load):
                self.emit(depth, f"{s.var} = {self.load(sub(s.src), s.src.dtype)}")
            elif isinstance(s, Store):
                self.emit(depth, f"{sub(s.dst)} = {self.store(s.var, s.dst.dtype)}")
            else:
                self.update(depth, s, sub)

    def update(self, depth, s, sub):
        self.stmts(depth, s.acc.update(s.x, INDEX), sub)

    def load(self, expr, dtype):
        return expr

    def store(self, expr, dtype):
        return expr

    def merge_from(self, depth, acc, field_at):
        """Merge into `acc` the partial state whose field f is `field_at(f)`."""
        for f in acc.fields:
            self.emit(depth, f"{acc.var(f, '_p')} = {field_at(f)}")
        self.stmts(depth, acc.merge("_p"), None)
