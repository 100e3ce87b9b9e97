"""objective.reference=precomputed: its DPO loss and gradients equal the live reference's on the tiny model (full and
LoRA stages), its cache resumes chunk by chunk, a resumed run without the cache stops, and the memory it saves is
the live reference's copy."""

from __future__ import annotations

import copy
import threading

import pytest
import torch
from test_dpo import batches, pair_data

from reverie.errors import InputError
from reverie.training.dpo import PreferenceObjective, pair_targets
from reverie.training.precomputed_reference import PrecomputedReference
from reverie.training.reference import ReferencePolicy, reference_copy_bytes
from reverie.training.stages import apply_stage

LORA = {"r": 4, "alpha": 8, "dropout": 0.0, "target_modules": "all-linear"}


def loss_and_grads(model, objective, reference, batch) -> tuple[torch.Tensor, list[torch.Tensor]]:
    model.zero_grad()
    ce, segments, mult = model.token_losses(batch)
    out = objective(ce, reference.token_losses(model, batch), segments, mult, *pair_targets(batch), 0.0)
    out.pair_loss.backward()
    return out.pair_loss.detach(), [p.grad.clone() for p in model.parameters() if p.requires_grad]


@pytest.mark.parametrize("stage", ["full", "lora"])
def test_precomputed_loss_and_gradients_equal_the_live_reference(data_dir, tokenizer, make_lvlm, tmp_path, stage):
    model = make_lvlm(seed=3)
    dm = pair_data(data_dir, tokenizer, model, llava=False, batch_size=4)
    if stage == "full":
        apply_stage(model, "full", train_vision_tower=True, train_projector=True, train_llm=True)
    else:
        apply_stage(model, "lora", train_projector=True, lora=LORA)
    live = ReferencePolicy(model)
    precomputed = PrecomputedReference(model, tmp_path / "cache", batch_size=3, chunk_size=4)
    report = precomputed.prepare(model, [*dm.train_samples, *dm.val_samples], dm.image_transform, dm.collator)
    assert report["computed"] == report["pairs"] > 4 and report["from_cache"] == 0  # more than one chunk
    with torch.no_grad():  # "train": the policy moves away from the starting weights
        for p in model.parameters():
            if p.requires_grad:
                p.add_(0.05 * torch.randn_like(p))
    objective = PreferenceObjective(beta=0.5, pairs="only")
    for batch in batches(dm):
        loss_live, grads_live = loss_and_grads(model, objective, live, batch)
        loss_pre, grads_pre = loss_and_grads(model, objective, precomputed, batch)
        assert abs(loss_live.item() - torch.log(torch.tensor(2.0)).item()) > 1e-4  # the reference term matters
        torch.testing.assert_close(loss_pre, loss_live, rtol=1e-5, atol=1e-6)
        for got, expected in zip(grads_pre, grads_live, strict=True):
            torch.testing.assert_close(got, expected, rtol=1e-4, atol=1e-6)


def test_the_cache_resumes_chunk_by_chunk_and_a_resumed_run_needs_it(data_dir, tokenizer, make_lvlm, tmp_path):
    model = make_lvlm(seed=4)
    dm = pair_data(data_dir, tokenizer, model, llava=False, batch_size=4)
    apply_stage(model, "finetune", train_projector=True, train_llm=True)
    samples = [*dm.train_samples, *dm.val_samples]
    cache = tmp_path / "cache"
    first = PrecomputedReference(model, cache, batch_size=2, chunk_size=3)
    first.prepare(model, samples, dm.image_transform, dm.collator)
    expected = [s.ref_logps.copy() for s in samples]
    (folder,) = list(cache.iterdir())
    chunks = sorted(folder.glob("chunk_*.npz"))
    assert len(chunks) > 1
    chunks[-1].unlink()  # an interrupted pass: the last chunk never written
    for s in samples:
        s.ref_logps[:] = 0
    again = PrecomputedReference(model, cache, batch_size=2, chunk_size=3)
    report = again.prepare(model, samples, dm.image_transform, dm.collator)
    assert 0 < report["computed"] <= 3 and report["from_cache"] == report["pairs"] - report["computed"]
    for s, values in zip(samples, expected, strict=True):
        torch.testing.assert_close(torch.from_numpy(s.ref_logps), torch.from_numpy(values))
    chunks[0].unlink()
    with pytest.raises(InputError, match="resuming"):
        again.prepare(model, samples, dm.image_transform, dm.collator, resumed=True)
    other = make_lvlm(seed=5)  # other starting weights: another key, nothing cached
    apply_stage(other, "finetune", train_projector=True, train_llm=True)
    fresh = PrecomputedReference(other, cache, batch_size=4, chunk_size=3)
    assert fresh.prepare(other, samples, dm.image_transform, dm.collator)["from_cache"] == 0


