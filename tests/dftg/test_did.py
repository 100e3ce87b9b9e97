"""The difference in differences of invention rates, on hand-made profiles (numbers worked out by hand)."""

import pytest

from reverie.dftg.did import invention_did, pooled_rate


def profile(rates: dict[str, tuple[int, int]]) -> dict:
    return {"concepts": {c: {"hallucinations": h, "absent_images": a} for c, (h, a) in rates.items()}}


BEFORE = profile({"cup": (20, 100), "fork": (10, 50), "bee": (5, 100), "pen": (15, 100)})
AFTER = profile({"cup": (5, 100), "fork": (5, 50), "bee": (4, 100), "pen": (12, 100)})


def test_pooled_rate_sums_before_dividing():
    assert pooled_rate(BEFORE, ["cup", "fork"]) == pytest.approx(30 / 150)  # not the mean of 0.2 and 0.2 by luck
    assert pooled_rate(profile({"a": (1, 10), "b": (9, 30)}), ["a", "b"]) == pytest.approx(10 / 40)


def test_invention_did_by_hand():
    out = invention_did(BEFORE, AFTER, targeted=["cup", "fork"])
    # targeted: 30/150 = 0.2 -> 10/150 = 0.0667 (change -0.1333); others: 20/200 = 0.1 -> 16/200 = 0.08 (-0.02)
    assert out["targeted/before"] == pytest.approx(0.2) and out["targeted/after"] == pytest.approx(10 / 150)
    assert out["untargeted/before"] == pytest.approx(0.1) and out["untargeted/after"] == pytest.approx(0.08)
    assert out["did"] == pytest.approx((10 / 150 - 0.2) - (0.08 - 0.1))
    assert out["did"] == pytest.approx(-0.11333, abs=1e-5)


def test_an_equal_change_everywhere_gives_no_difference():
    """Every concept's rate 0.05 lower (a general change, not a targeted one): did = 0."""
    lower = profile({c: (e["hallucinations"] - 0.05 * e["absent_images"], e["absent_images"])
                     for c, e in BEFORE["concepts"].items()})  # fmt: skip
    out = invention_did(BEFORE, lower, ["cup", "fork"])
    assert out["targeted/change"] == pytest.approx(-0.05) and out["untargeted/change"] == pytest.approx(-0.05)
    assert out["did"] == pytest.approx(0.0, abs=1e-12)
    assert invention_did(BEFORE, BEFORE, ["cup"])["did"] == 0


@pytest.mark.parametrize(
    ("targeted", "match"), [([], "no targeted"), (["cup", "fork", "bee", "pen"], "every concept"), (["owl"], "owl")]
)
def test_bad_targets_fail_clearly(targeted, match):
    with pytest.raises(ValueError, match=match):
        invention_did(BEFORE, AFTER, targeted)
