"""Errors a user can cause. The CLI prints them as one line and exits with code 2."""

from __future__ import annotations


class MathgenError(Exception):
    """Base class for every error the package raises on bad input or bad options."""


class InputError(MathgenError):
    """A problem with an input file: says which file, line and field, and how to fix it."""

    def __init__(self, message: str, *, path=None, line: int | None = None,
                 field: str | None = None, hint: str | None = None):
        self.path, self.line, self.field, self.hint = path, line, field, hint
        self.reason = message
        where = str(path) if path is not None else "<input>"
        if line is not None:
            where += f":{line}"
        text = f"{where}: {message}"
        if field is not None:
            text = f"{where}: field '{field}': {message}"
        if hint:
            text += f" (hint: {hint})"
        super().__init__(text)

    def __reduce__(self):  # survives worker processes unchanged
        return (_rebuild_input_error, (self.reason, str(self.path) if self.path else None,
                                       self.line, self.field, self.hint))


class UnsupportedProblem(MathgenError):
    """A well-formed problem that mathgen cannot turn into a symbolic form.

    Carries a short machine-readable ``reason`` (used in rejection counts) and a detail.
    """

    def __init__(self, reason: str, detail: str = ""):
        self.reason, self.detail = reason, detail
        super().__init__(f"{reason}: {detail}" if detail else reason)

    def __reduce__(self):
        return (type(self), (self.reason, self.detail))


def _rebuild_input_error(message, path, line, field, hint):
    return InputError(message, path=path, line=line, field=field, hint=hint)
