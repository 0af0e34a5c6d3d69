"""A whole-request deadline for the HTTP client under the ``openai`` backend.

    client = openai.OpenAI(http_client=deadline_client(openai, 600.0), ...)
    with deadline(600.0):            # in the thread that makes the request
        client.completions.create(...)

Why. The HTTP client's timeouts hold for each operation: a connect, one read, one write. A
server that sends one byte a second (of its headers or of its body) answers every read in
time and so is never timed out: a single item could hold its worker thread for ever. Here
the network streams the client reads from cut each operation's timeout to what is left of
the request's deadline, which the thread that sends the request sets; past it, the next
operation fails with the client's own timeout error, which the backend records as that
item's ``timeout``. Streams in threads without a deadline keep the plain timeouts.

The client library's transport keeps its network backend in an attribute of its connection
pool; where a version has none, the deadline cannot be kept, and the first client says so on
stderr (the plain per-operation timeouts still hold).
"""

from __future__ import annotations

import contextlib
import importlib
import sys
import threading
import time

_local = threading.local()
_warned = False


@contextlib.contextmanager
def deadline(seconds: float):
    """Every network operation of this thread must end within ``seconds`` from now."""
    _local.deadline = time.monotonic() + seconds
    try:
        yield
    finally:
        _local.deadline = None


def _left(timeout: float | None, error: type[Exception]) -> float | None:
    """``timeout`` cut to what is left of this thread's deadline; ``error`` once it passed."""
    end = getattr(_local, "deadline", None)
    if end is None:
        return timeout
    left = end - time.monotonic()
    if left <= 0:
        raise error("the request's deadline passed")
    return left if timeout is None else min(timeout, left)


class _Stream:
    """A network stream whose reads and writes keep to the deadline of the calling thread."""

    def __init__(self, stream, errors):
        self._stream, self._errors = stream, errors

    def read(self, max_bytes: int, timeout: float | None = None) -> bytes:
        return self._stream.read(max_bytes, _left(timeout, self._errors.ReadTimeout))

    def write(self, buffer: bytes, timeout: float | None = None) -> None:
        self._stream.write(buffer, _left(timeout, self._errors.WriteTimeout))

    def close(self) -> None:
        self._stream.close()

    def start_tls(self, ssl_context, server_hostname=None, timeout=None):
        timeout = _left(timeout, self._errors.ConnectTimeout)
        return _Stream(self._stream.start_tls(ssl_context, server_hostname, timeout),
                       self._errors)

    def get_extra_info(self, info: str):
        return self._stream.get_extra_info(info)


class _Backend:
    """A network backend whose streams are ``_Stream``s."""

    def __init__(self, backend, errors):
        self._backend, self._errors = backend, errors

    def connect_tcp(self, host, port, timeout=None, local_address=None, socket_options=None):
        timeout = _left(timeout, self._errors.ConnectTimeout)
        return _Stream(self._backend.connect_tcp(host, port, timeout, local_address,
                                                 socket_options), self._errors)

    def connect_unix_socket(self, path, timeout=None, socket_options=None):
        timeout = _left(timeout, self._errors.ConnectTimeout)
        return _Stream(self._backend.connect_unix_socket(path, timeout, socket_options),
                       self._errors)

    def sleep(self, seconds: float) -> None:
        self._backend.sleep(seconds)


def deadline_client(openai, timeout: float):
    """The openai package's default HTTP client, with network streams that keep to the
    deadline of the thread that uses them (see ``deadline``)."""
    global _warned
    client_class = next(c for c in openai.DefaultHttpxClient.__mro__ if c.__name__ == "Client")
    httpx = importlib.import_module(client_class.__module__.split(".")[0])
    # the connection limits the openai package sets for its own client
    transport = httpx.HTTPTransport(limits=httpx.Limits(max_connections=1000,
                                                        max_keepalive_connections=100))
    pool = getattr(transport, "_pool", None)
    if pool is not None and hasattr(pool, "_network_backend"):
        errors = sys.modules[type(pool).__module__.split(".")[0]]  # the httpcore package
        pool._network_backend = _Backend(pool._network_backend, errors)
    elif not _warned:
        _warned = True
        print("mathgen: this HTTP client keeps no network backend where mathgen looks for "
              "it: each read has its timeout, but a request as a whole has no deadline",
              file=sys.stderr)
    return openai.DefaultHttpxClient(transport=transport, timeout=timeout)
