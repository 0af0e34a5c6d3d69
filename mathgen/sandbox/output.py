"""A program's output as the caller sees it: the tail of what it wrote, decoded, with what
could pass for something else escaped (terminal control sequences, the sandbox's notes)."""

from __future__ import annotations

import os
import re

from mathgen.sandbox import TAIL

# C0 controls but tab and newline, DEL and C1 controls: NUL, and ESC, which starts the
# terminal sequences that could rewrite what a reader sees (colours, cursor moves, titles);
# and the line and paragraph separators, where str.splitlines() starts a new line
_CONTROL = re.compile("[\x00-\x08\x0b-\x1f\x7f-\x9f\u2028\u2029]")
_NOTE = re.compile("^mathgen\\.sandbox:", re.M)


def clean(text: str) -> str:
    """Program output made safe to show: control characters as escapes (``\\x1b``), and a
    line of its own that begins like the sandbox's notes with the colon escaped, so that
    only the server's notes read ``mathgen.sandbox:``."""
    if _CONTROL.search(text):
        text = _CONTROL.sub(_escape, text)
    return _NOTE.sub("mathgen.sandbox\\\\x3a", text) if "mathgen.sandbox:" in text else text


def _escape(match: re.Match) -> str:
    code = ord(match[0])
    return f"\\x{code:02x}" if code < 0x100 else f"\\u{code:04x}"


def tail(path: str) -> str:
    """The last ``TAIL`` bytes of a program's output file, decoded and ``clean``ed."""
    try:
        fd = os.open(path, os.O_RDONLY)
    except FileNotFoundError:
        return ""
    try:
        size = os.fstat(fd).st_size
        return clean(os.pread(fd, TAIL, max(0, size - TAIL)).decode("utf-8", "replace"))
    finally:
        os.close(fd)
