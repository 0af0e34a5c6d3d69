"""The openai backend against a server that misbehaves on purpose, and the report around it.

``FaultServer`` is an OpenAI-compatible server written here (stdlib ``http.server`` in a
thread, on 127.0.0.1) with a scripted tora "model" that is right on every item it is asked:
for "Item K: add A and B, then multiply by C." it writes ``print(A + B)``, then ``print(S * C)``
with the first program's output S, then ``\\boxed{}`` of the second output. For chosen items
and rounds it answers the successive attempts with faults: a truncated JSON body, a body
without ``choices``, empty ``choices``, a choice without text, HTTP 500, HTTP 429 with a
``Retry-After``, a hang, a dropped connection, a reply trickled a byte at a time (headers
and body, or the body only). It logs every request, so a test can say
exactly what the client asked for, and when.
"""

from __future__ import annotations

import json
import os
import re
import signal
import socket
import subprocess
import sys
import threading
import time
from collections import Counter
from http.server import BaseHTTPRequestHandler, ThreadingHTTPServer
from pathlib import Path

import pytest
from click.testing import CliRunner
from hypothesis import given, settings
from hypothesis import strategies as st

from conftest import write_rows
from mathgen.cli import main

pytest.importorskip("openai", reason="the openai backend needs the openai package")

from mathgen.robustness.openai_backend import ItemFailure, reply_text, retry_after  # noqa: E402

HERE = Path(__file__).resolve().parent
_ASK = re.compile(r"Item (\d+): add (\d+) and (\d+), then multiply by (\d+)\.")
_OUTPUT = re.compile(r"```output\n(.*?)\n```", re.DOTALL)


def _reply(prompt: str) -> str:
    """What the scripted model writes next, from the question and the outputs so far."""
    _, a, b, c = _ASK.search(prompt).groups()
    outputs = _OUTPUT.findall(prompt)
    if not outputs:
        return f"```python\nprint({a} + {b})\n```\n"
    if len(outputs) == 1:
        return f"```python\nprint({outputs[0].strip()} * {c})\n```\n"
    return f"So the answer is $\\boxed{{{outputs[1].strip()}}}$."


