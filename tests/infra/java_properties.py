"""java.util.Properties.load, as Kafka's `Utils.loadProps` reads a `--add-config-file`: the
stand-in for kafka-configs parses what the first-boot script writes the way Kafka would, so a
test of that script cannot agree with a format Kafka refuses.

Covered: comment and blank lines, line continuations, key terminators (`=`, `:`, whitespace),
and the escapes (`\\t \\n \\r \\f`, `\\uXXXX`, any other `\\c` is `c`). The file is read as
ISO-8859-1, as `Properties.load(InputStream)` does."""

from __future__ import annotations

WHITESPACE = " \t\f"


def _logical_lines(text: str) -> list[str]:
    lines, current = [], None
    for raw in text.splitlines():
        line = raw.lstrip(WHITESPACE)
        if current is None:
            if not line or line[0] in "#!":
                continue
            current = ""
        trailing = len(line) - len(line.rstrip("\\"))
        if trailing % 2:  # an odd number of backslashes: the line goes on
            current += line[:-1]
            continue
        lines.append(current + line)
        current = None
    if current is not None:
        lines.append(current)
    return lines


def _unescape(text: str) -> str:
    out, i = [], 0
    while i < len(text):
        c = text[i]
        if c != "\\" or i + 1 == len(text):
            out.append(c)
            i += 1
            continue
        c = text[i + 1]
        if c == "u":
            out.append(chr(int(text[i + 2 : i + 6], 16)))
            i += 6
            continue
        out.append({"t": "\t", "n": "\n", "r": "\r", "f": "\f"}.get(c, c))
        i += 2
    # Java strings are UTF-16: a \uD83D\uDE00 pair is one character.
    return "".join(out).encode("utf-16-le", "surrogatepass").decode("utf-16-le")


def load(data: bytes) -> dict[str, str]:
    props = {}
    for line in _logical_lines(data.decode("iso-8859-1")):
        i, escaped = 0, False
        while i < len(line):
            c = line[i]
            if not escaped and c in "=:" + WHITESPACE:
                break
            escaped = c == "\\" and not escaped
            i += 1
        key, rest = line[:i], line[i:].lstrip(WHITESPACE)
        if rest[:1] in ("=", ":"):
            rest = rest[1:].lstrip(WHITESPACE)
        props[_unescape(key)] = _unescape(rest)
    return props
