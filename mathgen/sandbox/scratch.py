"""Removing what a program left in its scratch folder, whatever shape it has.

``shutil.rmtree`` and, before Python 3.12/3.13, ``os.walk`` and ``os.fwalk`` recurse once per
folder level: a program that makes 1,100 nested folders made the server's clean-up raise
RecursionError and the server die. This removal keeps its own stack of names (no recursion,
one open descriptor at a time however deep the tree), works relative to descriptors (a
symlink is removed, never followed), and gives write access back to folders a program
locked (chmod 0), which matters where the server is not root. It is called only after the
program and its whole process group have been reaped, so the tree no longer changes.
"""

from __future__ import annotations

import os
import stat

_DIRECTORY = os.O_RDONLY | os.O_DIRECTORY | os.O_NOFOLLOW | os.O_CLOEXEC


def remove_tree(path: str) -> None:
    """Remove ``path`` and everything under it; a missing path is no error. Raises OSError
    only for what even the owner cannot remove (a mount point, a read-only file system)."""
    try:
        fd = os.open(path, _DIRECTORY)
    except FileNotFoundError:
        return
    except NotADirectoryError:
        os.unlink(path)
        return
    except PermissionError:  # locked by its owner: we own it, so unlock and retry
        os.chmod(path, 0o700)
        fd = os.open(path, _DIRECTORY)
    # each frame: the subfolders of one open folder still to remove; the folder's own name
    # in its parent is the last name popped from the frame below it
    stack: list[list[str]] = [_empty(fd)]
    names: list[str] = []
    try:
        while True:
            if stack[-1]:
                name = stack[-1].pop()
                try:
                    inner = os.open(name, _DIRECTORY, dir_fd=fd)
                except PermissionError:
                    os.chmod(name, 0o700, dir_fd=fd)
                    inner = os.open(name, _DIRECTORY, dir_fd=fd)
                os.close(fd)
                fd = inner
                names.append(name)
                stack.append(_empty(fd))
                continue
            stack.pop()
            if not names:
                break
            parent = os.open("..", _DIRECTORY, dir_fd=fd)
            os.close(fd)
            fd = parent
            os.rmdir(names.pop(), dir_fd=fd)
    finally:
        os.close(fd)
    os.rmdir(path)


def _empty(fd: int) -> list[str]:
    """Unlink every entry of the folder open as ``fd`` but its subfolders; returns those."""
    if not os.stat(fd).st_mode & stat.S_IWUSR:  # locked: unlinking inside it needs write
        os.chmod(fd, 0o700)
    folders = []
    with os.scandir(fd) as entries:
        for entry in entries:
            if entry.is_dir(follow_symlinks=False):
                folders.append(entry.name)
            else:
                os.unlink(entry.name, dir_fd=fd)
    return folders
