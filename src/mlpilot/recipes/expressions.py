"""A small, safe expression language for recipe filters and derived columns: tokenizer, recursive-descent
parser to an AST, and a compiler from the AST to Polars expressions. User text is never eval'd or exec'd.

Grammar (lowest precedence first)::

    expr    := or
    or      := and ("or" and)*
    and     := not ("and" not)*
    not     := "not" not | compare
    compare := sum (("==" | "!=" | "<" | "<=" | ">" | ">=") sum)?
    sum     := product (("+" | "-") product)*
    product := unary (("*" | "/" | "%") unary)*
    unary   := "-" unary | primary
    primary := NUMBER | STRING | "true" | "false" | "null" | NAME "(" [expr ("," expr)*] ")" | NAME
             | `quoted column name` | "(" expr ")"
"""

from __future__ import annotations

from collections.abc import Callable, Iterable
from dataclasses import dataclass
from typing import Any

import polars as pl

from mlpilot.core.errors import InvalidInput

MAX_LENGTH = 2000
MAX_DEPTH = 60
# Compiling and evaluating walk the tree recursively; a left-deep chain `a+a+…` is as deep as it is long.
MAX_TREE_DEPTH = 200
KEYWORDS = {"and", "or", "not", "true", "false", "null"}
TWO_CHAR_OPS = ("==", "!=", "<=", ">=")
ONE_CHAR_OPS = "+-*/%<>(),"


class ExpressionError(InvalidInput):
    """A syntax or reference error in an expression, naming the position and the offending token."""


@dataclass(frozen=True)
class Token:
    kind: str  # number, string, name, column, op, keyword, end
    text: str
    value: Any
    pos: int  # 1-based character position in the expression


# AST nodes -----------------------------------------------------------------------------------------------

@dataclass(frozen=True)
class Literal:
    value: Any
    pos: int


@dataclass(frozen=True)
class Column:
    name: str
    pos: int


@dataclass(frozen=True)
class Unary:
    op: str
    operand: Node
    pos: int


@dataclass(frozen=True)
class Binary:
    op: str
    left: Node
    right: Node
    pos: int


@dataclass(frozen=True)
class Call:
    name: str
    args: tuple[Node, ...]
    pos: int


Node = Literal | Column | Unary | Binary | Call


def _error(source: str, pos: int, message: str) -> ExpressionError:
    return ExpressionError(f"Expression {source!r}, position {pos}: {message}")


def tokenize(source: str) -> list[Token]:
    """Split an expression into tokens; raise ExpressionError at the first character that fits no token."""
    if len(source) > MAX_LENGTH:
        raise ExpressionError(f"The expression is {len(source)} characters long; the limit is {MAX_LENGTH}.")
    tokens: list[Token] = []
    i, n = 0, len(source)
    while i < n:
        ch = source[i]
        if ch.isspace():
            i += 1
            continue
        start = i
        if ch.isdigit() or (ch == "." and i + 1 < n and source[i + 1].isdigit()):
            while i < n and (source[i].isdigit() or source[i] == "_"):
                i += 1
            is_float = False
            if i < n and source[i] == ".":
                is_float = True
                i += 1
                while i < n and source[i].isdigit():
                    i += 1
            if i < n and source[i] in "eE" and i + 1 < n and (source[i + 1].isdigit() or source[i + 1] in "+-"):
                is_float = True
                i += 2
                while i < n and source[i].isdigit():
                    i += 1
            text = source[start:i]
            try:
                value: Any = float(text) if is_float else int(text.replace("_", ""))
            except ValueError:
                raise _error(source, start + 1, f"malformed number {text!r}") from None
            if i < n and (source[i].isalpha() or source[i] == "_"):
                raise _error(source, i + 1, f"unexpected {source[i]!r} right after the number {text!r}")
            tokens.append(Token("number", text, value, start + 1))
        elif ch in "'\"":
            i += 1
            chars: list[str] = []
            while True:
                if i >= n:
                    raise _error(source, start + 1, f"the string starting with {ch} is never closed")
                if source[i] == "\\" and i + 1 < n:
                    chars.append(source[i + 1])
                    i += 2
                    continue
                if source[i] == ch:
                    i += 1
                    break
                chars.append(source[i])
                i += 1
            tokens.append(Token("string", source[start:i], "".join(chars), start + 1))
        elif ch == "`":
            end = source.find("`", i + 1)
            if end < 0:
                raise _error(source, start + 1, "the column name starting with ` is never closed")
            name = source[i + 1:end]
            if not name:
                raise _error(source, start + 1, "empty column name ``")
            i = end + 1
            tokens.append(Token("column", source[start:i], name, start + 1))
        elif ch.isalpha() or ch == "_":
            while i < n and (source[i].isalnum() or source[i] == "_"):
                i += 1
            text = source[start:i]
            kind = "keyword" if text.lower() in KEYWORDS else "name"
            tokens.append(Token(kind, text, text.lower() if kind == "keyword" else text, start + 1))
        elif source[i:i + 2] in TWO_CHAR_OPS:
            tokens.append(Token("op", source[i:i + 2], source[i:i + 2], start + 1))
            i += 2
        elif ch == "=":
            raise _error(source, start + 1, "unexpected '='; compare with '=='")
        elif ch in ONE_CHAR_OPS:
            tokens.append(Token("op", ch, ch, start + 1))
            i += 1
        else:
            raise _error(source, start + 1, f"unexpected character {ch!r}")
    tokens.append(Token("end", "", None, n + 1))
    return tokens


