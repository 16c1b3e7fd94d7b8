#!/usr/bin/env python3
"""The sizes issue #23 bounds, at rustfmt's default width (the repository's formatting): every
source file under crates/*/src over 600 lines, every function over 80 lines (test modules
included, counted from the `fn` line to its closing brace), and the lines of crates/cli/src.

Prints the offenders, largest first; exits 1 when there is any (`--report` always exits 0).
Braces are matched on the code with strings, chars and comments blanked, which is exact for
rustfmt-formatted code."""

import pathlib
import re
import sys

ROOT = pathlib.Path(__file__).resolve().parents[1]
FILE_MAX, FN_MAX, CLI_MAX = 600, 80, 600


def blank(code: str) -> str:
    """The code with comments, strings and char literals replaced by spaces (lines kept)."""
    out, i, n = [], 0, len(code)
    while i < n:
        c = code[i]
        if code.startswith("//", i):
            j = code.find("\n", i)
            j = n if j < 0 else j
            out.append(" " * (j - i))
            i = j
        elif code.startswith("/*", i):
            j = code.find("*/", i + 2)
            j = n if j < 0 else j + 2
            out.append(re.sub(r"[^\n]", " ", code[i:j]))
            i = j
        elif c == "r" and re.match(r'r#*"', code[i:]) and (i == 0 or not (code[i - 1].isalnum() or code[i - 1] == "_")):
            hashes = re.match(r'r(#*)"', code[i:]).group(1)
            end = code.find('"' + hashes, i + 2 + len(hashes))
            j = n if end < 0 else end + 1 + len(hashes)
            out.append(re.sub(r"[^\n]", " ", code[i:j]))
            i = j
        elif c == '"':
            j = i + 1
            while j < n and code[j] != '"':
                j += 2 if code[j] == "\\" else 1
            out.append(re.sub(r"[^\n]", " ", code[i : j + 1]))
            i = j + 1
        elif c == "'" and re.match(r"'(\\.|[^\\'])'|'\\u\{[0-9a-fA-F]+\}'", code[i:]):
            m = re.match(r"'(\\.|[^\\'])'|'\\u\{[0-9a-fA-F]+\}'", code[i:])
            out.append(" " * len(m.group(0)))
            i += len(m.group(0))
        else:
            out.append(c)
            i += 1
    return "".join(out)


def functions(path: pathlib.Path):
    """(name, first line, lines) of every function with a body."""
    code = blank(path.read_text())
    lines = code.split("\n")
    for m in re.finditer(r"\bfn\s+([A-Za-z_][A-Za-z0-9_]*)", code):
        start = code.count("\n", 0, m.start())
        # the body: the first `{` after the signature at depth 0 of parentheses, unless a `;` ends it
        i, depth = m.end(), 0
        while i < len(code):
            ch = code[i]
            if ch in "([<":
                depth += 1 if ch != "<" else 0
            elif ch in ")]":
                depth -= 1
            elif ch == ";" and depth == 0:
                i = -1
                break
            elif ch == "{" and depth == 0:
                break
            i += 1
        if i < 0 or i >= len(code):
            continue
        level, j = 0, i
        while j < len(code):
            if code[j] == "{":
                level += 1
            elif code[j] == "}":
                level -= 1
                if level == 0:
                    break
            j += 1
        end = code.count("\n", 0, j)
        yield m.group(1), start + 1, end - start + 1
    del lines


def main() -> int:
    files = sorted(ROOT.glob("crates/*/src/**/*.rs"))
    big = sorted(((len(p.read_text().splitlines()), p) for p in files if len(p.read_text().splitlines()) > FILE_MAX), reverse=True)
    long = sorted(((n, p, name, line) for p in files for name, line, n in functions(p) if n > FN_MAX), reverse=True)
    cli = sum(len(p.read_text().splitlines()) for p in ROOT.glob("crates/cli/src/**/*.rs"))
    print(f"files in crates/*/src over {FILE_MAX} lines: {len(big)}")
    for n, p in big:
        print(f"  {n:5d}  {p.relative_to(ROOT)}")
    print(f"functions over {FN_MAX} lines: {len(long)}")
    for n, p, name, line in long:
        print(f"  {n:5d}  {p.relative_to(ROOT)}:{line} {name}")
    print(f"crates/cli/src: {cli} lines (at most {CLI_MAX})")
    bad = bool(big or long or cli > CLI_MAX)
    return 0 if "--report" in sys.argv or not bad else 1


if __name__ == "__main__":
    sys.exit(main())
