"""The paper presets compose and plan (no weights, no data: their paths are placeholders); the global batch holds on
any GPU count; the entry point prints the plan; samples per epoch are counted from real files when they are here."""

from __future__ import annotations

import json
import subprocess
import sys

import pytest
from lightning.pytorch import Trainer
from plan_compose import CONF, compose_plan

from reverie.errors import InputError, MissingFileError
from reverie.plan.estimate import make_plan
from reverie.plan.report import as_text
from reverie.training.global_batch import GlobalBatch, accumulation

PAPER_LORA = 340_795_392  # LoRA r 128 on every linear of Vicuna-7B (319,815,680) + the 2-layer projector (20,979,712)


@pytest.mark.parametrize("gpus", [1, 8])
def test_paper_preset_plans_with_the_papers_settings(plan_of, gpus):
    plan = plan_of("+experiment=paper_llava15_lora_reverie", f"trainer.devices={gpus}", "plan.samples_per_epoch=919475")
    cfg = compose_plan("+experiment=paper_llava15_lora_reverie")
    assert (cfg.stage.lora.r, cfg.stage.lora.alpha, cfg.stage.optim.lr, cfg.stage.optim.projector_lr) == (
        128,
        256,
        2e-4,
        2e-5,
    )
    assert (cfg.stage.optim.warmup_ratio, cfg.trainer.max_epochs, cfg.data.max_length) == (0.03, 1, 2048)
    assert cfg.trainer.precision == "bf16-mixed" and cfg.model.vision_encoder.pad_to_square
    assert [s._target_.rsplit(".", 1)[1] for s in cfg.data.train_sources] == ["ReverieSource", "LlavaSource"]
    assert plan.counts.trainable == PAPER_LORA
    assert plan.work.samples_per_step == 128 and plan.work.accumulation == 128 // (4 * gpus)
    assert plan.work.steps_per_epoch == -(-919_475 // 128) == plan.steps
    assert plan.flops_per_step == sum(plan.flops.values()) * plan.work.accumulation * gpus
    expected = plan.steps * plan.flops_per_step / (0.4 * 989e12 * gpus)
    assert plan.seconds == pytest.approx(expected)


def test_baseline_differs_only_in_the_rationales(plan_of):
    reverie = compose_plan("+experiment=paper_llava15_lora_reverie")
    baseline = compose_plan("+experiment=paper_llava15_lora_answers_only")
    assert (reverie.reflection.kinds, baseline.reflection.kinds) == ("both", "none")
    for key in ("model", "stage", "trainer", "data", "callbacks"):
        assert reverie[key] == baseline[key], key
    assert plan_of("+experiment=paper_llava15_lora_answers_only").counts.trainable == PAPER_LORA


def test_dftg_and_align_presets_plan(plan_of):
    dftg = plan_of("+experiment=paper_dftg", "trainer.devices=8")
    assert dftg.counts.trainable == PAPER_LORA and dftg.work.samples_per_epoch is None  # the file is a placeholder
    assert dftg.steps is None and dftg.seconds is None
    align = plan_of("+experiment=paper_llava15_align", "trainer.devices=8")
    assert align.counts.trainable == 20_979_712 and align.work.samples_per_step == 256


def test_global_batch_sets_accumulation_from_the_gpu_count():
    assert [accumulation(128, 4, gpus) for gpus in (1, 2, 8)] == [32, 16, 4]
    with pytest.raises(InputError, match="not a multiple"):
        accumulation(128, 4, 3)
    trainer = Trainer(accelerator="cpu", devices=1, logger=False, enable_checkpointing=False)
    GlobalBatch(size=128, micro_batch=16).setup(trainer, None, "fit")
    assert trainer.accumulate_grad_batches == 8


def test_samples_per_epoch_counted_from_the_files(data_dir):
    overrides = [
        "+experiment=paper_llava15_lora_reverie",
        f"data.train_sources.0.path={data_dir / 'reverie.json'}",
        f"data.train_sources.0.image_root={data_dir / 'images'}",
        f"data.train_sources.1.path={data_dir / 'llava.json'}",
        f"data.train_sources.1.image_root={data_dir / 'images'}",
    ]
    plan = make_plan(compose_plan(*overrides))
    assert plan.work.samples_per_epoch == 24 + 12  # REVERIE: answer+pos, answer+neg per record; LLaVA: one each
    assert plan.work.steps_per_epoch == 1


def test_entry_point_prints_the_plan():
    args = ["+experiment=paper_llava15_lora_reverie", "trainer.devices=8", "plan.samples_per_epoch=919475"]
    out = subprocess.run(
        [sys.executable, "-m", "reverie.plan", *args, "plan.format=json"], capture_output=True, text=True, check=True
    ).stdout
    plan = json.loads(out[out.index("{") :])
    assert plan["parameters"]["trainable"] == PAPER_LORA and plan["steps"] == 7184


def test_a_model_folder_neither_here_nor_shipped_is_a_user_error(plan_of):
    with pytest.raises(MissingFileError, match=r"model.path: no config.json in '/nowhere/unknown-model'"):
        plan_of("model=hf_llava", "model.path=/nowhere/unknown-model")


def test_plan_shows_the_memory_a_precomputed_dpo_reference_saves(plan_of):
    full = ["model=hf_llava", "model.path=/nowhere/llava-1.5-7b-hf", "stage=finetune", "objective=dpo"]
    live, precomputed = plan_of(*full), plan_of(*full, "objective.reference=precomputed")
    trained = live.counts.trainable_bytes  # the fp32 trained parts, copied (and their few buffers: rotary tables)
    assert trained == 4 * live.counts.trainable and trained <= live.reference_bytes <= trained + 4096
    assert precomputed.reference_bytes == 0
    assert live.peak_bytes - precomputed.peak_bytes == live.reference_bytes
    lora = plan_of("model=hf_llava", "model.path=/nowhere/llava-1.5-7b-hf", "stage=lora", "objective=dpo")
    assert lora.reference_bytes == 4 * 20_979_712  # under LoRA only the projector is copied (adapters disabled)
    assert "DPO live reference" in as_text(live) and "DPO live reference" not in as_text(precomputed)


@pytest.mark.slow
def test_global_batch_callback_sets_accumulation_in_a_real_run(tmp_path, world_cache):
    """A tiny run: 4 micro-batches of 2 with a global batch of 4 are 2 optimizer steps (accumulation 2), and the
    scheduler was built for those steps."""
    from hydra import compose, initialize_config_dir

    from reverie.run import train

    overrides = [
        "+debug=fast",
        "base=none",
        "eval=none",
        "~logger",
        f"paths.output_dir={tmp_path}",
        "data.batch_size=2",
        "trainer.limit_train_batches=4",
        "+callbacks.global_batch._target_=reverie.training.global_batch.GlobalBatch",
        "+callbacks.global_batch.size=4",
        "+callbacks.global_batch.micro_batch=${data.batch_size}",
    ]
    with initialize_config_dir(str(CONF), version_base="1.3"):
        cfg = compose("config", overrides=overrides)
    assert train(cfg)["optimizer_steps"] == 2