class _Parser:
    def __init__(self, source: str) -> None:
        self.source = source
        self.tokens = tokenize(source)
        self.i = 0
        self.depth = 0

    @property
    def tok(self) -> Token:
        return self.tokens[self.i]

    def fail(self, token: Token, expected: str) -> ExpressionError:
        found = "the end of the expression" if token.kind == "end" else f"{token.text!r}"
        return _error(self.source, token.pos, f"expected {expected} but found {found}")

    def accept(self, kind: str, *values: str) -> Token | None:
        token = self.tok
        if token.kind == kind and (not values or token.value in values):
            self.i += 1
            return token
        return None

    def parse(self) -> Node:
        if self.tok.kind == "end":
            raise ExpressionError("The expression is empty.")
        node = self.expr()
        if self.tok.kind != "end":
            raise self.fail(self.tok, "an operator or the end of the expression")
        return node

    def expr(self) -> Node:
        self.depth += 1
        if self.depth > MAX_DEPTH:
            raise _error(self.source, self.tok.pos, f"the expression nests deeper than {MAX_DEPTH} levels")
        try:
            return self.or_()
        finally:
            self.depth -= 1

    def or_(self) -> Node:
        node = self.and_()
        while (op := self.accept("keyword", "or")) is not None:
            node = Binary("or", node, self.and_(), op.pos)
        return node

    def and_(self) -> Node:
        node = self.not_()
        while (op := self.accept("keyword", "and")) is not None:
            node = Binary("and", node, self.not_(), op.pos)
        return node

    def not_(self) -> Node:
        if (op := self.accept("keyword", "not")) is not None:
            self.depth += 1
            if self.depth > MAX_DEPTH:
                raise _error(self.source, op.pos, f"the expression nests deeper than {MAX_DEPTH} levels")
            try:
                return Unary("not", self.not_(), op.pos)
            finally:
                self.depth -= 1
        return self.compare()

    def compare(self) -> Node:
        node = self.sum()
        if (op := self.accept("op", "==", "!=", "<", "<=", ">", ">=")) is not None:
            node = Binary(op.value, node, self.sum(), op.pos)
            if self.tok.kind == "op" and self.tok.value in ("==", "!=", "<", "<=", ">", ">="):
                raise _error(self.source, self.tok.pos,
                             f"comparisons cannot be chained ({self.tok.text!r}); join them with 'and'")
        return node

    def sum(self) -> Node:
        node = self.product()
        while (op := self.accept("op", "+", "-")) is not None:
            node = Binary(op.value, node, self.product(), op.pos)
        return node

    def product(self) -> Node:
        node = self.unary()
        while (op := self.accept("op", "*", "/", "%")) is not None:
            node = Binary(op.value, node, self.unary(), op.pos)
        return node

    def unary(self) -> Node:
        if (op := self.accept("op", "-")) is not None:
            self.depth += 1
            if self.depth > MAX_DEPTH:
                raise _error(self.source, op.pos, f"the expression nests deeper than {MAX_DEPTH} levels")
            try:
                return Unary("-", self.unary(), op.pos)
            finally:
                self.depth -= 1
        return self.primary()

    def primary(self) -> Node:
        token = self.tok
        if token.kind in ("number", "string"):
            self.i += 1
            return Literal(token.value, token.pos)
        if token.kind == "keyword" and token.value in ("true", "false", "null"):
            self.i += 1
            return Literal({"true": True, "false": False, "null": None}[token.value], token.pos)
        if token.kind == "column":
            self.i += 1
            return Column(token.value, token.pos)
        if token.kind == "name":
            self.i += 1
            if self.accept("op", "(") is None:
                return Column(token.value, token.pos)
            args: list[Node] = []
            if self.accept("op", ")") is None:
                while True:
                    args.append(self.expr())
                    if self.accept("op", ")") is not None:
                        break
                    if self.accept("op", ",") is None:
                        raise self.fail(self.tok, f"',' or ')' in the call of {token.text}()")
            return Call(token.value.lower(), tuple(args), token.pos)
        if self.accept("op", "(") is not None:
            node = self.expr()
            if self.accept("op", ")") is None:
                raise self.fail(self.tok, f"')' to close the '(' at position {token.pos}")
            return node
        raise self.fail(token, "a column, a number, a string or '('")


