"""A small OpenAI-compatible server for the tests: a real (tiny) model behind real HTTP.

    server = ModelServer(model_dir)          # serves /v1/completions and /v1/chat/completions
    server.url                               # http://127.0.0.1:PORT/v1
    server.answered                          # prompts answered, in order

``fail_first`` answers each prompt's first request with 503 (the client must retry),
``delay`` sleeps before answering, and ``hold_after`` stops answering (the requests hang)
once that many prompts have been answered, so a test can kill its client mid-run.
"""

from __future__ import annotations

import json
import threading
import time
from http.server import BaseHTTPRequestHandler, ThreadingHTTPServer


class ModelServer:
    def __init__(self, model_dir, *, model_name: str = "tiny", fail_first: bool = False,
                 delay: float = 0.0, hold_after: int | None = None):
        import torch
        from transformers import AutoModelForCausalLM, AutoTokenizer

        self.torch = torch
        self.tokenizer = AutoTokenizer.from_pretrained(model_dir)
        self.model = AutoModelForCausalLM.from_pretrained(model_dir).eval()
        self.model_name, self.fail_first, self.delay = model_name, fail_first, delay
        self.hold_after = hold_after
        self.answered: list[str] = []
        self.requests = 0
        self._seen: set[str] = set()
        self._lock = threading.Lock()
        self.released = threading.Event()
        server = self

        class Handler(BaseHTTPRequestHandler):
            def log_message(self, *args):
                pass

            def do_POST(self):
                body = json.loads(self.rfile.read(int(self.headers["Content-Length"])))
                status, reply = server.answer(self.path, body)
                data = json.dumps(reply).encode()
                self.send_response(status)
                self.send_header("Content-Type", "application/json")
                self.send_header("Content-Length", str(len(data)))
                self.end_headers()
                try:
                    self.wfile.write(data)
                except (BrokenPipeError, ConnectionResetError):
                    pass  # the client gave up (a timeout, or a killed run)

        self.httpd = ThreadingHTTPServer(("127.0.0.1", 0), Handler)
        self.httpd.daemon_threads = True
        self.url = f"http://127.0.0.1:{self.httpd.server_address[1]}/v1"
        self.thread = threading.Thread(target=self.httpd.serve_forever, daemon=True)
        self.thread.start()

    def close(self) -> None:
        self.released.set()
        self.httpd.shutdown()
        self.httpd.server_close()

    def _generate(self, text: str, max_tokens: int, stop) -> str:
        ids = self.tokenizer(text, return_tensors="pt", add_special_tokens=False)
        with self._lock, self.torch.inference_mode():
            out = self.model.generate(**ids, max_new_tokens=max_tokens, do_sample=False,
                                      pad_token_id=self.tokenizer.pad_token_id)
        reply = self.tokenizer.decode(out[0, ids["input_ids"].shape[1]:],
                                      skip_special_tokens=True)
        cuts = [reply.find(s) for s in stop or [] if s in reply]
        return reply[:min(cuts)] if cuts else reply

    def answer(self, path: str, body: dict) -> tuple[int, dict]:
        self.requests += 1
        if body.get("model") != self.model_name:
            return 404, {"error": {"message": f"model {body.get('model')!r} not found",
                                   "type": "NotFoundError", "code": 404}}
        chat = path.endswith("/chat/completions")
        text = (self.tokenizer.apply_chat_template(body["messages"], tokenize=False,
                                                   add_generation_prompt=True)
                if chat else body["prompt"])
        with self._lock:
            first = text not in self._seen
            self._seen.add(text)
            hold = self.hold_after is not None and len(self.answered) >= self.hold_after
        if self.fail_first and first:
            return 503, {"error": {"message": "busy, try again", "type": "overloaded"}}
        if hold:
            self.released.wait()
            return 503, {"error": {"message": "shutting down", "type": "overloaded"}}
        time.sleep(self.delay)
        reply = self._generate(text, int(body.get("max_tokens") or 64), body.get("stop"))
        with self._lock:
            self.answered.append(text)
        usage = {"prompt_tokens": 0, "completion_tokens": 0, "total_tokens": 0}
        if chat:
            return 200, {"id": "x", "object": "chat.completion", "created": 0,
                         "model": self.model_name, "usage": usage,
                         "choices": [{"index": 0, "finish_reason": "stop",
                                      "message": {"role": "assistant", "content": reply}}]}
        return 200, {"id": "x", "object": "text_completion", "created": 0,
                     "model": self.model_name, "usage": usage,
                     "choices": [{"index": 0, "text": reply, "finish_reason": "stop",
                                  "logprobs": None}]}
