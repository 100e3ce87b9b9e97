"""Comparing two profiles: top-concept overlap and rank correlation against hand-computed values."""

import pytest

from reverie.dftg.specificity import compare


def profile(rates: dict[str, float]) -> dict:
    return {
        "concepts": {
            c: {"hallucinations": int(r * 10), "invention_rate": r, "absent_images": 10} for c, r in rates.items()
        }
    }


def test_identical_reversed_and_partial_overlap():
    a = profile({"cup": 0.5, "plate": 0.4, "fork": 0.3, "bee": 0.2, "tree": 0.1})
    assert compare(a, a, top=2) | {"top_a": None, "top_b": None} == {
        "top": 2, "top_a": None, "top_b": None, "top_overlap": 1.0, "top_jaccard": 1.0, "spearman": pytest.approx(1.0),
        "concepts": 5, "key": "invention_rate",
    }  # fmt: skip
    b = profile({"cup": 0.1, "plate": 0.2, "fork": 0.3, "bee": 0.4, "tree": 0.5})
    result = compare(a, b, top=2)
    assert result["spearman"] == pytest.approx(-1.0)
    assert (result["top_a"], result["top_b"], result["top_overlap"]) == (["cup", "plate"], ["tree", "bee"], 0.0)
    c = profile({"cup": 0.5, "plate": 0.1, "fork": 0.4, "bee": 0.2, "tree": 0.3})
    result = compare(a, c, top=3)  # top-3: {cup, plate, fork} vs {cup, fork, tree}
    assert (result["top_overlap"], result["top_jaccard"]) == (pytest.approx(2 / 3), pytest.approx(2 / 4))
    # ranks a: cup 5, plate 4, fork 3, bee 2, tree 1; c: 5, 1, 4, 2, 3; d = 0, 3, -1, 0, -2 -> 1 - 6*14/120 = 0.3
    assert result["spearman"] == pytest.approx(0.3)


def test_too_few_shared_concepts_fail_clearly():
    with pytest.raises(ValueError, match="share only 2"):
        compare(profile({"cup": 0.1, "bee": 0.2}), profile({"cup": 0.1, "bee": 0.3, "tree": 0.1}))
