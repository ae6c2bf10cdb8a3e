"""One escaping rule per output language, for every user-supplied name that reaches generated text.

A model's name comes from its file name, which may hold anything a file system allows: ``[exec …]``,
``;``, a newline, ``*/``, quotes, ``<script>``. Templates never print such a name raw; they pass it
through the function of the language they write (registered as Jinja2 filters by
``backend_common.template_env``):

- ``c_comment`` (C and C++: ``/* */`` and ``//`` comments), ``c_string`` (inside ``"…"``);
- ``identifier`` (a C/C++/Verilog/Tcl/Make name: mangled into ``[A-Za-z0-9_]``, never a keyword);
- ``tcl_comment``, ``tcl_word`` (a Tcl word in double quotes);
- ``verilog_comment``;
- ``markdown`` (inline text), ``html`` (element text and attribute values).

Each output is one line: control characters never survive.
"""

from __future__ import annotations

import html as _html
import re

_C_KEYWORDS = frozenset(
    [
        "auto",
        "break",
        "case",
        "char",
        "const",
        "continue",
        "default",
        "do",
        "double",
        "else",
        "enum",
        "extern",
        "float",
        "for",
        "goto",
        "if",
        "inline",
        "int",
        "long",
        "register",
        "restrict",
        "return",
        "short",
        "signed",
        "sizeof",
        "static",
        "struct",
        "switch",
        "typedef",
        "union",
        "unsigned",
        "void",
        "volatile",
        "while",
        "_Bool",
        "_Complex",
        "_Imaginary",
        "bool",
        "class",
        "delete",
        "false",
        "friend",
        "namespace",
        "new",
        "operator",
        "private",
        "protected",
        "public",
        "template",
        "this",
        "throw",
        "true",
        "try",
        "typename",
        "using",
        "virtual",
    ]
)
_VERILOG_KEYWORDS = frozenset(
    [
        "always",
        "and",
        "assign",
        "begin",
        "buf",
        "case",
        "casex",
        "casez",
        "default",
        "defparam",
        "disable",
        "edge",
        "else",
        "end",
        "endcase",
        "endfunction",
        "endmodule",
        "endtask",
        "event",
        "for",
        "force",
        "forever",
        "fork",
        "function",
        "if",
        "initial",
        "inout",
        "input",
        "integer",
        "join",
        "logic",
        "module",
        "nand",
        "negedge",
        "nor",
        "not",
        "or",
        "output",
        "parameter",
        "posedge",
        "reg",
        "repeat",
        "signed",
        "table",
        "task",
        "time",
        "tri",
        "wait",
        "while",
        "wire",
        "xor",
    ]
)


def _u(c: str) -> str:
    return f"\\u{ord(c):04x}" if ord(c) < 0x10000 else f"\\U{ord(c):08x}"


def _ascii(text: str) -> str:
    """Characters outside printable ASCII as ``\\uXXXX``."""
    return "".join(c if " " <= c <= "~" else _u(c) for c in text)


def _no_controls(text: str) -> str:
    """Control and other non-printable characters as ``\\uXXXX`` (printable Unicode kept)."""
    return "".join(c if c.isprintable() or c == " " else _u(c) for c in text)


def c_comment(text: str) -> str:
    """Text safe inside a C/C++ ``/* … */`` or ``// …`` comment: no ``*/`` or ``/*``, no newline or
    line-continuing backslash, no trigraph ``??``; non-ASCII and control characters as ``\\uXXXX``."""
    text = _ascii("".join(_u(c) if c == "\\" else c for c in text))  # no line splice
    return text.replace("*/", "*\\/").replace("/*", "/\\*").replace("??", "?\\?")


def c_string(text: str) -> str:
    """The contents of a C/C++ string literal meaning ``text``'s UTF-8 bytes (octal escapes, which
    never run into a following digit as \\x escapes can; no trigraphs)."""
    out = []
    for b in text.encode("utf-8"):
        c = chr(b)
        if c in '"\\?' or not " " <= c <= "~":
            out.append(f"\\{b:03o}")
        else:
            out.append(c)
    return "".join(out)


def identifier(text: str, prefix: str = "m") -> str:
    """A name of ``[A-Za-z0-9_]`` for C, C++, Verilog, Tcl and Make (a project, sketch or target
    name, not a unique key): letters, digits and ``_`` are kept, every other character becomes
    ``_``; a result that is empty, starts with a digit, or is a C/C++/Verilog keyword gets
    ``prefix_`` in front."""
    out = "".join(c if (c.isascii() and c.isalnum()) or c == "_" else "_" for c in text)
    if not out or out[0].isdigit() or out in _C_KEYWORDS or out in _VERILOG_KEYWORDS:
        out = f"{prefix}_{out}"
    return out


def tcl_comment(text: str) -> str:
    """Text safe after ``#`` in Tcl: no newline, backslash (which would continue the comment onto
    the next line) or brace (which unbalances an enclosing body); printable ASCII only."""
    return "".join(_u(c) if c in "\\{}" or not " " <= c <= "~" else c for c in text)


def tcl_word(text: str) -> str:
    """``text`` as one double-quoted Tcl word that substitutes nothing: ``[ ] $ \\ " { } ;``
    backslash-escaped, characters outside printable ASCII as ``\\uXXXX``."""
    body = "".join("\\" + c if c in '[]$\\"{};' else c if " " <= c <= "~" else _u(c) for c in text)
    return f'"{body}"'


def verilog_comment(text: str) -> str:
    """Text safe inside a Verilog ``//`` or ``/* */`` comment (C's rules)."""
    return c_comment(text)


def markdown(text: str) -> str:
    """Inline Markdown text that renders as ``text``: HTML special characters as entities, the
    punctuation that starts inline markup (code, emphasis, links, headings, tables, strikethrough)
    backslash-escaped, control characters as ``\\uXXXX``."""
    text = _html.escape(_no_controls(text), quote=True)
    return re.sub(r"([\\`*_\[\]#|~])", r"\\\1", text)


def html(text: str) -> str:
    """Text for HTML element content or a quoted attribute value."""
    return _html.escape(_no_controls(text), quote=True)


FILTERS = {
    "c_comment": c_comment,
    "c_string": c_string,
    "identifier": identifier,
    "tcl_comment": tcl_comment,
    "tcl_word": tcl_word,
    "verilog_comment": verilog_comment,
    "markdown": markdown,
    "html": html,
}
