"""EncodedSample: one training sequence, either plain or a shared-prefix tree of several conversations.

Besides token-aligned `labels`/`segment_ids`, every sample carries next-token *targets* at the position that
predicts them (`target_ids[t]` is what position t must predict) with a multiplicity, plus `position_ids` and
`branch_ids`. For a plain sample these are the usual shift-by-one, positions 0..T-1 and branch 0; a tree
(`reverie.data.tree`) sets them so that each branch computes exactly what its separate sample would.
"""

from __future__ import annotations

from dataclasses import dataclass, field

import numpy as np

IGNORE_INDEX = -100


@dataclass
class EncodedSample:
    id: str
    input_ids: np.ndarray  # int64 (T,)
    labels: np.ndarray  # int64 (T,), token-aligned, IGNORE_INDEX where unsupervised
    segment_ids: np.ndarray  # int64 (T,), a Segment value per token
    image: str | None
    target_ids: np.ndarray = field(default=None)  # int64 (T,): token predicted at each position, or IGNORE_INDEX
    target_segments: np.ndarray = field(default=None)  # int64 (T,): segment of that target
    target_mult: np.ndarray = field(default=None)  # float32 (T,): how many sequences the target stands for
    position_ids: np.ndarray = field(default=None)  # int64 (T,)
    branch_ids: np.ndarray = field(default=None)  # int64 (T,): 0 = shared prefix (or plain), k = k-th branch
    preference: np.ndarray = field(default=None)  # int64 (T,): 0 = not a preference pair (reverie.data.preference)
    members: tuple[str, ...] = ()  # ids of the conversations a tree holds
    origin: str = ""  # the source record ("file#index"); samples of one record share it
    ref_logps: np.ndarray = field(default=None)  # float32 (T,): DPO reference log-prob per target (precomputed), else 0

    def __post_init__(self) -> None:
        n = len(self.input_ids)
        if self.target_ids is None:  # plain sample: the usual shift by one
            self.target_ids = np.append(self.labels[1:], IGNORE_INDEX).astype(np.int64)
            self.target_segments = np.append(self.segment_ids[1:], 0).astype(np.int64)
            self.target_mult = (self.target_ids != IGNORE_INDEX).astype(np.float32)
        if self.position_ids is None:
            self.position_ids = np.arange(n, dtype=np.int64)
        if self.branch_ids is None:
            self.branch_ids = np.zeros(n, dtype=np.int64)
        if self.preference is None:
            self.preference = np.zeros(n, dtype=np.int64)
        if self.ref_logps is None:
            self.ref_logps = np.zeros(n, dtype=np.float32)

    def __len__(self) -> int:
        return len(self.input_ids)

    @property
    def is_tree(self) -> bool:
        return bool(self.branch_ids.any())
