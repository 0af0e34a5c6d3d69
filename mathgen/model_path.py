"""Telling a local model folder from a model hub name, so a mistyped folder fails at once.

    check_local("./tiny-sft")   # InputError if that folder does not exist
    check_local("Qwen/Qwen2.5-0.5B")   # a hub name: left to the loader

A hub name is ``NAME`` or ``ORG/NAME`` (letters, digits, '-', '_', '.'); a loader given a
missing folder that looks like a path otherwise spends most of a minute asking the hub for it
and then reports an error about the hub, not about the folder.
"""

from __future__ import annotations

import os
import re
from pathlib import Path

from mathgen.errors import InputError

_HUB_NAME = re.compile(r"[\w.-]+(/[\w.-]+)?")


def looks_local(name: str) -> bool:
    """Whether ``name`` can only be a path: it starts with '.', '/' or '~', holds more than
    one '/', a backslash or another character a hub name cannot have."""
    if name.startswith((".", "/", "~")) or (os.altsep and os.altsep in name):
        return True
    return "\\" in name or not _HUB_NAME.fullmatch(name)


def check_local(name: str | None, option: str = "--model") -> None:
    """Refuse a model given as a path whose folder does not exist."""
    if not name or not looks_local(name):
        return
    if not Path(name).expanduser().exists():
        raise InputError("no such model folder", path=name, field=option,
                         hint="give the folder that training saved, or a model hub name "
                              "such as ORG/NAME")