def test_under_ddp_rank_0_computes_and_the_other_ranks_read(data_dir, tokenizer, make_lvlm, tmp_path):
    model = make_lvlm(seed=7)
    dm = pair_data(data_dir, tokenizer, model, llava=False, batch_size=4)
    apply_stage(model, "finetune", train_projector=True, train_llm=True)
    barrier = threading.Barrier(2, timeout=60)
    ranks = [copy.deepcopy(dm.train_samples) for _ in range(2)]
    refs = [PrecomputedReference(model, tmp_path / "cache", batch_size=4, chunk_size=3) for _ in range(2)]

    def prepare(rank: int) -> None:
        kwargs = {"rank": rank, "world_size": 2, "barrier": barrier.wait}
        refs[rank].prepare(model, ranks[rank], dm.image_transform, dm.collator, **kwargs)

    other = threading.Thread(target=prepare, args=(1,))
    other.start()  # rank 1 first: it must wait for rank 0's files, not compute
    prepare(0)
    other.join()
    assert refs[0].report["computed"] == refs[0].report["pairs"] > 3 and refs[1].report["computed"] == 0
    for a, b in zip(*ranks, strict=True):
        assert a.preference.any() and (a.ref_logps == b.ref_logps).all()


def test_a_bad_reference_knob_is_a_user_error():
    with pytest.raises(InputError, match="objective.reference must be live or precomputed"):
        PreferenceObjective(reference="copy")
    with pytest.raises(InputError, match="reference_batch_size"):
        PreferenceObjective(reference="precomputed", reference_batch_size=0)


def test_saved_memory_is_the_live_reference_copy(make_lvlm):
    model = make_lvlm(seed=6)
    for stage, kwargs, parts in [
        (
            "full",
            {"train_vision_tower": True, "train_llm": True},
            {"vision_tower", "multi_modal_projector", "language_model"},
        ),
        ("finetune", {"train_llm": True}, {"multi_modal_projector", "language_model"}),
        ("lora", {"lora": LORA}, {"multi_modal_projector"}),
    ]:
        apply_stage(model, stage, train_projector=True, **kwargs)
        live = ReferencePolicy(model)
        held = sum(t.numel() * t.element_size() for t in (*live.parameters(), *live.buffers()))
        assert set(live.frozen) == parts and reference_copy_bytes(model) == held > 0, stage
        if stage == "lora":
            break
        model = make_lvlm(seed=6)


def test_a_precomputed_dpo_run_trains_as_the_live_one(tmp_path, world_options):
    from pathlib import Path

    from hydra import compose, initialize_config_dir

    from reverie.resolvers import register
    from reverie.run import train

    register()
    conf = Path(__file__).resolve().parents[2] / "reverie" / "conf"
    summaries = {}
    for reference in ("live", "precomputed"):
        overrides = [
            f"paths.output_dir={tmp_path / reference}",
            "objective=dpo",
            f"objective.reference={reference}",
            f"objective.reference_cache={tmp_path / 'cache'}",
            "stage=full",
            "base=none",
            "trainer.max_steps=2",
            "trainer.limit_val_batches=2",
            "eval=none",
            "data.batch_size=8",
            "~callbacks",
        ]
        with initialize_config_dir(str(conf), version_base="1.3"):
            cfg = compose("config", overrides=[*overrides, *world_options])
        summaries[reference] = train(cfg)
    live, precomputed = (summaries[r]["preference"] for r in ("live", "precomputed"))
    # the first step's margins are 0 (policy = reference) up to float noise, so its accuracy is a coin toss
    ties = {"rewards/accuracy"}
    train = {k: v for k, v in live["train_last_epoch"].items() if k not in ties}
    assert {k: precomputed["train_last_epoch"][k] for k in train} == pytest.approx(train, rel=1e-4, abs=1e-6)
    assert precomputed["val"] == pytest.approx(live["val"], rel=1e-4, abs=1e-6)
    assert live["val"]["loss"] != pytest.approx(0.6931, abs=1e-3)  # the policy moved: the reference term matters
    assert list((tmp_path / "cache").glob("*/chunk_*.npz"))
