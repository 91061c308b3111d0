"""Writing values as Python and YAML source text, for ``cfes export``.

Python is laid out as ``ruff format`` leaves it (with its default settings), so that an exported program
passes ``ruff format --check`` as written and without ruff installed: strings in double quotes unless that
needs more escapes, calls, dicts and long lists one item a line with a trailing comma (which keeps them so
at any line length), short lists of scalars on one line. YAML is the subset that PyYAML and every YAML 1.1
or 1.2 reader read alike: a scalar is plain only where it cannot be read as anything but that string.

Every text from the account, in a literal or in a comment, is written by one rule (:func:`.formats.escaped`):
no character that is not printable reaches the file as it is, so that none can end a comment or a line
early (CR, U+2028, U+0085, form feed), be refused by a reader (a control character in YAML) or make the
code read otherwise than it runs (bidi controls).
"""

from __future__ import annotations

import re
from collections.abc import Mapping, Sequence
from typing import Any

from .formats import escaped

INDENT = "    "
LINE_LENGTH = 88
"""ruff's default line length: a list that fits on one line within it is written on one line."""

_YAML_PLAIN = re.compile(r"[A-Za-z][A-Za-z0-9._@/+-]*")
_YAML_WORDS = frozenset({"true", "false", "yes", "no", "on", "off", "y", "n", "null"})
"""Words that a YAML 1.1 reader takes for booleans or null, in any letter case: never written plain."""


def py_str(text: str) -> str:
    """A Python string literal for ``text``, as ``ruff format`` writes it.

    Printable characters (any script) stay as they are; others become escapes in lower-case hex.
    """
    quote = "'" if text.count('"') > text.count("'") else '"'
    return quote + escaped(text, {"\\": "\\\\", quote: "\\" + quote}) + quote


class Code(str):
    """Python code (a name), written as it is rather than as a string literal."""


def py_value(value: Any) -> str:
    """A Python literal for a JSON-like scalar (a :class:`Code` as it is)."""
    if isinstance(value, Code):
        return str(value)
    if isinstance(value, bool) or value is None:
        return repr(value)
    if isinstance(value, int | float):
        return repr(value)
    if isinstance(value, str):
        return py_str(value)
    raise TypeError(f"cannot write a {type(value).__name__} as a Python scalar")


def py_expression(value: Any, indent: int, prefix: str, suffix: str = ",") -> list[str]:
    """``value`` (scalars, lists and dicts of them) as lines of Python at ``indent`` levels, the first line
    starting with ``prefix`` (``name=`` or ``"key": ``) and the last ending with ``suffix``."""
    pad = INDENT * indent
    if isinstance(value, Mapping):
        if not value:
            return [f"{pad}{prefix}{{}}{suffix}"]
        lines = [f"{pad}{prefix}{{"]
        for key, item in value.items():
            lines += py_expression(item, indent + 1, f"{py_str(str(key))}: ")
        return [*lines, f"{pad}}}{suffix}"]
    if isinstance(value, Sequence) and not isinstance(value, str):
        flat = not any(isinstance(item, Mapping | list | tuple) for item in value)
        one_line = f"{pad}{prefix}[{', '.join(py_value(v) for v in value)}]{suffix}" if flat else ""
        if not value or (one_line and len(one_line) <= LINE_LENGTH):
            return [one_line]
        lines = [f"{pad}{prefix}["]
        for item in value:
            lines += py_expression(item, indent + 1, "")
        return [*lines, f"{pad}]{suffix}"]
    return [f"{pad}{prefix}{py_value(value)}{suffix}"]


def py_call(function: str, positional: Sequence[Any], keywords: Mapping[str, Any]) -> list[str]:
    """A call statement, one argument a line with a trailing comma (so any line length keeps it so)."""
    lines = [f"{function}("]
    for value in positional:
        lines += py_expression(value, 1, "")
    for name, value in keywords.items():
        lines += py_expression(value, 1, f"{name}=")
    return [*lines, ")"]


def _comment_lines(text: str, prefix: str) -> list[str]:
    """``text`` as comment lines that begin with ``prefix``: each ``\\n`` in it starts a new one, any other
    character that is not printable is escaped (:func:`.formats.escaped`), trailing spaces are dropped."""
    return [f"{prefix}{escaped(line)}".rstrip() for line in text.split("\n")]


def py_comment(text: str, indent: int = 0) -> list[str]:
    """``text`` as Python comment lines (see :func:`_comment_lines`)."""
    return _comment_lines(text, f"{INDENT * indent}# ")


def shown_py(value: Any) -> str:
    """A value as comments quote it: its literal, on one line whatever it holds."""
    if isinstance(value, list):
        return "[" + ", ".join(shown_py(v) for v in value) + "]"
    return py_value(value)


def yaml_str(text: str) -> str:
    """A YAML scalar that reads back as the string ``text``: plain when nothing else can be read from it,
    else double-quoted with escapes for ``"``, ``\\`` and every non-printable character."""
    if _YAML_PLAIN.fullmatch(text) and text.lower() not in _YAML_WORDS:
        return text
    return '"' + escaped(text, {"\\": "\\\\", '"': '\\"'}) + '"'


def yaml_value(value: Any) -> str:
    """A YAML flow value for a JSON-like value (a scalar, or a list of scalars)."""
    if isinstance(value, bool):
        return "true" if value else "false"
    if value is None:
        return "null"
    if isinstance(value, int | float):
        return repr(value)
    if isinstance(value, str):
        return yaml_str(value)
    if isinstance(value, list):
        return "[" + ", ".join(yaml_value(v) for v in value) + "]"
    raise TypeError(f"cannot write a {type(value).__name__} as a YAML value")


def yaml_comment(text: str, indent: int = 0) -> list[str]:
    """``text`` as YAML comment lines (see :func:`_comment_lines`)."""
    return _comment_lines(text, f"{' ' * indent}# ")
