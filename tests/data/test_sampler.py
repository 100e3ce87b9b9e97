"""The batch sampler yields every index exactly once per epoch (mixed or single modality, packed or not, any number
of ranks), is seeded, carries the window normaliser, and resumes mid-epoch on exactly the unseen batches."""

import itertools

import numpy as np
import pytest

from reverie.data.sampler import WindowBatchSampler, first_fit

N = 103
LENGTHS = np.random.default_rng(0).integers(5, 60, N)
WEIGHTS = LENGTHS / 3.0


def make(**kw) -> WindowBatchSampler:
    return WindowBatchSampler(WEIGHTS, batch_size=kw.pop("batch_size", 4), lengths=LENGTHS, **kw)


def indices(batches) -> list[int]:
    return [i for batch in batches for row, _ in batch for i in row]


@pytest.mark.parametrize("images", ["mixed", "all", "none"])
@pytest.mark.parametrize(("pack", "group"), [(0, False), (0, True), (80, False), (80, True)])
def test_every_index_once_per_epoch(images, pack, group):
    has_image = {"mixed": np.arange(N) % 3 == 0, "all": np.ones(N, bool), "none": np.zeros(N, bool)}[images]
    s = make(has_image=has_image, pack_length=pack, group_by_length=group, seed=5)
    for epoch in range(2):
        s.set_epoch(epoch)
        assert sorted(indices(s)) == list(range(N))
        assert len(list(s)) == len(s)
    if pack:
        assert all(LENGTHS[list(row)].sum() <= pack for batch in s for row, _ in batch)


def test_ranks_partition_the_epoch_and_share_window_norms():
    samplers = [make(num_replicas=3, rank=r, accumulate_grad_batches=2, seed=1) for r in range(3)]
    per_rank = [list(s) for s in samplers]
    assert len({len(b) for b in per_rank}) == 1  # same number of steps on every rank
    seen = indices(itertools.chain(*per_rank))
    assert set(seen) == set(range(N)) and len(seen) - N < 3 * 4  # only the padding batches repeat
    for step in range(0, len(per_rank[0]), 2):  # one optimizer step = 2 micro-batches x 3 ranks
        window = [b for r in range(3) for b in per_rank[r][step : step + 2]]
        norms = {norm for b in window for _, norm in b}
        assert len(norms) == 1
        assert norms.pop() == pytest.approx(WEIGHTS[indices(window)].sum())


@pytest.mark.parametrize("group", [False, True])
def test_two_ranks_see_the_global_batches_of_one_process_accumulating_two(group):
    one = list(make(accumulate_grad_batches=2, group_by_length=group, seed=3, megabatch=5))
    ranks = [list(make(num_replicas=2, rank=r, group_by_length=group, seed=3, megabatch=5)) for r in range(2)]
    steps_one = [sorted(indices(one[i : i + 2])) for i in range(0, len(one), 2)]
    steps_two = [sorted(indices([a, b])) for a, b in zip(*ranks, strict=True)]
    assert steps_one == steps_two


def test_seeded_and_epoch_dependent():
    a, b = make(seed=3), make(seed=3)
    assert indices(a) == indices(b)
    b.set_epoch(1)
    assert indices(a) != indices(b)
    assert indices(make(seed=4)) != indices(a)


def test_skip_batches_resumes_on_unseen_batches():
    full = list(make(seed=2, accumulate_grad_batches=3))
    resumed = make(seed=2, accumulate_grad_batches=3)
    resumed.skip_batches = 7
    assert len(resumed) == len(full)  # Lightning counts the epoch's batches, the skipped ones included
    assert list(resumed) == full[7:]  # same batches, same window normalisers
    assert list(resumed) == full  # the skip applies to one epoch only


def test_first_fit_rejects_oversized_samples():
    with pytest.raises(ValueError, match="sample 1 has 50 tokens, more than the packing length 40"):
        first_fit([0, 1], np.array([10, 50]), 40)


def test_evaluation_sharding_counts_every_sample_once():
    samplers = [make(num_replicas=3, rank=r, shuffle=False, even_ranks=False) for r in range(3)]
    seen = indices(itertools.chain(*(list(s) for s in samplers)))
    assert sorted(seen) == list(range(N))
    assert sum(len(s) for s in samplers) == -(-N // 4)
