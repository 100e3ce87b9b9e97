"""A local transformers image-text-to-text model (LLaVA, Qwen2-VL, ...) as annotator: batched, left-padded
generation with the processor's chat template, on a GPU when there is one. Nothing is downloaded."""

from __future__ import annotations

from pathlib import Path
from typing import Any

import torch
from PIL import Image
from transformers import AutoModelForImageTextToText, AutoProcessor

from reverie.annotate.backends.base import Reply, Request


def _device(device: str) -> torch.device:
    return torch.device("cuda" if torch.cuda.is_available() else "cpu") if device == "auto" else torch.device(device)


def _dtype(dtype: str, device: torch.device) -> torch.dtype:
    if dtype == "auto":
        bf16 = device.type == "cuda" and torch.cuda.is_bf16_supported()
        return torch.bfloat16 if bf16 else torch.float32
    if dtype not in ("float16", "bfloat16", "float32"):
        raise ValueError(f"annotator.dtype must be auto, float16, bfloat16 or float32, got {dtype!r}")
    return getattr(torch, dtype)


class HFLocal:
    """Generates replies for batches of requests; ``concurrency`` is 1 (one model, one device)."""

    concurrency = 1

    def __init__(
        self,
        path: str,
        batch_size: int = 8,
        max_new_tokens: int = 1024,
        temperature: float = 0.0,
        device: str = "auto",
        dtype: str = "auto",
        id_prefix: str = "",
    ) -> None:
        folder = Path(path).expanduser()
        if not folder.is_dir():
            raise FileNotFoundError(f"annotator.path: model folder not found: {folder}")
        self.device = _device(device)
        self.processor = AutoProcessor.from_pretrained(folder, local_files_only=True)
        if not getattr(self.processor, "chat_template", None):
            raise ValueError(f"annotator.path: {folder} has no chat template (chat_template.jinja or in the processor)")
        self.processor.tokenizer.padding_side = "left"  # batched generation: prompts end where generation starts
        self.model = AutoModelForImageTextToText.from_pretrained(
            folder, local_files_only=True, dtype=_dtype(dtype, self.device)
        ).to(self.device)
        self.model.eval()
        self.name = folder.name
        self.batch_size, self.id_prefix = max(1, batch_size), id_prefix
        self.settings: dict[str, Any] = {"max_new_tokens": max_new_tokens, "temperature": temperature}

    def model_for(self, step: str) -> str:
        return self.name

    def close(self) -> None:
        pass

    @torch.no_grad()
    def complete(self, requests: list[Request]) -> list[Reply]:
        texts, images = [], []
        for r in requests:
            content: list[dict[str, Any]] = [{"type": "image"}] if r.image is not None else []
            content.append({"type": "text", "text": r.prompt})
            messages = [{"role": "user", "content": content}]
            texts.append(self.processor.apply_chat_template(messages, add_generation_prompt=True, tokenize=False))
            if r.image is not None:
                with Image.open(r.image) as im:
                    images.append(im.convert("RGB"))
        inputs = self.processor(text=texts, images=images or None, return_tensors="pt", padding=True)
        inputs = inputs.to(self.device)
        if "pixel_values" in inputs:
            inputs["pixel_values"] = inputs["pixel_values"].to(self.model.dtype)
        temperature = self.settings["temperature"]
        sampling = {"do_sample": True, "temperature": temperature} if temperature > 0 else {"do_sample": False}
        tokenizer = self.processor.tokenizer
        out = self.model.generate(
            **inputs, max_new_tokens=self.settings["max_new_tokens"], pad_token_id=tokenizer.pad_token_id, **sampling
        )
        new = out[:, inputs["input_ids"].shape[1] :]
        replies = []
        for row, mask in zip(new, inputs["attention_mask"], strict=True):
            n_out = _generated_length(row, tokenizer.eos_token_id, tokenizer.pad_token_id)
            text = tokenizer.decode(row[:n_out], skip_special_tokens=True)
            replies.append(Reply(text=text.strip(), tokens_in=int(mask.sum()), tokens_out=n_out))
        return replies


def _generated_length(row: torch.Tensor, eos: int | None, pad: int | None) -> int:
    """Tokens generated up to and including the first end-of-sequence token (the rest is padding)."""
    for i, token in enumerate(row.tolist()):
        if token == eos:
            return i + 1
        if token == pad and pad != eos:
            return i
    return len(row)
