"""DPO on REVERIE answer pairs: the loss and rewards against a hand computation and against TRL, pair trees against
two separate sequences, one step prefers the chosen answer, and the LoRA reference is the adapter-disabled model."""

import copy
import math

import pytest
import torch

from reverie.data.datamodule import ReverieDataModule
from reverie.data.dataset import Collator, EncodedDataset
from reverie.data.encode import EncodeReport, SampleEncoder
from reverie.data.mixture import LlavaSource, ReverieSource
from reverie.data.preference import CHOSEN, REJECTED, SHARED, build_pair, pair_conversations
from reverie.data.reflect import ReflectionPolicy
from reverie.data.sources import load_reverie_json
from reverie.data.templates import TEMPLATES
from reverie.training.dpo import PreferenceObjective, pair_targets, sequence_logps, sigmoid_dpo_loss
from reverie.training.objective import SegmentWeightedLoss
from reverie.training.reference import ReferencePolicy
from reverie.training.stages import apply_stage

TEMPLATE = TEMPLATES["chatml"]


def pair_data(data_dir, tokenizer, model, preference="only", llava=True, batch_size=4) -> ReverieDataModule:
    sources = [ReverieSource(str(data_dir / "reverie.json"), str(data_dir / "images"))]
    if llava:
        sources.append(LlavaSource(str(data_dir / "llava.json"), str(data_dir / "images")))
    dm = ReverieDataModule(sources, [], batch_size=batch_size, max_length=1024, trees=True)
    dm.load(ReflectionPolicy(kinds="both", preference=preference))
    objective = PreferenceObjective(pairs="only") if preference == "only" else SegmentWeightedLoss({})
    dm.bind(
        tokenizer, TEMPLATE, model.num_image_tokens, model.vision_tower.image_transform(), objective.normaliser_weight
    )
    return dm


def batches(dm: ReverieDataModule):
    return list(dm._loader(dm.train_samples, dm.batch_size, shuffle=False))


def pair_logps(model, batch) -> tuple[torch.Tensor, torch.Tensor]:
    ce = model.token_losses(batch)[0]
    return sequence_logps(-ce, *pair_targets(batch))


@pytest.mark.parametrize("label_smoothing", [0.0, 0.2])
def test_loss_and_rewards_equal_a_hand_computation(label_smoothing):
    beta = 0.5
    pc, pr, rc, rr = [-3.0, -7.5], [-4.0, -2.0], [-3.5, -6.0], [-3.0, -2.5]
    out = sigmoid_dpo_loss(*(torch.tensor(x) for x in (pc, pr, rc, rr)), beta=beta, label_smoothing=label_smoothing)
    for i in range(2):
        d = (pc[i] - pr[i]) - (rc[i] - rr[i])
        logsig = lambda x: -math.log1p(math.exp(-x))  # noqa: E731
        expected = -(1 - label_smoothing) * logsig(beta * d) - label_smoothing * logsig(-beta * d)
        assert out.losses[i].item() == pytest.approx(expected, rel=1e-6)
        assert out.chosen_rewards[i].item() == pytest.approx(beta * (pc[i] - rc[i]))
        assert out.rejected_rewards[i].item() == pytest.approx(beta * (pr[i] - rr[i]))
    # pair 0 prefers the chosen answer more than the reference does (d = 1.5 > 0), pair 1 less (d = -6)
    assert (out.chosen_rewards > out.rejected_rewards).tolist() == [True, False]


