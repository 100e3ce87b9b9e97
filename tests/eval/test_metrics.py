"""Metrics against hand computations, and their states summing like DDP ranks would."""

from __future__ import annotations

import math

import pytest
import torch

from reverie.eval.metrics import (
    ChairMetrics,
    MMEMetrics,
    MultipleChoiceAccuracy,
    PopeMetrics,
    encode_yes_no,
    mme_category,
    wilson_interval,
)

# Ground truth: 4 yes, 6 no (ground-truth yes-ratio 0.4). Predictions: 5 yes, 3 no, 2 unknown (predicted yes-ratio 0.5).
POPE_LABELS = ["yes", "yes", "yes", "yes", "no", "no", "no", "no", "no", "no"]
POPE_PREDS = ["yes", "yes", "no", "unknown", "yes", "yes", "yes", "no", "no", "unknown"]


def pope_by_hand() -> dict[str, float]:
    tp, fn, unknown_pos, fp, tn, unknown_neg = 2, 1, 1, 3, 2, 1
    precision = tp / (tp + fp)  # 0.4
    recall = tp / (tp + fn + unknown_pos)  # 0.5: an unknown on a yes question is a miss
    return {
        "accuracy": (tp + tn) / 10,
        "precision": precision,
        "recall": recall,
        "f1": 2 * precision * recall / (precision + recall),
        "yes_ratio": (tp + fp) / 10,
        "false_yes_rate": fp / (fp + tn + unknown_neg),  # absent objects called present
        "unknown": unknown_pos + unknown_neg,
        "tp": tp,
        "fp": fp,
        "tn": tn,
        "fn": fn,
    }


def test_encode_yes_no() -> None:
    assert encode_yes_no(["yes", "no", "unknown", "maybe"]).tolist() == [1, 0, -1, -1]


def test_pope_matches_hand_computation_and_yes_ratio_is_from_predictions() -> None:
    metric = PopeMetrics()
    metric.update(encode_yes_no(POPE_PREDS), encode_yes_no(POPE_LABELS))
    result = {key: value.item() for key, value in metric.compute().items()}
    for key, expected in pope_by_hand().items():
        assert result[key] == pytest.approx(expected), key
    assert result["yes_ratio"] == pytest.approx(0.5)  # not the ground truth's 0.4
    assert result["total"] == 10


def test_pope_with_no_questions_is_zero_not_nan() -> None:
    with pytest.warns(UserWarning, match="before the ``update``"):
        result = PopeMetrics().compute()
    assert all(value.item() == 0 for value in result.values())


def test_pope_states_sum_across_ranks() -> None:
    preds, labels = encode_yes_no(POPE_PREDS), encode_yes_no(POPE_LABELS)
    rank0, rank1 = PopeMetrics(), PopeMetrics()
    rank0.update(preds[:3], labels[:3])
    rank1.update(preds[3:], labels[3:])
    rank0.merge_state(rank1)
    assert rank0.compute()["f1"].item() == pytest.approx(pope_by_hand()["f1"])


def test_wilson_interval_matches_the_textbook_values() -> None:
    low, high = wilson_interval(torch.tensor(80), torch.tensor(100))
    assert (low.item(), high.item()) == pytest.approx((0.7112, 0.8666), abs=1e-4)  # 80 of 100
    low, high = wilson_interval(torch.tensor(0), torch.tensor(20))
    assert low.item() == pytest.approx(0.0, abs=1e-7) and high.item() == pytest.approx(0.1611, abs=1e-4)


def test_pope_intervals_contain_the_figure_and_narrow_with_more_questions() -> None:
    def widths(repeat: int) -> dict[str, float]:
        metric = PopeMetrics()
        metric.update(encode_yes_no(POPE_PREDS * repeat), encode_yes_no(POPE_LABELS * repeat))
        result = {key: value.item() for key, value in metric.compute().items()}
        for figure in ("accuracy", "f1", "yes_ratio", "false_yes_rate"):
            assert result[f"{figure}_ci_low"] <= result[figure] <= result[f"{figure}_ci_high"], figure
        assert metric.compute()["f1_ci_low"].item() == result["f1_ci_low"]  # seeded: the same answers, same interval
        return {f: result[f"{f}_ci_high"] - result[f"{f}_ci_low"] for f in ("accuracy", "f1", "false_yes_rate")}

    small, large = widths(10), widths(100)  # 100 and 1,000 questions: about sqrt(10) narrower
    for figure, width in large.items():
        assert 2.0 < small[figure] / width < 4.5, (figure, small[figure], width)
    assert 0.04 < large["accuracy"] < 0.08  # about 2 x 1.96 x sqrt(0.4 x 0.6 / 1000) = 0.061