def parse(source: str) -> Node:
    """Parse an expression to its AST, or raise ExpressionError naming the position and token."""
    if not isinstance(source, str):
        raise ExpressionError(f"An expression must be text; got {type(source).__name__}.")
    tree = _Parser(source).parse()
    depth = _tree_depth(tree)
    if depth > MAX_TREE_DEPTH:
        raise ExpressionError(f"The expression is {depth} operations deep (a chain of operators counts one per "
                              f"operator); the limit is {MAX_TREE_DEPTH}. Split it into several derived columns.")
    return tree


def _tree_depth(root: Node) -> int:
    """Depth of the AST, counted without recursion (the check must not itself overflow the stack)."""
    deepest, stack = 0, [(root, 1)]
    while stack:
        node, depth = stack.pop()
        deepest = max(deepest, depth)
        if isinstance(node, Unary):
            stack.append((node.operand, depth + 1))
        elif isinstance(node, Binary):
            stack.extend(((node.left, depth + 1), (node.right, depth + 1)))
        elif isinstance(node, Call):
            stack.extend((arg, depth + 1) for arg in node.args)
    return deepest


def columns_of(node: Node) -> set[str]:
    """Return the column names an AST refers to."""
    if isinstance(node, Column):
        return {node.name}
    if isinstance(node, Unary):
        return columns_of(node.operand)
    if isinstance(node, Binary):
        return columns_of(node.left) | columns_of(node.right)
    if isinstance(node, Call):
        return set().union(*(columns_of(a) for a in node.args)) if node.args else set()
    return set()


# Compilation ---------------------------------------------------------------------------------------------

def _if(c: pl.Expr, a: pl.Expr, b: pl.Expr) -> pl.Expr:
    return pl.when(c).then(a).otherwise(b)


def _round(x: pl.Expr, digits: object = None) -> pl.Expr:
    # `digits` is the literal the parser took (round's second argument must be one).
    if digits is None:
        return x.round(0)
    if isinstance(digits, bool) or not isinstance(digits, int) or not 0 <= digits <= 15:
        raise InvalidInput(f"round() takes a whole number of digits from 0 to 15 as its second argument; "
                           f"got {digits!r}.")
    return x.round(digits)