def test_loss_and_rewards_equal_trl_on_the_same_sequences(tmp_path, tokenizer):
    """TRL's DPOTrainer computes its loss and rewards on a real tiny Llama; ours, from the same log-probabilities,
    must agree. (TRL 1.16's sigmoid loss has no label smoothing; that case is checked by hand above.)"""
    try:  # not a skip: without TRL this cross-check would silently not run
        import trl  # noqa: F401
    except ImportError:
        pytest.fail("trl is not installed: it is a dev dependency (pip install -e '.[dev]'), the reference DPO")
    from datasets import Dataset
    from trl import DPOConfig, DPOTrainer

    from reverie.models.llm import build_llm

    torch.manual_seed(0)
    config = {"model_type": "llama", "hidden_size": 32, "intermediate_size": 64, "num_hidden_layers": 2}
    config |= {"num_attention_heads": 4, "num_key_value_heads": 2, "max_position_embeddings": 256}
    policy = build_llm(len(tokenizer), config)
    ref = copy.deepcopy(policy)
    with torch.no_grad():
        for p in ref.parameters():
            p.add_(0.05 * torch.randn_like(p))
    data = Dataset.from_dict(
        {
            "prompt": ["What colour is the square?", "Explain why."],
            "chosen": [" red", " green blue"],
            "rejected": [" blue yellow", " wrong"],
        }
    )
    beta = 0.3
    args = DPOConfig(output_dir=str(tmp_path), beta=beta, report_to=[], per_device_train_batch_size=2, use_cpu=True)
    trainer = DPOTrainer(model=policy, ref_model=ref, args=args, processing_class=tokenizer, train_dataset=data)
    batch = next(iter(trainer.get_train_dataloader()))
    trl_loss = trainer._compute_loss(trainer.model, batch, return_outputs=False)
    metrics = {k: v[-1] for k, v in trainer._metrics["train"].items()}

    ids, completion = batch["input_ids"], batch["completion_mask"]
    mask = batch["attention_mask"]

    def token_logps(model):  # next-token log-probabilities of the completion tokens, 0 elsewhere
        with torch.no_grad():
            logits = model(input_ids=ids, attention_mask=mask).logits[:, :-1].float()
        lp = torch.log_softmax(logits, -1).gather(-1, ids[:, 1:, None])[..., 0]
        return lp[completion[:, 1:].bool()]

    n = ids.shape[0] // 2  # TRL's batch is [chosen..., rejected...]
    rows = torch.arange(ids.shape[0])[:, None].expand_as(ids[:, 1:])[completion[:, 1:].bool()]
    side = torch.where(rows < n, CHOSEN, REJECTED)
    pair = rows % n
    out = sigmoid_dpo_loss(
        *sequence_logps(token_logps(policy), side, pair), *sequence_logps(token_logps(ref), side, pair), beta=beta
    )
    assert out.losses.mean().item() == pytest.approx(trl_loss.item(), rel=1e-4)
    assert out.chosen_rewards.mean().item() == pytest.approx(metrics["rewards/chosen"], rel=1e-4, abs=1e-6)
    assert out.rejected_rewards.mean().item() == pytest.approx(metrics["rewards/rejected"], rel=1e-4, abs=1e-6)
    margins = out.chosen_rewards - out.rejected_rewards
    assert margins.mean().item() == pytest.approx(metrics["rewards/margins"], rel=1e-4, abs=1e-6)
    assert (margins > 0).float().mean().item() == pytest.approx(metrics["rewards/accuracies"])


def test_pairs_share_the_image_and_question_and_other_samples_are_counted_out(data_dir, tokenizer, make_lvlm):
    model = make_lvlm()
    dm = pair_data(data_dir, tokenizer, model)
    assert dm.report["left_out_not_preference_pairs"] == {"train": 12, "val": 0}  # the 12 LLaVA conversations
    assert dm.report["pairs"]["train"] == {"pairs": 12, "pair_halves_without_partner": 0, "pairs_too_long": 0}
    records = load_reverie_json(data_dir / "reverie.json", data_dir / "images")
    for pair, record in zip(dm.train_samples, records, strict=True):
        prefix = pair.preference == SHARED
        assert (pair.input_ids[prefix] == model.image_token_id).sum() == model.num_image_tokens
        assert record.question in tokenizer.decode(pair.input_ids[prefix])
        chosen = tokenizer.decode(pair.input_ids[pair.preference == CHOSEN])
        rejected = tokenizer.decode(pair.input_ids[pair.preference == REJECTED])
        assert record.correct_answer in chosen and record.confusing_answer in rejected
        assert record.correct_answer not in rejected and record.confusing_answer not in chosen


def test_reflective_dpo_data_holds_reflective_trees_and_pairs(data_dir, tokenizer, make_lvlm):
    dm = pair_data(data_dir, tokenizer, make_lvlm(), preference="also", llava=False)
    pairs = [s for s in dm.train_samples if s.preference.any()]
    trees = [s for s in dm.train_samples if not s.preference.any()]
    assert len(pairs) == len(trees) == 12 and all(t.is_tree for t in trees)


