"""reverie's LVLM training step vs transformers' LlavaForConditionalGeneration on the same tiny configuration
(CLIP vision tower, 2-layer GELU projector, Llama), the same batch and the same supervised tokens.

reverie applies lm_head only at supervised positions; HF computes logits for every position. Prints both step
times (forward + backward + AdamW) and the ratio. Target: >= 1.0x.

    python benchmarks/bench_vs_hf_llava.py [--batch 8] [--text 96] [--vocab 32000]
"""

from __future__ import annotations

import argparse
import sys
import tempfile
from pathlib import Path

import torch
from transformers import CLIPVisionConfig, CLIPVisionModel, LlamaConfig, LlavaConfig, LlavaForConditionalGeneration

sys.path.insert(0, str(Path(__file__).parent))
from timing import device_name, median_seconds  # noqa: E402

from reverie.models.llm import build_llm  # noqa: E402
from reverie.models.lvlm import LVLM  # noqa: E402
from reverie.models.projector import build_projector  # noqa: E402
from reverie.models.vision import HFVisionEncoder  # noqa: E402


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--batch", type=int, default=8)
    parser.add_argument("--text", type=int, default=96, help="text tokens per sample (half of them supervised)")
    parser.add_argument("--vocab", type=int, default=32000)
    parser.add_argument("--repeats", type=int, default=5)
    args = parser.parse_args()
    torch.manual_seed(0)
    vision_cfg = CLIPVisionConfig(
        hidden_size=64, intermediate_size=128, num_hidden_layers=3, num_attention_heads=2, image_size=224, patch_size=14
    )
    text = {
        "hidden_size": 128,
        "intermediate_size": 256,
        "num_hidden_layers": 2,
        "num_attention_heads": 4,
        "num_key_value_heads": 2,
        "max_position_embeddings": 2048,
        "vocab_size": args.vocab,
    }
    image_id = args.vocab - 1
    n_image = (224 // 14) ** 2
    hf = LlavaForConditionalGeneration(
        LlavaConfig(
            vision_config=vision_cfg,
            text_config=LlamaConfig(**text),
            image_token_index=image_id,
            image_seq_length=n_image,
        )
    )
    folder = Path(tempfile.mkdtemp())
    CLIPVisionModel(vision_cfg).save_pretrained(folder)
    vision = HFVisionEncoder(str(folder), feature_layer=-2)
    llm = build_llm(args.vocab, {"model_type": "llama", **{k: v for k, v in text.items() if k != "vocab_size"}})
    ours = LVLM(vision, build_projector("mlp2x_gelu", 64, 128), llm, image_id)

    ids = torch.randint(0, args.vocab - 2, (args.batch, 1 + n_image + args.text))
    ids[:, 1 : 1 + n_image] = image_id
    labels = torch.full_like(ids, -100)
    labels[:, -args.text // 2 :] = ids[:, -args.text // 2 :]
    pixels = torch.randn(args.batch, 3, 224, 224)
    mask = torch.ones_like(ids)
    targets = torch.cat([labels[:, 1:], torch.full_like(labels[:, :1], -100)], dim=1)
    batch = {
        "input_ids": ids,
        "attention_mask": mask,
        "pixel_values": pixels,
        "target_ids": targets,
        "target_segments": torch.ones_like(ids),
        "target_mult": torch.ones(ids.shape),
    }

    def step(model, loss_fn):
        opt = torch.optim.AdamW(model.parameters(), lr=1e-4)

        def run():
            opt.zero_grad()
            loss_fn().backward()
            opt.step()

        return run

    hf_step = step(hf, lambda: hf(input_ids=ids, attention_mask=mask, pixel_values=pixels, labels=labels).loss)
    ours_step = step(ours, lambda: ours.token_losses(batch)[0].mean())
    t_hf = median_seconds(hf_step, args.repeats)
    t_ours = median_seconds(ours_step, args.repeats)
    print(f"device: {device_name()}; batch {args.batch} x {ids.shape[1]} tokens ({n_image} image), vocab {args.vocab}")
    print(f"HF LlavaForConditionalGeneration step: {t_hf * 1000:.1f} ms")
    print(f"reverie LVLM step:                     {t_ours * 1000:.1f} ms")
    print(f"speed-up reverie/HF: {t_hf / t_ours:.2f}x (target >= 1.0x)")


if __name__ == "__main__":
    main()
