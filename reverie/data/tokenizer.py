"""Tokenizers: a real one from a local path, or a tiny byte-level BPE trained offline on the training text.

Both get the image placeholder and every template marker as single special tokens, and a pad token.
"""

from __future__ import annotations

from collections.abc import Iterable
from pathlib import Path

from tokenizers import Tokenizer, decoders, models, pre_tokenizers, trainers
from transformers import AutoTokenizer, PreTrainedTokenizerFast

from reverie.data.conversation import IMAGE_PLACEHOLDER
from reverie.data.templates import TEMPLATES

PAD, UNK, BOS, EOS = "<pad>", "<unk>", "<s>", "</s>"


def all_special_strings() -> list[str]:
    """Markers of every shipped template, so a tiny tokenizer works with any of them."""
    markers = {m for t in TEMPLATES.values() for m in t.special_strings}
    return [PAD, UNK, BOS, EOS, IMAGE_PLACEHOLDER, *sorted(markers - {PAD, UNK, BOS, EOS})]


def train_bpe_tokenizer(texts: Iterable[str], vocab_size: int) -> PreTrainedTokenizerFast:
    """Byte-level BPE (lossless on any unicode text) trained on `texts`; deterministic for the same texts."""
    specials = all_special_strings()
    tok = Tokenizer(models.BPE())
    tok.pre_tokenizer = pre_tokenizers.ByteLevel(add_prefix_space=False)
    tok.decoder = decoders.ByteLevel()
    trainer = trainers.BpeTrainer(
        vocab_size=vocab_size,
        special_tokens=specials,
        initial_alphabet=pre_tokenizers.ByteLevel.alphabet(),
        show_progress=False,
    )
    tok.train_from_iterator(texts, trainer=trainer)
    return PreTrainedTokenizerFast(
        tokenizer_object=tok,
        pad_token=PAD,
        unk_token=UNK,
        bos_token=BOS,
        eos_token=EOS,
        additional_special_tokens=specials[4:],
    )


def load_tokenizer(path: str | Path) -> PreTrainedTokenizerFast:
    """A tokenizer saved in a local folder, with the image placeholder and a pad token added if missing."""
    path = Path(path)
    if not path.is_dir():
        raise FileNotFoundError(f"tokenizer folder not found: {path}")
    tok = AutoTokenizer.from_pretrained(path, local_files_only=True)
    added = tok.add_special_tokens(
        {"additional_special_tokens": [IMAGE_PLACEHOLDER]}, replace_extra_special_tokens=False
    )
    if tok.pad_token is None:
        tok.pad_token = tok.eos_token or tok.unk_token
    if added:
        print(f"[reverie] tokenizer {path}: added {IMAGE_PLACEHOLDER} as a special token (resize embeddings)")
    return tok


def build_tokenizer(
    path: str | None, texts: Iterable[str] | None, vocab_size: int, save_dir: str | Path | None
) -> PreTrainedTokenizerFast:
    """From `path` if given, else trained on `texts`; saved to `save_dir` so the run dir holds what it used."""
    if path:
        tok = load_tokenizer(path)
    else:
        if texts is None:
            raise ValueError("a tiny tokenizer needs training texts (no tokenizer path given)")
        tok = train_bpe_tokenizer(texts, vocab_size)
    if save_dir is not None:
        tok.save_pretrained(save_dir)
    return tok