def test_a_half_without_its_partner_is_counted(data_dir, tokenizer, make_lvlm):
    model = make_lvlm()
    encoder = SampleEncoder(tokenizer, TEMPLATE, model.num_image_tokens, 1024)
    record = load_reverie_json(data_dir / "reverie.json", data_dir / "images")[0]
    chosen, rejected = (encoder.encode(c, EncodeReport()) for c in pair_conversations(record, "<image>\n{question}"))
    with pytest.raises(ValueError, match="not a chosen and a rejected"):
        build_pair(rejected, chosen, model.image_token_id)
    from reverie.data.preference import make_pairs

    out, counts = make_pairs([chosen], model.image_token_id, 1024)
    assert out == [] and counts["pair_halves_without_partner"] == 1


def test_pair_trees_give_the_log_probabilities_of_two_separate_sequences(data_dir, tokenizer, make_lvlm):
    model = make_lvlm(seed=3).eval()
    dm = pair_data(data_dir, tokenizer, model, llava=False)
    encoder = SampleEncoder(tokenizer, TEMPLATE, model.num_image_tokens, 1024)
    records = load_reverie_json(data_dir / "reverie.json", data_dir / "images")
    separate = [
        encoder.encode(c, EncodeReport()) for r in records for c in pair_conversations(r, "<image>\n{question}")
    ]
    dataset, collate = EncodedDataset(separate, model.vision_tower.image_transform()), Collator(tokenizer.pad_token_id)
    with torch.no_grad():
        tree = [torch.stack(pair_logps(model, b), 1) for b in batches(dm)]
        plain_batch = collate([dataset[i] for i in range(len(separate))])
        ce = model.token_losses(plain_batch)[0]
        keep = plain_batch["target_ids"] != -100
        rows = torch.arange(len(separate))[:, None].expand_as(keep)[keep]
        plain = torch.zeros(len(separate)).index_add(0, rows, -ce).view(-1, 2)  # (pairs, [chosen, rejected])
    torch.testing.assert_close(torch.cat(tree), plain, rtol=1e-5, atol=1e-4)
    assert sum(map(len, dm.train_samples)) < 0.8 * sum(map(len, separate))  # the prefix is computed once


def test_a_dpo_step_raises_the_chosen_answer_over_the_rejected_one(data_dir, tokenizer, make_lvlm):
    model = make_lvlm(seed=1)
    dm = pair_data(data_dir, tokenizer, model, llava=False, batch_size=12)
    apply_stage(model, "finetune", train_projector=True, train_llm=True)
    reference = ReferencePolicy(model)
    objective = PreferenceObjective(beta=0.5, pairs="only")
    batch = batches(dm)[0]
    side, pair = pair_targets(batch)
    optimizer = torch.optim.SGD([p for p in model.parameters() if p.requires_grad], lr=0.5)
    with torch.no_grad():
        chosen0, rejected0 = pair_logps(model, batch)
    ce, segments, mult = model.token_losses(batch)
    out = objective(ce, reference.token_losses(model, batch), segments, mult, side, pair, 0.0)
    assert out.pairs == 12 and out.pair_loss.item() == pytest.approx(math.log(2), rel=1e-5)  # policy = reference
    assert out.loss.item() == 0 and out.segment_tokens.sum() > 0  # pure DPO: no token loss; chosen tokens counted
    out.pair_loss.backward()
    optimizer.step()
    with torch.no_grad():
        chosen1, rejected1 = pair_logps(model, batch)
        ref_chosen, ref_rejected = sequence_logps(-reference.token_losses(model, batch), side, pair)
    assert ((chosen1 - rejected1) - (chosen0 - rejected0)).mean() > 0  # the margin grew
    torch.testing.assert_close(ref_chosen, chosen0)  # the reference kept the starting weights
    torch.testing.assert_close(ref_rejected, rejected0)


