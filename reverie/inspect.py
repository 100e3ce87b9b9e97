"""`python -m reverie.inspect [overrides] inspect.n=5 inspect.format=jsonl`: show exactly which tokens are supervised.

Renders samples of any data + reflection + template config the way training sees them. Text format: one line per
span with its role, segment and a ✓ where supervised. JSONL format: one object per sample,
`{"id", "origin", "spans": [{"text", "role", "segment", "supervised"}]}`, whose span texts concatenate to the decoded
sequence. The tool LLaVA users lacked when their labels silently went to zero.
"""

from __future__ import annotations

import json
import sys
from collections.abc import Iterator

import hydra
from hydra.utils import instantiate
from omegaconf import DictConfig

from reverie.build import build_data
from reverie.cli import user_errors
from reverie.data.encode import SampleEncoder
from reverie.data.templates import get_template
from reverie.data.tokenizer import build_tokenizer
from reverie.errors import InputError
from reverie.resolvers import register

register()


def render_spans(encoder: SampleEncoder, conversations, n: int) -> Iterator[dict]:
    for conv in conversations[:n]:
        spans = []
        for piece, ids in encoder.tokenized_pieces(conv):
            spans.append(
                {
                    "text": encoder.tokenizer.decode(
                        ids, skip_special_tokens=False, clean_up_tokenization_spaces=False
                    ),
                    "role": piece.role,
                    "segment": piece.segment.key,
                    "supervised": piece.supervised,
                    "tokens": len(ids),
                }
            )
        yield {"id": conv.id, "origin": conv.origin, "spans": spans}


def format_text(sample: dict) -> str:
    n_tokens = sum(s["tokens"] for s in sample["spans"])
    n_sup = sum(s["tokens"] for s in sample["spans"] if s["supervised"])
    lines = [f"=== {sample['id']}  ({sample['origin']})  {n_tokens} tokens, {n_sup} supervised"]
    for s in sample["spans"]:
        text = f"<image> x{s['tokens']}" if s["role"] == "image" else repr(s["text"])
        mark = "✓" if s["supervised"] else " "
        lines.append(f"  {mark} {s['role']:<9} {s['segment']:<13} {s['tokens']:>4}  {text}")
    return "\n".join(lines)


@hydra.main(version_base="1.3", config_path="conf", config_name="inspect")
@user_errors
def main(cfg: DictConfig) -> None:
    if cfg.inspect.format not in ("text", "jsonl"):
        raise InputError(f"inspect.format={cfg.inspect.format!r}; expected 'text' or 'jsonl'")
    data, _ = build_data(cfg)
    convs = data.train_convs if cfg.inspect.split == "train" else data.val_convs
    tok_cfg = cfg.model.llm.tokenizer
    tokenizer = build_tokenizer(tok_cfg.path, data.texts(), tok_cfg.vocab_size, save_dir=None)
    vision = instantiate(cfg.model.vision_encoder)
    encoder = SampleEncoder(tokenizer, get_template(cfg.model.llm.chat_template), vision.num_tokens, data.max_length)
    for sample in render_spans(encoder, convs, cfg.inspect.n):
        if cfg.inspect.format == "jsonl":
            for span in sample["spans"]:
                del span["tokens"]
            sys.stdout.write(json.dumps(sample, ensure_ascii=False) + "\n")
        else:
            print(format_text(sample))


if __name__ == "__main__":
    main()
