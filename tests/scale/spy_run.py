"""`python -m spy_run OVERRIDES`: an entry point (`reverie.run`, or `$REVERIE_SPY_ENTRY`) with every generation
call recorded to `$REVERIE_SPY_DIR/rank<R>.jsonl`, one line per question: call number, prompt, image, output.
Generation itself is untouched: the DDP evaluation test uses it to see which questions each rank answered.
Lightning restarts the other DDP ranks with the same command, so they are recorded too."""

import importlib
import itertools
import json
import os

import torch.distributed as dist

from reverie.eval.generation import Generator

_generate = Generator.generate
_calls = itertools.count()


def recording_generate(self, items):
    outputs = _generate(self, items)
    rank = dist.get_rank() if dist.is_available() and dist.is_initialized() else 0
    call = next(_calls)
    with open(os.path.join(os.environ["REVERIE_SPY_DIR"], f"rank{rank}.jsonl"), "a", encoding="utf-8") as f:
        for (prompt, image), output in zip(items, outputs, strict=True):
            f.write(json.dumps({"call": call, "prompt": prompt, "image": image, "output": output}) + "\n")
    return outputs


Generator.generate = recording_generate

if __name__ == "__main__":
    os.environ["HYDRA_MAIN_MODULE"] = "__main__"  # configs next to the entry point's file, as under `python -m`
    importlib.import_module(os.environ.get("REVERIE_SPY_ENTRY", "reverie.run")).main()
