"""lm-eval's own command line with one more model, ``planted``, that answers from a file.

    python tests/lmeval_planted.py --model planted --model_args answers=ANSWERS.json ...

``ANSWERS.json`` maps a question to the text the model "writes"; the question is read from the
prompt's last ``Question: ...\\nAnswer:``. Everything else is lm-eval unchanged: its task
loading, prompting, filters, metrics, ``--log_samples`` files and results JSON.
"""

from __future__ import annotations

import json
import re

from lm_eval.api.model import LM
from lm_eval.api.registry import register_model

_LAST_QUESTION = re.compile(r"Question: ((?:(?!Question: ).)*)\nAnswer:$", re.DOTALL)


@register_model("planted")
class PlantedLM(LM):
    def __init__(self, answers: str, **_options) -> None:
        super().__init__()
        with open(answers, encoding="utf-8") as handle:
            self.answers = json.load(handle)

    def generate_until(self, requests, disable_tqdm: bool = False):
        out = []
        for request in requests:
            context = request.arguments[0]
            found = _LAST_QUESTION.search(context)
            if found is None or found.group(1) not in self.answers:
                raise KeyError(f"no planted answer for the prompt ending {context[-80:]!r}")
            out.append(self.answers[found.group(1)])
        return out

    def loglikelihood(self, requests, disable_tqdm: bool = False):
        raise NotImplementedError("the planted model only generates")

    def loglikelihood_rolling(self, requests, disable_tqdm: bool = False):
        raise NotImplementedError("the planted model only generates")


if __name__ == "__main__":
    from lm_eval.__main__ import cli_evaluate

    cli_evaluate()