def mme_metric() -> MMEMetrics:
    # images: 0, 1 existence; 2 count; 3 commonsense_reasoning; 4 a subtask in neither official list
    return MMEMetrics(["existence", "count", "commonsense_reasoning", "my_subtask"], [0, 0, 1, 2, 3])


MME_PREDS = torch.tensor([1, 0, 1, -1, 0, 1, 1, 0, 1, 0])
MME_LABELS = torch.tensor([1, 0, 1, 0, 1, 0, 1, 0, 1, 0])
MME_IMAGES = torch.tensor([0, 0, 1, 1, 2, 2, 3, 3, 4, 4])


def test_mme_acc_plus_scores_and_labelled_totals() -> None:
    metric = mme_metric()
    metric.update(MME_PREDS, MME_LABELS, MME_IMAGES)
    result = {key: value.item() for key, value in metric.compute().items()}
    # existence: image 0 both right, image 1 one right -> acc 3/4, acc+ 1/2, score 125
    assert result["existence/acc"] == pytest.approx(0.75)
    assert result["existence/acc_plus"] == pytest.approx(0.5)
    assert result["existence/score"] == pytest.approx(125.0)
    assert result["count/score"] == pytest.approx(0.0)
    assert result["commonsense_reasoning/score"] == pytest.approx(200.0)
    assert result["my_subtask/score"] == pytest.approx(200.0)
    assert result["perception_score"] == pytest.approx(125.0)
    assert result["perception_subtasks"] == 2
    assert result["cognition_score"] == pytest.approx(200.0)
    assert result["cognition_subtasks"] == 1
    assert result["total_score"] == pytest.approx(325.0)  # my_subtask is in neither total
    assert result["unknown"] == 1


def test_mme_pair_split_across_ranks_still_counts_as_one_image() -> None:
    rank0, rank1 = mme_metric(), mme_metric()
    rank0.update(MME_PREDS[::2], MME_LABELS[::2], MME_IMAGES[::2])
    rank1.update(MME_PREDS[1::2], MME_LABELS[1::2], MME_IMAGES[1::2])
    rank0.merge_state(rank1)
    assert rank0.compute()["existence/acc_plus"].item() == pytest.approx(0.5)


def test_mme_categories_follow_official_lists() -> None:
    assert mme_category("OCR") == mme_category("ocr") == "perception"
    assert mme_category("code_reasoning") == "cognition"
    assert mme_category("shapes") is None


def test_circular_multiple_choice() -> None:
    metric = MultipleChoiceAccuracy(num_groups=2)
    # question 0 asked in 3 rotations, all right; question 1 in 2 rotations, one wrong, one unknown
    metric.update(torch.tensor([0, 2, 1, 1, -1]), torch.tensor([0, 2, 1, 1, 0]), torch.tensor([0, 0, 0, 1, 1]))
    result = {key: value.item() for key, value in metric.compute().items()}
    assert result["accuracy"] == pytest.approx(4 / 5)
    assert result["circular_accuracy"] == pytest.approx(1 / 2)
    assert (result["questions"], result["groups"], result["unknown"]) == (5, 2, 1)


def test_chair_metrics() -> None:
    metric = ChairMetrics()
    # per caption: mentions, hallucinated mentions, ground-truth objects, ground-truth objects mentioned
    metric.update(torch.tensor([4, 2, 0]), torch.tensor([1, 0, 0]), torch.tensor([3, 2, 2]), torch.tensor([2, 2, 0]))
    result = {key: value.item() for key, value in metric.compute().items()}
    assert result["chair_s"] == pytest.approx(1 / 3)
    assert result["chair_i"] == pytest.approx(1 / 6)
    assert result["recall"] == pytest.approx(4 / 7)


def test_chair_of_captions_that_name_no_object_is_undefined_not_perfect() -> None:
    """A model that names nothing has no CHAIR_i (NaN), not a perfect 0; nor co-occurrence shares without any
    hallucinated object. The ratios that are defined stay numbers."""
    metric = ChairMetrics()
    metric.update(torch.tensor([0, 0]), torch.tensor([0, 0]), torch.tensor([2, 1]), torch.tensor([0, 0]))
    result = {key: value.item() for key, value in metric.compute().items()}
    assert (
        math.isnan(result["chair_i"]) and math.isnan(result["cooccur_share"]) and math.isnan(result["cooccur_chance"])
    )
    assert (result["chair_s"], result["recall"], result["mentions"]) == (0.0, 0.0, 0)
