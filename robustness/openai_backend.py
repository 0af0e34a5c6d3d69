"""The ``openai`` backend: any OpenAI-compatible server, read as if it could misbehave.

    backend = OpenAIBackend("llama-3-8b", Sampling(), base_url="http://localhost:8000/v1")
    for index, text, error in backend.generate(prompts, stop=["```output"]):
        ...     # text is None and error says why when an item could not be answered

Texts go to ``/completions``, chat messages to ``/chat/completions``, ``concurrency`` at a
time. A server under load or in trouble fails single requests in many ways; each is a failure
of that item, retried up to ``retries`` times and then yielded with its reason, never the end
of the run:

=====================  =====================================================================
timeout                no whole reply within ``request_timeout`` seconds, counted from the
                       request's start (a hung request, or a server that trickles its bytes)
connection dropped     the server closed or reset the connection mid-request
HTTP 429, 5xx, 408     the server is busy or broken; a ``Retry-After`` (or ``-ms``) header is
                       honoured up to ``retry_max_wait`` seconds
malformed reply        an HTTP 200 whose body is not a whole JSON object (truncated), or
                       cannot be decoded (a wrong ``Content-Encoding``)
incomplete reply       a body without ``choices``, with none, or whose first choice has no
                       ``text`` (completions) or ``message.content`` (chat)
HTTP 400, 413, 422     the server refuses this prompt (too long, say): not retried
=====================  =====================================================================

Other waits grow from ``retry_backoff`` seconds, doubling, up to ``retry_max_wait``, with
jitter so that many requests do not come back at the same moment. What cannot be an item's
fault ends the run with one line: a wrong key (401, 403), an unknown model or path (404), a
server that refuses connections after every retry (it is not running there).
"""

from __future__ import annotations

import email.utils
import json
import os
import random
import threading
import time
from concurrent.futures import ThreadPoolExecutor, as_completed

from mathgen.errors import MathgenError
from mathgen.robustness.backends import Sampling, _cut, _prompt_seed, require
from mathgen.robustness.deadline import deadline, deadline_client

RETRIED_STATUS = {408, 409, 429}  # and every 5xx
FATAL_STATUS = {401: "the API key is refused", 403: "the API key may not use this model",
                404: "no such model or path"}


class ItemFailure(Exception):
    """One request that did not give a text: why, and whether asking again may help."""

    def __init__(self, reason: str, *, retry: bool = True, wait: float | None = None,
                 refused: bool = False):
        super().__init__(reason)
        self.reason, self.retry, self.wait, self.refused = reason, retry, wait, refused


def retry_after(headers) -> float | None:
    """Seconds a ``Retry-After`` (seconds or an HTTP date) or ``Retry-After-Ms`` header asks
    the client to wait; None when there is none or it cannot be read."""
    value = headers.get("retry-after-ms")
    if value is not None:
        try:
            seconds = float(value) / 1000
        except ValueError:
            seconds = None
        if seconds is not None and seconds >= 0 and seconds == seconds:
            return seconds
    value = headers.get("retry-after")
    if value is None:
        return None
    try:
        seconds = float(value)
    except ValueError:
        try:
            when = email.utils.parsedate_to_datetime(value)
        except (TypeError, ValueError):
            return None
        seconds = when.timestamp() - time.time()
    return max(0.0, seconds) if seconds == seconds else None  # NaN reads as no header


def reply_text(body: str, chat: bool) -> str:
    """The generated text of an HTTP 200 body, or an ``ItemFailure`` saying what is wrong."""
    try:
        reply = json.loads(body)
    except ValueError as err:
        raise ItemFailure(f"malformed reply: not JSON ({err.msg} at character {err.pos} of "
                          f"{len(body)})") from None
    if not isinstance(reply, dict):
        raise ItemFailure(f"malformed reply: a JSON {type(reply).__name__}, not an object")
    choices = reply.get("choices")
    if not isinstance(choices, list) or not choices:
        said = reply.get("error")
        said = said.get("message", said) if isinstance(said, dict) else said
        what = "no choices" if choices is None else \
            "choices empty" if choices == [] else "choices not a list"
        raise ItemFailure(f"incomplete reply: {what}" +
                          (f" (the server says: {str(said)[:160]})" if said else ""))
    first = choices[0]
    if chat:
        message = first.get("message") if isinstance(first, dict) else None
        text = message.get("content") if isinstance(message, dict) else None
        field = "message.content"
    else:
        text = first.get("text") if isinstance(first, dict) else None
        field = "text"
    if not isinstance(text, str):
        raise ItemFailure(f"incomplete reply: the first choice has no {field}")
    return text