def test_lora_reference_is_the_adapter_disabled_model_without_a_copy(data_dir, tokenizer, make_lvlm):
    model = make_lvlm(seed=2)
    start = copy.deepcopy(model).eval()
    dm = pair_data(data_dir, tokenizer, model, llava=False)
    lora = {"r": 4, "alpha": 8, "dropout": 0.0, "target_modules": "all-linear"}
    apply_stage(model, "lora", train_projector=True, train_llm=False, lora=lora)
    reference = ReferencePolicy(model)
    assert set(reference.frozen) == {"multi_modal_projector"}  # no second LLM: its base weights never train
    with torch.no_grad():  # "train": adapters and projector move away from the start
        for p in model.parameters():
            if p.requires_grad:
                p.add_(0.1 * torch.randn_like(p))
    batch = batches(dm)[0]
    with torch.no_grad():
        expected = start.token_losses(batch)[0]
        trained = model.token_losses(batch)[0]
        with model.language_model.disable_adapter():
            disabled = model.token_losses(batch)[0]
    got = reference.token_losses(model, batch)
    torch.testing.assert_close(got, expected, rtol=1e-5, atol=1e-5)
    assert not torch.allclose(trained, expected, atol=1e-3)  # the policy did move
    assert not torch.allclose(disabled, expected, atol=1e-3)  # disabling adapters alone keeps the moved projector
    model.train()  # the reference evaluates in eval mode and restores the policy's modes
    reference.token_losses(model, batch)
    assert all(m.training for m in model.modules())


def test_reflective_dpo_adds_the_weighted_dpo_term_to_the_token_loss(data_dir, tokenizer, make_lvlm):
    model = make_lvlm(seed=4)
    dm = pair_data(data_dir, tokenizer, model, preference="also", llava=False, batch_size=24)
    sft = SegmentWeightedLoss({})
    objective = PreferenceObjective(beta=0.2, dpo_weight=0.5, sft=sft, pairs="also")
    batch = batches(dm)[0]
    side, pair = pair_targets(batch)
    with torch.no_grad():
        ce, segments, mult = model.token_losses(batch)
        ref_ce = ce + 0.1 * torch.arange(len(ce)) / len(ce)  # a reference that differs from the policy
        out = objective(ce, ref_ce, segments, mult, side, pair, 0.0)
        plain = side == 0
        expected_sft = sft(ce[plain], segments[plain], 0.0, mult[plain]).loss
        chosen, rejected = sequence_logps(-ce, side, pair)
        ref_chosen, ref_rejected = sequence_logps(-ref_ce, side, pair)
        expected_dpo = sigmoid_dpo_loss(chosen, rejected, ref_chosen, ref_rejected, 0.2).losses.mean()
    assert out.pairs == 12 and plain.any()
    torch.testing.assert_close(out.loss, expected_sft)
    torch.testing.assert_close(out.pair_loss, 0.5 * expected_dpo)
    with pytest.raises(ValueError, match="pairs='only'"):
        PreferenceObjective(sft=sft, pairs="only")
    with pytest.raises(ValueError, match="outside preference pairs"):
        PreferenceObjective(pairs="only")(ce, ref_ce, segments, mult, side, pair, 0.0)


def test_a_dpo_run_logs_rewards_and_puts_their_final_values_in_the_summary(tmp_path, world_options):
    from pathlib import Path

    from hydra import compose, initialize_config_dir

    from reverie.resolvers import register
    from reverie.run import train

    register()
    conf = Path(__file__).resolve().parents[2] / "reverie" / "conf"
    overrides = [
        f"paths.output_dir={tmp_path}",
        "objective=dpo",
        "trainer.max_steps=2",
        "trainer.log_every_n_steps=1",
        "eval=none",
    ]
    with initialize_config_dir(str(conf), version_base="1.3"):
        cfg = compose("config", overrides=[*overrides, *world_options, "data.batch_size=8", "~callbacks"])
    summary = train(cfg)
    keys = {"loss", "rewards/chosen", "rewards/rejected", "rewards/margins", "rewards/accuracy", "pairs"}
    assert keys <= set(summary["preference"]["val"]) and keys <= set(summary["preference"]["train_last_epoch"])
    assert summary["val_loss"] == pytest.approx(summary["preference"]["val"]["loss"])
    assert summary["data"]["left_out_not_preference_pairs"]["train"] > 0  # the world's questions and captions
    logged = (tmp_path / "csv" / "metrics.csv").read_text().splitlines()[0].split(",")
    assert {"train/dpo/rewards/margins", "train/dpo/rewards/accuracy", "val/dpo/rewards/chosen"} <= set(logged)
