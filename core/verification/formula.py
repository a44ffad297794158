"""The small formula language of spec/properties.yaml.

One text serves two checkers: the explorer compiles it to a Python predicate
over one step of the machine, the Promela generator renders it for SPIN.

Atoms (all checked against the machine, so a typo is an error, not a pass):
  at(s)        the machine is in state s after the step
  src_is(s)    the step started in state s
  took(e)      the step was event e and a transition was taken
  tried(e)     the step was event e (taken or refused)
  entered(s)   a transition was taken into state s
  guard(g)     the value the environment gave guard (or validator) g in the step
  taken        a transition was taken
  off, rising, holding, falling (the permission names, lower case): the output
               permission of the current state; src_off, src_rising, ...: of the
               state the step started in; energised: not off
  any monitor name from the `monitors:` section (an identifier that is none of
               the names above, nor U or X: it would be read as them)
Operators: ! && || -> <-> and the temporal [] <> U X (SPIN only, except an
outer [] around a plain condition, which the explorer also checks).
"""
from __future__ import annotations

import re
from dataclasses import dataclass

from .introspect import OFF, MachineModel


class FormulaError(ValueError):
    pass


_TOKEN = re.compile(r"\s*(\[\]|<>|<->|->|&&|\|\||!|\(|\)|,|[A-Za-z_][A-Za-z0-9_]*)")
_FUNCS = {"at": "state", "src_is": "state", "entered": "state", "took": "event", "tried": "event",
          "guard": "guard"}


@dataclass(frozen=True)
class Node:
    op: str                 # "atom", "call", "not", "and", "or", "imp", "iff", "G", "F", "U", "X"
    args: tuple = ()
    name: str = ""

    @property
    def temporal(self) -> bool:
        return self.op in ("G", "F", "U", "X") or any(a.temporal for a in self.args)


def tokenize(text: str) -> list[str]:
    pos, out = 0, []
    text = text.strip()
    while pos < len(text):
        m = _TOKEN.match(text, pos)
        if not m:
            raise FormulaError(f"formula {text!r}: cannot read from {text[pos:]!r}")
        out.append(m.group(1))
        pos = m.end()
    return out


class _Parser:
    # precedence, loosest first: <->, ->, U, ||, &&, unary (! [] <> X)
    def __init__(self, text: str):
        self.text = text
        self.toks = tokenize(text)
        self.i = 0

    def peek(self):
        return self.toks[self.i] if self.i < len(self.toks) else None

    def take(self, expected=None):
        tok = self.peek()
        if tok is None or (expected and tok != expected):
            raise FormulaError(f"formula {self.text!r}: expected {expected or 'more'}, got {tok!r}")
        self.i += 1
        return tok

    def parse(self) -> Node:
        node = self.iff()
        if self.peek() is not None:
            raise FormulaError(f"formula {self.text!r}: unexpected {self.peek()!r}")
        return node

    def iff(self):
        left = self.imp()
        while self.peek() == "<->":
            self.take()
            left = Node("iff", (left, self.imp()))
        return left

    def imp(self):
        left = self.until()
        if self.peek() == "->":
            self.take()
            return Node("imp", (left, self.imp()))
        return left

    def until(self):
        left = self.disj()
        if self.peek() == "U":
            self.take()
            return Node("U", (left, self.until()))
        return left

    def disj(self):
        left = self.conj()
        while self.peek() == "||":
            self.take()
            left = Node("or", (left, self.conj()))
        return left

    def conj(self):
        left = self.unary()
        while self.peek() == "&&":
            self.take()
            left = Node("and", (left, self.unary()))
        return left

    def unary(self):
        tok = self.peek()
        ops = {"!": "not", "[]": "G", "<>": "F", "X": "X"}
        if tok in ops:
            self.take()
            return Node(ops[tok], (self.unary(),))
        if tok == "(":
            self.take()
            node = self.iff()
            self.take(")")
            return node
        name = self.take()
        if not name.isidentifier():
            raise FormulaError(f"formula {self.text!r}: unexpected {name!r}")
        if name in _FUNCS:
            self.take("(")
            arg = self.take()
            self.take(")")
            return Node("call", (), f"{name}:{arg}")
        return Node("atom", (), name)


def parse(text: str) -> Node:
    return _Parser(text).parse()


def _atoms(node: Node):
    if node.op in ("atom", "call"):
        yield node
    for a in node.args:
        yield from _atoms(a)


def reserved_names(model: MachineModel) -> set[str]:
    """The names a formula reads as something other than a monitor."""
    perms = {p.lower() for p in model.permissions}
    return (perms | {f"src_{p}" for p in perms} | {"energised", "taken", "true", "false", "U", "X"}
            | set(_FUNCS))