class OpenAIBackend:
    """An OpenAI-compatible server: completions for texts, chat completions for messages."""

    OPTIONS = ("base_url", "api_key_env", "concurrency", "request_timeout", "retries",
               "retry_backoff", "retry_max_wait")

    def __init__(self, model: str, sampling: Sampling, base_url: str | None = None,
                 api_key_env: str = "OPENAI_API_KEY", concurrency: int = 16,
                 request_timeout: float = 600.0, retries: int = 5, retry_backoff: float = 0.5,
                 retry_max_wait: float = 60.0):
        openai = require("openai", "openai")
        self.sampling, self.concurrency, self.model = sampling, concurrency, model
        self.retries, self.backoff, self.max_wait = retries, retry_backoff, retry_max_wait
        self.timeout = request_timeout
        self.chunk = 8 * concurrency
        self.base_url = base_url or os.environ.get("OPENAI_BASE_URL",
                                                   "https://api.openai.com/v1")
        # the served model's name is its identity: a server restarted elsewhere (another
        # port, another host) still finds its cached generations
        self.name = f"openai:{model}"
        self.settings = sampling.as_dict()
        # the client's own retries are off: they do not cover a bad HTTP 200 body, and one
        # loop here counts every attempt of an item whatever went wrong
        # its own timeouts hold per read; ``deadline`` makes one for the whole request
        self.client = openai.OpenAI(base_url=self.base_url, timeout=request_timeout,
                                    max_retries=0,
                                    api_key=os.environ.get(api_key_env) or "EMPTY",
                                    http_client=deadline_client(openai, request_timeout))
        self._openai = openai
        self._jitter = random.Random(sampling.seed)  # waits only; no output depends on it
        self._jitter_lock = threading.Lock()

    def _attempt(self, prompt, stop, key: str) -> str:
        """One request; its text, or ``ItemFailure``; ``MathgenError`` when no item can
        succeed (a wrong key or model)."""
        openai, s = self._openai, self.sampling
        common = dict(model=self.model, max_tokens=s.max_tokens, temperature=s.temperature,
                      top_p=s.top_p, seed=_prompt_seed(s.seed, prompt, key))
        if stop:
            common["stop"] = list(stop)
        chat = not isinstance(prompt, str)
        try:
            with deadline(self.timeout):
                body = self._request(prompt, chat, common)
        except openai.APITimeoutError:
            raise ItemFailure(f"timeout: no whole reply within {self.timeout:g} s") from None
        except openai.APIConnectionError as err:
            cause = err.__cause__ or err.__context__
            name = type(cause).__name__ if cause is not None else type(err).__name__
            detail = f"{name}: {str(cause or err)[:160]}"
            if name == "DecodingError":  # the body arrived but cannot be unpacked
                raise ItemFailure(f"malformed reply: {detail}") from None
            # refused: nothing listens there; anything else broke one request's connection
            refused = name == "ConnectError"
            raise ItemFailure(f"connection {'refused' if refused else 'dropped'}: {detail}",
                              refused=refused) from None
        except openai.APIStatusError as err:
            status = err.status_code
            if status in FATAL_STATUS:
                raise MathgenError(
                    f"{self.base_url}: HTTP {status} ({type(err).__name__}, "
                    f"{FATAL_STATUS[status]}): {str(err)[:200]} (hint: do --base-url, --model "
                    "and the API key match the server?)") from None
            retried = status in RETRIED_STATUS or status >= 500
            raise ItemFailure(f"HTTP {status}: {str(err)[:160]}", retry=retried,
                              wait=retry_after(err.response.headers) if retried else None
                              ) from None
        except openai.APIResponseValidationError as err:
            raise ItemFailure(f"malformed reply: {str(err)[:160]}") from None
        except (UnicodeDecodeError, ValueError) as err:  # a body the client cannot decode
            raise ItemFailure(f"malformed reply: {type(err).__name__}: {str(err)[:160]}") \
                from None
        return reply_text(body, chat)

    def _request(self, prompt, chat: bool, common: dict) -> str:
        """The body of one request's reply."""
        if chat:
            raw = self.client.chat.completions.with_raw_response.create(messages=prompt,
                                                                        **common)
        else:
            raw = self.client.completions.with_raw_response.create(prompt=prompt, **common)
        return raw.text

    def _wait(self, failure: ItemFailure, attempt: int) -> float:
        if failure.wait is not None:
            return min(failure.wait, self.max_wait)
        with self._jitter_lock:
            share = 0.5 + 0.5 * self._jitter.random()
        return min(self.max_wait, self.backoff * 2 ** attempt) * share

    def _one(self, prompt, stop, key: str = "") -> str:
        """The text for one prompt, after at most ``retries`` more attempts."""
        for attempt in range(self.retries + 1):
            try:
                return self._attempt(prompt, stop, key)
            except ItemFailure as failure:
                last = failure
                if not failure.retry or attempt == self.retries:
                    break
                time.sleep(self._wait(failure, attempt))
        tries = attempt + 1
        if last.refused:
            raise MathgenError(f"{self.base_url}: {last.reason} (after {tries} attempt"
                               f"{'s' * (tries > 1)}; hint: is the server running there?)")
        raise ItemFailure(f"{last.reason} ({tries} attempt{'s' * (tries > 1)})")

    def generate(self, prompts, stop, keys=None):
        keys = keys or [""] * len(prompts)
        with ThreadPoolExecutor(self.concurrency) as pool:
            futures = {pool.submit(self._one, p, stop, keys[i]): i
                       for i, p in enumerate(prompts)}
            try:
                for future in as_completed(futures):
                    i = futures[future]
                    try:
                        yield i, _cut(future.result(), stop), None
                    except ItemFailure as failure:
                        yield i, None, failure.reason
            finally:
                for future in futures:
                    future.cancel()

    def close(self) -> None:
        self.client.close()
