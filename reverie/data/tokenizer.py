"""Tokenizers: a real one from a local path, or a tiny byte-level BPE trained offline on text.

A tiny tokenizer trains on a fixed corpus when the data names one (the built-in world names all of its text, so every
arm of a study gets the same tokenizer, cached by the corpus' content), else on the run's own training text.
Both get the image placeholder and every template marker as single special tokens, and a pad token.
Stop strings become token ids by encoding them (`stop_token_id`), never by looking a string up as a token name: a
newline is "\n" as text but "Ċ" as a byte-level token, and a lookup of the text silently gives <unk>.
"""

from __future__ import annotations

import os
import shutil
from collections.abc import Iterable
from pathlib import Path

from filelock import FileLock
from tokenizers import Tokenizer, decoders, models, pre_tokenizers, trainers
from transformers import AutoTokenizer, PreTrainedTokenizerFast

from reverie.data.conversation import IMAGE_PLACEHOLDER
from reverie.data.sources import REVERIE_KEYS, read_json_list, text_field
from reverie.data.templates import TEMPLATES, ChatTemplate
from reverie.errors import InputError
from reverie.provenance import cache_key, content_hash, source_hash

PAD, UNK, BOS, EOS = "<pad>", "<unk>", "<s>", "</s>"


def all_special_strings() -> list[str]:
    """Markers of every shipped template, so a tiny tokenizer works with any of them."""
    markers = {m for t in TEMPLATES.values() for m in t.special_strings}
    return [PAD, UNK, BOS, EOS, IMAGE_PLACEHOLDER, *sorted(markers - {PAD, UNK, BOS, EOS})]


def stop_token_id(tokenizer, text: str, what: str = "stop string") -> int:
    """The one token `text` encodes to (as the chat template encodes it: alone, no special tokens added); a text that
    is not exactly one token is an error, since generation stops on a token, not on text."""
    ids = tokenizer(text, add_special_tokens=False)["input_ids"]
    if len(ids) != 1:
        pieces = tokenizer.convert_ids_to_tokens(ids)
        raise InputError(
            f"{what} {text!r} is {len(ids)} tokens {pieces} for this tokenizer, not one, so generation cannot stop on "
            f"it; add it as a special token or pick a chat template whose end of turn is one token"
        )
    return ids[0]


def end_of_turn_id(tokenizer, template: ChatTemplate) -> int:
    """The token that closes an assistant turn of `template` (supervised in training; generation stops on it)."""
    return stop_token_id(tokenizer, template.end_of_turn, f"chat template {template.name!r}: end of turn")


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


def corpus_texts(files: Iterable[str | Path]) -> list[str]:
    """Every text of the given data files: each turn of LLaVA conversations; question, answers and rationales of
    REVERIE records (told apart by their keys). Images are not opened."""
    texts: list[str] = []
    for file in files:
        for index, record in enumerate(read_json_list(file)):
            origin = f"{file}#{index}"
            if not isinstance(record, dict):
                raise InputError(f"{origin}: record must be an object, got {type(record).__name__}")
            if "conversations" in record:
                texts += [text_field(turn, "value", f"{origin}: conversations") for turn in record["conversations"]]
            else:
                texts += [text_field(record, key, origin) for key in REVERIE_KEYS]
    return texts


def corpus_tokenizer(files: list[str], vocab_size: int, cache_dir: str | Path) -> Path:
    """Folder of the tiny tokenizer trained on `files` (cached under cache_dir/tokenizer/<key>, the key hashing the
    files' bytes, the vocabulary size and the code that trains it); built once, atomically."""
    keyed = {
        "files": [content_hash(f) for f in files],
        "vocab_size": vocab_size,
        "code": source_hash("data/tokenizer.py", "data/templates.py", "data/sources.py"),
    }
    target = Path(cache_dir).expanduser().resolve() / "tokenizer" / cache_key(keyed)
    target.parent.mkdir(parents=True, exist_ok=True)
    with FileLock(str(target) + ".lock"):
        if not (target / "tokenizer.json").is_file():
            texts = corpus_texts(files)
            print(f"[reverie] training the tokenizer on {len(texts)} texts of {len(files)} corpus files -> {target}")
            tmp = target.with_name(f"{target.name}.tmp{os.getpid()}")
            train_bpe_tokenizer(texts, vocab_size).save_pretrained(tmp)
            shutil.rmtree(target, ignore_errors=True)  # a half-written folder of a killed run
            tmp.rename(target)
    return target