class FaultServer:
    """``faults`` maps (item, round) to the faults its attempts get, in order; an attempt
    past the list is answered. ``hold_after``: once that many requests were answered, the
    rest hang until the server closes (a test kills its client meanwhile)."""

    def __init__(self, faults=None, *, retry_after: str = "1", hang: float = 4.0,
                 hold_after: int | None = None):
        self.faults = dict(faults or {})
        self.retry_after, self.hang, self.hold_after = retry_after, hang, hold_after
        self.log: list[tuple[float, str, str]] = []  # (time, prompt, what it got)
        self.answered: list[str] = []
        self._tries: Counter = Counter()
        self._lock = threading.Lock()
        self.released = threading.Event()
        server = self

        class Handler(BaseHTTPRequestHandler):
            protocol_version = "HTTP/1.1"  # keep-alive, as real servers: drops hit pooled sockets

            def log_message(self, *args):
                pass

            def do_POST(self):
                body = json.loads(self.rfile.read(int(self.headers["Content-Length"])))
                server.handle(self, body)

        self.httpd = ThreadingHTTPServer(("127.0.0.1", 0), Handler)
        self.httpd.daemon_threads = True
        self.url = f"http://127.0.0.1:{self.httpd.server_address[1]}/v1"
        threading.Thread(target=self.httpd.serve_forever, daemon=True).start()

    def close(self) -> None:
        self.released.set()
        self.httpd.shutdown()
        self.httpd.server_close()

    def asked(self) -> Counter:
        return Counter(prompt for _, prompt, _ in self.log)

    def handle(self, h, body: dict) -> None:
        prompt = body["prompt"]
        item = int(_ASK.search(prompt).group(1))
        with self._lock:
            attempt = self._tries[prompt]
            self._tries[prompt] += 1
            kinds = self.faults.get((item, len(_OUTPUT.findall(prompt))), [])
            fault = kinds[attempt] if attempt < len(kinds) else "ok"
            if fault == "ok" and self.hold_after is not None and \
                    len(self.answered) >= self.hold_after:
                fault = "hold"
            self.log.append((time.monotonic(), prompt, fault))
        if body.get("model") != "scripted":
            return self._send(h, 404, {"error": {"message": "no such model"}})
        full = {"id": "x", "object": "text_completion", "created": 0, "model": "scripted",
                "choices": [{"index": 0, "text": _reply(prompt), "finish_reason": "stop",
                             "logprobs": None}]}
        if fault == "ok":
            with self._lock:
                self.answered.append(prompt)
            return self._send(h, 200, full)
        if fault == "truncated":
            data = json.dumps(full).encode()
            return self._send(h, 200, data[:len(data) // 2])
        if fault == "short":  # promises the whole body, sends half of it and hangs up
            data = json.dumps(full).encode()
            h.send_response(200)
            h.send_header("Content-Length", str(len(data)))
            h.end_headers()
            h.wfile.write(data[:len(data) // 2])
            h.wfile.flush()
            h.close_connection = True
            return h.connection.shutdown(socket.SHUT_RDWR)
        if fault == "bad_encoding":  # says gzip, is not
            return self._send(h, 200, b"\x1f\x8b not gzip at all", {"Content-Encoding": "gzip"})
        if fault == "not_utf8":
            return self._send(h, 200, b'{"choices": [{"text": "\xff\xfe"}]}')
        if fault == "no_choices":
            return self._send(h, 200, {"id": "x", "object": "text_completion"})
        if fault == "error_200":
            return self._send(h, 200, {"error": {"message": "engine overloaded"}})
        if fault == "empty_choices":
            return self._send(h, 200, dict(full, choices=[]))
        if fault == "no_text":
            return self._send(h, 200, dict(full, choices=[{"index": 0, "logprobs": None}]))
        if fault == "500":
            return self._send(h, 500, {"error": {"message": "internal error"}})
        if fault == "429":
            return self._send(h, 429, {"error": {"message": "slow down"}},
                              {"Retry-After": self.retry_after})
        if fault in ("trickle", "trickle_body"):
            return self._trickle(h, json.dumps(full).encode(), fault == "trickle_body")
        if fault == "hang":
            self.released.wait(self.hang)
        elif fault == "hold":
            self.released.wait()
        # "drop", and a hang or hold that ends: close the socket, no response at all
        h.close_connection = True
        try:
            h.connection.shutdown(socket.SHUT_RDWR)
        except OSError:
            pass

    def _trickle(self, h, data: bytes, headers_at_once: bool) -> None:
        """A whole, correct reply, sent one byte every 0.1 s: each read of the client gets
        something long before its timeout, the reply as a whole takes a minute."""
        head = (f"HTTP/1.1 200 OK\r\nContent-Type: application/json\r\n"
                f"Content-Length: {len(data)}\r\n\r\n").encode()
        rest = data if headers_at_once else head + data
        try:
            if headers_at_once:
                h.wfile.write(head)
                h.wfile.flush()
            for k in range(len(rest)):
                if self.released.wait(0.1):
                    break
                h.wfile.write(rest[k:k + 1])
                h.wfile.flush()
        except OSError:
            pass  # the client gave up: what it must do
        h.close_connection = True

    @staticmethod
    def _send(h, status: int, reply, headers=None) -> None:
        data = reply if isinstance(reply, bytes) else json.dumps(reply).encode()
        try:
            h.send_response(status)
            h.send_header("Content-Type", "application/json")
            h.send_header("Content-Length", str(len(data)))
            for k, v in (headers or {}).items():
                h.send_header(k, v)
            h.end_headers()
            h.wfile.write(data)
        except (BrokenPipeError, ConnectionResetError):
            pass  # the client gave up (a timeout, or a killed run)


@pytest.fixture()
def serve():
    started = []

    def start(*args, **kwargs):
        started.append(FaultServer(*args, **kwargs))
        return started[-1]
    yield start
    for s in started:
        s.close()


def _questions(path: Path, n: int) -> Path:
    rows = []
    for k in range(n):
        a, b, c = 3 + k, 10 * k + 4, 2 + k % 5
        rows.append({"question": f"Item {k}: add {a} and {b}, then multiply by {c}.",
                     "answer": f"#### {(a + b) * c}"})
    return write_rows(path, rows)


def _args(data, out, url, *extra):
    return ["robustness-report", "--set", f"s={data}", "--backend", "openai", "--model",
            "scripted", "--base-url", url, "--prompt", "tora", "--out", str(out),
            "--request-timeout", "1", "--retries", "2", "--retry-backoff", "0.01",
            "--retry-max-wait", "1.5", *extra]


def _items(out: Path) -> dict[str, dict]:
    rows = [json.loads(x) for x in (out / "items.jsonl").read_text().splitlines()]
    return {r["id"]: r for r in rows}


ALWAYS = 10  # more faults than attempts: the item fails
FAULTS = {  # (item, round): the faults of its successive attempts
    (0, 0): ["truncated"],
    (1, 0): ["no_choices"] * ALWAYS,
    (2, 1): ["empty_choices"],
    (3, 2): ["no_text"] * ALWAYS,
    (4, 0): ["500", "500"],
    (5, 1): ["500"] * ALWAYS,
    (6, 0): ["429"],
    (7, 0): ["hang"] * ALWAYS,
    (8, 1): ["drop"],
    (9, 0): ["drop"] * ALWAYS,
    (10, 2): ["truncated"] * ALWAYS,
    (11, 0): ["error_200", "hang"],
}
FAILING = {1: "incomplete reply: no choices", 3: "incomplete reply: the first choice has no text",
           5: "HTTP 500", 7: "timeout", 9: "connection dropped", 10: "malformed reply: not JSON"}


def test_a_bad_server_fails_single_items_which_the_report_leaves_out_and_a_rerun_asks(
        serve, tmp_path):
    data, out = _questions(tmp_path / "items.jsonl", 13), tmp_path / "report"
    bad = serve(FAULTS)
    result = CliRunner().invoke(main, _args(data, out, bad.url, "--concurrency", "4"))
    assert result.exit_code == 0, result.output
    assert "Traceback" not in result.output
    items = _items(out)
    failed = {int(i.split(":")[1]) - 1: r for i, r in items.items() if r["output"] is None}
    assert set(failed) == set(FAILING)
    for k, reason in FAILING.items():
        row = failed[k]
        assert row["correct"] is None and row["failed"].startswith(reason), row
        assert row["failed"].endswith("(3 attempts)"), row  # retries 2: three in all
    assert all(r["correct"] for k, r in items.items() if r["output"] is not None)
    m = json.loads((out / "metrics.json").read_text())
    s = m["sets"]["s"]
    assert (s["n"], s["correct"], s["accuracy"], s["failed"]) == (7, 7, 1.0, 6)
    assert s["failed_share"] == pytest.approx(6 / 13)
    assert sum(b["n"] for b in m["by_size"]["s"].values()) == 7
    assert sum(b["failed"] for b in m["by_size"]["s"].values()) == 6
    assert all(b["accuracy"] in (1.0, None) for b in m["by_size"]["s"].values())
    assert sorted(f["id"] for f in m["failed"]) == sorted(f"s:{k + 1}" for k in FAILING)
    assert "s: 100.0% of 7" in result.output and "6 failed (46.2%) left out" in result.output
    assert "items that failed, left out of every accuracy: s/s:2" in result.output
    page = (out / "report.md").read_text()
    assert "6 of 13 items (46.2%) could not be generated" in page
    assert "## Items that failed (left out of every accuracy)" in page
    assert "| s | s:8 | timeout: no whole reply within 1 s (3 attempts) |" in page

    # a 429 waits what Retry-After asks (1 s), not the 0.01 s backoff
    times = [t for t, prompt, _ in bad.log if prompt.startswith("<|user|>\nItem 6:")]
    assert times[1] - times[0] >= 0.95

    good = serve()
    again = CliRunner().invoke(main, _args(data, out, good.url))
    assert again.exit_code == 0, again.output
    asked = good.asked()
    # only the failed items are asked again, each prompt once; what was answered is not
    assert {int(_ASK.search(p).group(1)) for p in asked} == set(FAILING)
    assert max(asked.values()) == 1 and not set(asked) & set(bad.answered)
    # items 5, 3 and 10 failed in a later round: their earlier rounds are not asked again
    assert sum(p.startswith("<|user|>\nItem 5:") for p in asked) == 2
    assert "generated 6 (3 taken up at a stored round), from the cache 7, failed 0" \
        in again.output
    assert "s: 100.0% of 13" in again.output
    assert json.loads((out / "metrics.json").read_text())["failed"] == []
    assert "could not be generated" not in (out / "report.md").read_text()


def test_bodies_cut_short_or_wrongly_encoded_fail_their_items_only(serve, tmp_path):
    data, out = _questions(tmp_path / "four.jsonl", 4), tmp_path / "r"
    srv = serve({(0, 0): ["short"] * ALWAYS, (1, 1): ["bad_encoding"] * ALWAYS,
                 (2, 0): ["not_utf8"]})
    result = CliRunner().invoke(main, _args(data, out, srv.url, "--retries", "1"))
    assert result.exit_code == 0, result.output
    items = _items(out)
    assert items["s:1"]["failed"].startswith("connection dropped: RemoteProtocolError")
    assert items["s:2"]["failed"].startswith("malformed reply: DecodingError")
    # bytes that are not UTF-8 are replaced, never a crash: an answer with no number in it
    assert items["s:3"]["output"] is not None and items["s:3"]["correct"] is False
    assert items["s:4"]["correct"] is True
    assert "s: 50.0% of 2" in result.output and "2 failed (50.0%) left out" in result.output


def test_a_server_that_trickles_its_reply_is_timed_out_per_request(serve, tmp_path):
    # a byte every 0.1 s: no read waits its 1 s, but no request may take more than 1 s
    data, out = _questions(tmp_path / "three.jsonl", 3), tmp_path / "r"
    srv = serve({(0, 0): ["trickle"] * ALWAYS, (1, 0): ["trickle_body", "ok"]})
    started = time.monotonic()
    result = CliRunner().invoke(main, _args(data, out, srv.url, "--retries", "1"))
    took = time.monotonic() - started
    assert result.exit_code == 0, result.output
    items = _items(out)
    assert items["s:1"]["failed"] == "timeout: no whole reply within 1 s (2 attempts)"
    assert items["s:2"]["correct"] is True and items["s:3"]["correct"] is True
    trickled = [t for t, prompt, fault in srv.log if fault.startswith("trickle")]
    assert len(trickled) == 3 and took < 15, (trickled, took)
    assert "s: 100.0% of 2" in result.output and "1 failed (33.3%) left out" in result.output


def test_retry_after_is_capped(serve, tmp_path):
    data, out = _questions(tmp_path / "one.jsonl", 1), tmp_path / "r"
    srv = serve({(0, 0): ["429"]}, retry_after="3600")  # an hour: the client waits its cap
    started = time.monotonic()
    result = CliRunner().invoke(main, _args(data, out, srv.url, "--retry-max-wait", "0.5"))
    assert result.exit_code == 0, result.output
    t0, t1 = [t for t, _, _ in srv.log][:2]
    assert 0.45 <= t1 - t0 < 3 and time.monotonic() - started < 30
    assert "s: 100.0% of 1" in result.output


def test_no_server_or_a_wrong_model_ends_the_run_with_one_line(serve, tmp_path):
    data = _questions(tmp_path / "one.jsonl", 1)
    srv = serve()
    result = CliRunner().invoke(main, _args(data, tmp_path / "a", srv.url, "--model", "nope"))
    assert result.exit_code == 2 and result.output.count("\n") == 1
    assert "HTTP 404" in result.output and "--model" in result.output
    srv.close()
    result = CliRunner().invoke(main, _args(data, tmp_path / "b", srv.url))
    assert result.exit_code == 2 and result.output.count("\n") == 1
    assert "connection refused" in result.output and "is the server running" in result.output


def test_a_killed_tora_run_asks_nothing_again_that_was_answered(serve, tmp_path):
    """Kill the CLI in the middle of the second round; the rerun asks each prompt once."""
    data, out = _questions(tmp_path / "six.jsonl", 6), tmp_path / "report"
    held = serve(hold_after=8)  # six first rounds and two second rounds are answered
    args = _args(data, out, held.url, "--concurrency", "2", "--request-timeout", "600")
    proc = subprocess.Popen([sys.executable, "-m", "mathgen.cli", *args], cwd=HERE,
                            stdout=subprocess.PIPE, stderr=subprocess.PIPE,
                            start_new_session=True)
    deadline = time.time() + 120
    while len(held.log) < 10 and time.time() < deadline and proc.poll() is None:
        time.sleep(0.05)
    time.sleep(1.0)  # requests 9 and 10 hang; the 8 answers before them are stored
    os.killpg(proc.pid, signal.SIGKILL)
    proc.wait()
    assert len(held.answered) == 8, proc.stderr.read().decode()[-2000:]
    first = list(held.answered)
    held.close()

    fresh = serve()
    result = CliRunner().invoke(main, _args(data, out, fresh.url))
    assert result.exit_code == 0, result.output
    asked = first + fresh.answered
    assert len(asked) == len(set(asked)) == 18  # three requests an item, none twice
    assert "generated 6 (6 taken up at a stored round), from the cache 0, failed 0" \
        in result.output
    assert "s: 100.0% of 6" in result.output


# --- what a reply body says ------------------------------------------------------------------

def _choice(**fields):
    return json.dumps({"choices": [dict(index=0, **fields)]})


@pytest.mark.parametrize("body, chat, expected", [
    (_choice(text="print(1)\n"), False, "print(1)\n"),
    (_choice(text=""), False, ""),  # an empty completion is an answer (an empty one)
    (_choice(message={"role": "assistant", "content": "The answer is 3."}), True,
     "The answer is 3."),
    (_choice(text="x")[:-7], False, "malformed reply: not JSON"),
    ("", False, "malformed reply: not JSON"),
    ("[1, 2]", False, "malformed reply: a JSON list"),
    ('{"id": "c1", "object": "text_completion"}', False, "incomplete reply: no choices"),
    ('{"error": {"message": "CUDA out of memory"}}', False,
     "incomplete reply: no choices (the server says: CUDA out of memory)"),
    ('{"choices": []}', False, "incomplete reply: choices empty"),
    ('{"choices": {"text": "1"}}', False, "incomplete reply: choices not a list"),
    (_choice(finish_reason="stop"), False, "incomplete reply: the first choice has no text"),
    (_choice(text=None), False, "incomplete reply: the first choice has no text"),
    (_choice(text="hi"), True, "incomplete reply: the first choice has no message.content"),
    (_choice(message={"role": "assistant", "content": None}), True,
     "incomplete reply: the first choice has no message.content"),
    ('{"choices": ["text"]}', False, "incomplete reply: the first choice has no text"),
])
def test_reply_text_reads_a_body_or_says_what_is_wrong(body, chat, expected):
    if expected.startswith(("malformed", "incomplete")):
        with pytest.raises(ItemFailure) as err:
            reply_text(body, chat)
        assert err.value.reason.startswith(expected) and err.value.retry
    else:
        assert reply_text(body, chat) == expected


@settings(max_examples=300, deadline=None)
@given(st.one_of(st.text(), st.recursive(
    st.none() | st.booleans() | st.integers() | st.text(),
    lambda inner: st.lists(inner) | st.dictionaries(
        st.sampled_from(["choices", "text", "message", "content", "error", "index"]), inner),
    max_leaves=12).map(json.dumps)), st.booleans())
def test_any_body_gives_a_text_or_an_item_failure(body, chat):
    try:
        assert isinstance(reply_text(body, chat), str)
    except ItemFailure as failure:
        assert failure.reason.startswith(("malformed reply", "incomplete reply"))


@pytest.mark.parametrize("headers, seconds", [
    ({}, None),
    ({"retry-after": "2"}, 2.0),
    ({"retry-after": "0.25"}, 0.25),
    ({"retry-after-ms": "1500", "retry-after": "9"}, 1.5),
    ({"retry-after": "-3"}, 0.0),
    ({"retry-after": "soon"}, None),
    ({"retry-after": "nan"}, None),
    ({"retry-after": "Wed, 21 Oct 2015 07:28:00 GMT"}, 0.0),  # a date gone by
])
def test_retry_after_reads_seconds_milliseconds_and_dates(headers, seconds):
    assert retry_after(headers) == seconds
