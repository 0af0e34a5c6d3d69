"""Model backends: a registry of names, each importing its heavy library only when chosen.

    backend = load_backend("hf", "path/to/model", Sampling(temperature=0), batch_size=8)
    for index, text, error in backend.generate(["<|user|>\\n...\\n<|assistant|>\\n"], stop=[...]):
        ...

========  ===================================================================================
vllm      offline batched generation with vLLM (``tensor_parallel_size``, ``dtype``,
          ``gpu_memory_utilization``, ``max_model_len``, ``enforce_eager``)
hf        transformers ``generate``, batched and left-padded, on CUDA when there is one
          (``batch_size``, ``device``, ``dtype``)
openai    any OpenAI-compatible server (``vllm serve``, a hosted API): ``concurrency``
          requests in flight; a request that fails (a timeout, a dropped connection, a
          5xx or 429, a truncated or incomplete reply) is retried with backoff, then fails
          that item alone (``robustness.openai_backend``)
========  ===================================================================================

``generate`` takes prompts (texts, or chat messages that the model's chat template or the
server's chat endpoint turns into its input) and yields ``(index, text, error)`` as each
finishes, the text cut before the first stop string. ``keys`` (one string per prompt, such as
the item id) go into each prompt's sampling seed, so n samples of one prompt differ. Reading
a file of outputs instead of generating is ``robustness.predictions``.
"""

from __future__ import annotations

import hashlib
import importlib
from dataclasses import asdict, dataclass
from pathlib import Path
from typing import Iterator

from mathgen.errors import MathgenError

BACKENDS = {
    "vllm": "mathgen.robustness.backends:VLLMBackend",
    "hf": "mathgen.robustness.backends:HFBackend",
    "openai": "mathgen.robustness.openai_backend:OpenAIBackend",
}


DTYPES = ("float32", "bfloat16", "float16")


@dataclass(frozen=True)
class Sampling:
    temperature: float = 0.0
    top_p: float = 1.0
    max_tokens: int = 1024
    seed: int = 0

    def as_dict(self) -> dict:
        """What keys a cached generation: greedy decoding ignores the seed."""
        out = asdict(self)
        if self.temperature == 0:
            del out["seed"], out["top_p"]
        return out


def load_backend(name: str, model: str, sampling: Sampling, **options):
    """The backend ``name`` with its options; a clear error for unknown names or options."""
    if name not in BACKENDS:
        raise MathgenError(f"unknown backend {name!r} (choose one of: "
                           f"{', '.join(list(BACKENDS) + ['predictions'])})")
    module, cls = BACKENDS[name].split(":")
    backend_class = getattr(importlib.import_module(module), cls)
    unknown = sorted(set(options) - set(backend_class.OPTIONS))
    if unknown:
        flag = lambda o: "--" + o.replace("_", "-")  # noqa: E731
        raise MathgenError(f"{', '.join(map(flag, unknown))} does not apply to the {name} "
                           f"backend (its options: {', '.join(map(flag, backend_class.OPTIONS))})")
    return backend_class(model, sampling, **options)


def require(module: str, extra: str):
    try:
        return importlib.import_module(module)
    except ImportError as err:
        raise MathgenError(f"this backend needs {module} ({err}); install it with "
                           f"pip install 'mathgen[{extra}]'") from None


def _cut(text: str, stop) -> str:
    """The text before the first stop string (backends may return it, or what follows)."""
    ends = [text.find(s) for s in stop if s and s in text]
    return text[:min(ends)] if ends else text


def _model_id(model: str) -> str:
    path = Path(model)
    return str(path.resolve()) if path.exists() else model


def _prompt_seed(seed: int, prompt, key: str = "") -> int:
    """A sampling seed per prompt and key (vllm, openai: sampled outputs then do not depend
    on batching; hf seeds each batch from its first prompt, which is as close as it allows)."""
    digest = hashlib.sha256(f"{seed}\0{key}\0{prompt}".encode()).digest()
    return int.from_bytes(digest[:4], "big")