# name -> (min args, max args or None for any, builder, literal-only argument positions)
FUNCTIONS: dict[str, tuple[int, int | None, Callable[..., pl.Expr], tuple[int, ...]]] = {
    "abs": (1, 1, lambda x: x.abs(), ()),
    "round": (1, 2, _round, (1,)),
    "floor": (1, 1, lambda x: x.floor(), ()),
    "ceil": (1, 1, lambda x: x.ceil(), ()),
    "sqrt": (1, 1, lambda x: x.sqrt(), ()),
    "log": (1, 1, lambda x: x.log(), ()),
    "log10": (1, 1, lambda x: x.log10(), ()),
    "exp": (1, 1, lambda x: x.exp(), ()),
    "lower": (1, 1, lambda x: x.str.to_lowercase(), ()),
    "upper": (1, 1, lambda x: x.str.to_uppercase(), ()),
    "trim": (1, 1, lambda x: x.str.strip_chars(), ()),
    "len": (1, 1, lambda x: x.str.len_chars(), ()),
    "contains": (2, 2, lambda x, s: x.str.contains(s, literal=True), (1,)),
    "starts_with": (2, 2, lambda x, s: x.str.starts_with(s), (1,)),
    "ends_with": (2, 2, lambda x, s: x.str.ends_with(s), (1,)),
    "substr": (2, 3, lambda x, s, n=None: x.str.slice(s, n), (1, 2)),
    "concat": (1, None, lambda *xs: pl.concat_str([x.cast(pl.String) for x in xs]), ()),
    "coalesce": (1, None, lambda *xs: pl.coalesce(list(xs)), ()),
    "if": (3, 3, _if, ()),
    "is_null": (1, 1, lambda x: x.is_null(), ()),
    "is_not_null": (1, 1, lambda x: x.is_not_null(), ()),
    "min": (1, None, lambda *xs: pl.min_horizontal(list(xs)), ()),
    "max": (1, None, lambda *xs: pl.max_horizontal(list(xs)), ()),
    "int": (1, 1, lambda x: x.cast(pl.Int64, strict=False), ()),
    "float": (1, 1, lambda x: x.cast(pl.Float64, strict=False), ()),
    "str": (1, 1, lambda x: x.cast(pl.String), ()),
    "year": (1, 1, lambda x: x.dt.year(), ()),
    "month": (1, 1, lambda x: x.dt.month(), ()),
    "day": (1, 1, lambda x: x.dt.day(), ()),
}

_BINARY: dict[str, Callable[[pl.Expr, pl.Expr], pl.Expr]] = {
    "+": lambda a, b: a + b, "-": lambda a, b: a - b, "*": lambda a, b: a * b, "/": lambda a, b: a / b,
    "%": lambda a, b: a % b, "==": lambda a, b: a == b, "!=": lambda a, b: a != b, "<": lambda a, b: a < b,
    "<=": lambda a, b: a <= b, ">": lambda a, b: a > b, ">=": lambda a, b: a >= b,
    "and": lambda a, b: a & b, "or": lambda a, b: a | b,
}


def compile_node(node: Node, *, source: str, columns: Iterable[str] | None = None) -> pl.Expr:
    """Build the Polars expression for an AST; unknown columns and functions raise ExpressionError."""
    known = None if columns is None else list(columns)

    def build(n: Node) -> pl.Expr:
        if isinstance(n, Literal):
            return pl.lit(n.value)
        if isinstance(n, Column):
            if known is not None and n.name not in known:
                raise _error(source, n.pos, f"unknown column {n.name!r}; the columns are {', '.join(known)}")
            return pl.col(n.name)
        if isinstance(n, Unary):
            inner = build(n.operand)
            return ~inner if n.op == "not" else -inner
        if isinstance(n, Binary):
            return _BINARY[n.op](build(n.left), build(n.right))
        spec = FUNCTIONS.get(n.name)
        if spec is None:
            raise _error(source, n.pos, f"unknown function {n.name}(); use one of {', '.join(sorted(FUNCTIONS))}")
        low, high, fn, literal_args = spec
        if len(n.args) < low or (high is not None and len(n.args) > high):
            wanted = f"{low}" if low == high else f"{low} or more" if high is None else f"{low} to {high}"
            raise _error(source, n.pos, f"{n.name}() takes {wanted} argument(s); got {len(n.args)}")
        args: list[Any] = []
        for index, arg in enumerate(n.args):
            if index in literal_args:
                if not isinstance(arg, Literal):
                    raise _error(source, arg.pos, f"argument {index + 1} of {n.name}() must be a literal value")
                args.append(arg.value)
            else:
                args.append(build(arg))
        return fn(*args)

    return build(node)


def compile_expression(source: str, *, columns: Iterable[str] | None = None) -> pl.Expr:
    """Parse and compile `source` to a Polars expression (checking column names when `columns` is given)."""
    return compile_node(parse(source), source=source, columns=columns)