def check_names(node: Node, model: MachineModel, monitors: list[str], where: str) -> None:
    """Every state, event, permission and monitor named must exist."""
    perms = {p.lower() for p in model.permissions}
    atoms = perms | {f"src_{p}" for p in perms} | {"energised", "taken", "true", "false"}
    for a in _atoms(node):
        if a.op == "call":
            func, arg = a.name.split(":")
            kind = _FUNCS[func]
            known = {"state": model.states, "event": model.events, "guard": model.guards}[kind]
            if arg not in known:
                raise FormulaError(f"{where}: {func}({arg}): no {kind} {arg!r} in {model.name}")
        elif a.name not in atoms and a.name not in monitors:
            raise FormulaError(f"{where}: unknown name {a.name!r} (allowed: {sorted(atoms | set(monitors))})")


def guards_named(node: Node) -> set[str]:
    return {a.name.split(":")[1] for a in _atoms(node) if a.name.startswith("guard:")}


def is_invariant(node: Node) -> bool:
    """[] p with p a plain condition: the explorer can check it on every step."""
    return node.op == "G" and not node.args[0].temporal


# --- rendering --------------------------------------------------------------
def _perm_names(model: MachineModel) -> set[str]:
    """The permission atoms (lower case), with "energised"."""
    return {p.lower() for p in model.permissions} | {"energised"}


def _perm_states(model: MachineModel, perm: str) -> list[str]:
    if perm == "energised":
        return [s for s in model.states if model.output[s] != OFF]
    return [s for s in model.states if model.output[s].lower() == perm]


def to_python(node: Node, model: MachineModel) -> str:
    """A Python expression over st, src, ev, taken and the monitor dict m."""
    op = node.op
    if op == "atom":
        n = node.name
        if n in ("true", "false"):
            return "True" if n == "true" else "False"
        if n == "taken":
            return "taken"
        if n.startswith("src_") and n[4:] in _perm_names(model):
            return f"(src in {set(_perm_states(model, n[4:])) or 'set()'!r})"
        if n in _perm_names(model):
            return f"(st in {set(_perm_states(model, n)) or 'set()'!r})"
        return f"m[{n!r}]"
    if op == "call":
        func, arg = node.name.split(":")
        return {
            "at": f"(st == {arg!r})",
            "src_is": f"(src == {arg!r})",
            "took": f"(taken and ev == {arg!r})",
            "tried": f"(ev == {arg!r})",
            "entered": f"(taken and st == {arg!r})",
            "guard": f"g[{arg!r}]",
        }[func]
    a = [to_python(x, model) for x in node.args]
    if op == "not":
        return f"(not {a[0]})"
    if op == "and":
        return f"({a[0]} and {a[1]})"
    if op == "or":
        return f"({a[0]} or {a[1]})"
    if op == "imp":
        return f"((not {a[0]}) or {a[1]})"
    if op == "iff":
        return f"({a[0]} == {a[1]})"
    raise FormulaError(f"temporal operator {op} cannot be evaluated on one step")


def compile_predicate(node: Node, model: MachineModel):
    """f(st, src, ev, taken, m, g) -> bool (m: monitors, g: guard values)."""
    src = to_python(node, model)
    return eval(f"lambda st, src, ev, taken, m, g: {src}", {})  # noqa: S307 (text built above)


def to_promela(node: Node, model: MachineModel) -> str:
    op = node.op
    if op == "atom":
        n = node.name
        perms = _perm_names(model)
        if n in ("true", "false", "taken"):
            return n
        if n.startswith("src_") and n[4:] in perms:
            states = _perm_states(model, n[4:])
            return "(" + (" || ".join(f"src == S_{s}" for s in states) or "false") + ")"
        if n in perms:
            states = _perm_states(model, n)
            return "(" + (" || ".join(f"st == S_{s}" for s in states) or "false") + ")"
        return f"m_{n}"
    if op == "call":
        func, arg = node.name.split(":")
        return {
            "at": f"(st == S_{arg})",
            "src_is": f"(src == S_{arg})",
            "took": f"(taken && ev == E_{arg})",
            "tried": f"(ev == E_{arg})",
            "entered": f"(taken && st == S_{arg})",
            "guard": f"g_{arg}",
        }[func]
    a = [to_promela(x, model) for x in node.args]
    unary = {"not": "!", "G": "[] ", "F": "<> ", "X": "X "}
    if op in unary:
        return f"({unary[op]}{a[0]})"
    binary = {"and": "&&", "or": "||", "imp": "->", "iff": "<->", "U": "U"}
    return f"({a[0]} {binary[op]} {a[1]})"