class HFBackend:
    """transformers ``generate``: batches of prompts of similar length, left-padded."""

    OPTIONS = ("batch_size", "device", "dtype")

    def __init__(self, model: str, sampling: Sampling, batch_size: int = 8,
                 device: str | None = None, dtype: str = "auto"):
        torch = require("torch", "train")
        transformers = require("transformers", "train")
        self.sampling, self.batch_size, self.chunk = sampling, batch_size, 8 * batch_size
        self.name = f"hf:{_model_id(model)}"
        self.device = device or ("cuda" if torch.cuda.is_available() else "cpu")
        if dtype == "auto":
            dtype = "bfloat16" if self.device.startswith("cuda") and \
                torch.cuda.is_bf16_supported() else "float32"
        if dtype not in DTYPES:
            raise MathgenError(f"--dtype {dtype!r}: choose one of auto, {', '.join(DTYPES)}")
        try:
            self.tokenizer = transformers.AutoTokenizer.from_pretrained(model)
            self.model = transformers.AutoModelForCausalLM.from_pretrained(
                model, dtype=getattr(torch, dtype)).to(self.device).eval()
        except (OSError, ValueError, RuntimeError, AssertionError) as err:
            raise MathgenError(f"cannot load the model {model!r} on {self.device}: "
                               f"{err}".split("\n")[0]) from None
        self.settings = {**sampling.as_dict(), "dtype": dtype}
        self.tokenizer.padding_side = "left"
        if self.tokenizer.pad_token is None:
            self.tokenizer.pad_token = self.tokenizer.eos_token
        self._torch = torch

    def _text(self, prompt) -> tuple[str, bool]:
        if isinstance(prompt, str):
            return prompt, True
        if not getattr(self.tokenizer, "chat_template", None):
            raise MathgenError(f"{self.name} has no chat template; drop --chat-template")
        return self.tokenizer.apply_chat_template(prompt, tokenize=False,
                                                  add_generation_prompt=True), False

    def generate(self, prompts, stop, keys=None) -> Iterator[tuple[int, str | None, str | None]]:
        texts = [self._text(p) for p in prompts]
        keys = keys or [""] * len(prompts)
        order = sorted(range(len(texts)), key=lambda i: -len(texts[i][0]))
        s = self.sampling
        options = dict(max_new_tokens=s.max_tokens, do_sample=s.temperature > 0,
                       pad_token_id=self.tokenizer.pad_token_id)
        if s.temperature > 0:
            options.update(temperature=s.temperature, top_p=s.top_p)
        if stop:
            options.update(stop_strings=list(stop), tokenizer=self.tokenizer)
        for start in range(0, len(order), self.batch_size):
            batch = order[start:start + self.batch_size]
            special = texts[batch[0]][1]
            encoded = self.tokenizer([texts[i][0] for i in batch], return_tensors="pt",
                                     padding=True, add_special_tokens=special).to(self.device)
            self._torch.manual_seed(_prompt_seed(s.seed, texts[batch[0]][0], keys[batch[0]]))
            with self._torch.inference_mode():
                out = self.model.generate(**encoded, **options)
            new = out[:, encoded["input_ids"].shape[1]:]
            for i, row in zip(batch, self.tokenizer.batch_decode(new, skip_special_tokens=True)):
                yield i, _cut(row, stop), None

    def close(self) -> None:
        self.model = None


class VLLMBackend:
    """vLLM's offline engine: the whole list at once, continuous batching inside."""

    OPTIONS = ("tensor_parallel_size", "dtype", "gpu_memory_utilization", "max_model_len",
               "enforce_eager")
    chunk = 4096  # vLLM schedules a long list best; the cache still fills as chunks end

    def __init__(self, model: str, sampling: Sampling, tensor_parallel_size: int = 1,
                 dtype: str = "auto", gpu_memory_utilization: float = 0.9,
                 max_model_len: int | None = None, enforce_eager: bool = False):
        vllm = require("vllm", "vllm")
        self.sampling, self.name = sampling, f"vllm:{_model_id(model)}"
        self.settings = {**sampling.as_dict(), "dtype": dtype, "max_model_len": max_model_len}
        self._params = vllm.SamplingParams
        self.llm = vllm.LLM(model=model, tensor_parallel_size=tensor_parallel_size, dtype=dtype,
                            gpu_memory_utilization=gpu_memory_utilization,
                            max_model_len=max_model_len, enforce_eager=enforce_eager,
                            seed=sampling.seed)

    def generate(self, prompts, stop, keys=None):
        s = self.sampling
        keys = keys or [""] * len(prompts)
        params = [self._params(n=1, temperature=s.temperature, top_p=s.top_p,
                               max_tokens=s.max_tokens, stop=list(stop) or None,
                               seed=_prompt_seed(s.seed, p, key)) for p, key in zip(prompts, keys)]
        if prompts and not isinstance(prompts[0], str):
            # chat: vLLM applies the template itself, so no second BOS token creeps in
            outputs = self.llm.chat(list(prompts), params, use_tqdm=False)
        else:
            outputs = self.llm.generate(list(prompts), params, use_tqdm=False)
        for i, out in enumerate(outputs):
            if not out.outputs:  # vLLM gives no completion for a prompt it could not take
                yield i, None, "incomplete reply: vLLM returned no completion"
                continue
            yield i, _cut(out.outputs[0].text, stop), None

    def close(self) -> None:
        self.llm = None
