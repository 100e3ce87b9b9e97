"""The Lightning DataModule: loads and mixes sources, encodes them once, and serves window-normalised batches.

Two phases, because the tokenizer (and so the LLM's vocabulary) may be trained on the data's own text:
`load(policy)` reads the sources; `bind(...)` encodes them for a given tokenizer, template and vision encoder.
"""

from __future__ import annotations

from collections.abc import Callable

import torch
from lightning.pytorch import LightningDataModule
from torch.utils.data import DataLoader

from reverie.data.conversation import Conversation
from reverie.data.dataset import Collator, EncodedDataset, image_index
from reverie.data.encode import SampleEncoder
from reverie.data.images import ImageCache
from reverie.data.mixture import Source, mix
from reverie.data.preference import make_pairs, side_of
from reverie.data.reflect import ReflectionPolicy
from reverie.data.sample import EncodedSample
from reverie.data.sampler import WindowBatchSampler
from reverie.data.templates import ChatTemplate
from reverie.data.tree import make_trees
from reverie.errors import InputError


class ReverieDataModule(LightningDataModule):
    def __init__(
        self,
        train_sources: list[Source],
        val_sources: list[Source],
        max_length: int = 2048,
        overlength: str = "truncate",
        max_skip_fraction: float = 0.01,
        batch_size: int = 8,
        val_batch_size: int | None = None,
        num_workers: int = 0,
        seed: int = 0,
        trees: bool = False,
        shared_once: bool = False,
        pack_rows: bool = False,
        group_by_length: bool = False,
        tokenizer_corpus: list[str] | None = None,
        image_cache_mb: float = 1024,
    ) -> None:
        super().__init__()
        self.train_sources, self.val_sources = list(train_sources), list(val_sources)
        self.max_length, self.overlength, self.max_skip_fraction = max_length, overlength, max_skip_fraction
        self.batch_size, self.val_batch_size = batch_size, val_batch_size or batch_size
        self.num_workers, self.seed = num_workers, seed
        self.trees, self.shared_once = trees, shared_once  # one sequence per record: shared prefix + branches
        self.pack_rows = pack_rows  # several samples per row up to max_length (block-diagonal attention)
        self.group_by_length = group_by_length  # batches of similar length and the same modality
        self.tokenizer_corpus = list(tokenizer_corpus) if tokenizer_corpus else None  # files a tiny tokenizer learns
        self.image_cache_mb = image_cache_mb  # decoded, transformed images kept in memory (per loader process)
        self.train_convs: list[Conversation] = []
        self.val_convs: list[Conversation] = []
        self.report: dict = {}
        self._train_loader: DataLoader | None = None
        self._resume_skip = 0  # batches of the current epoch a restored checkpoint had already trained

    def load(self, policy: ReflectionPolicy) -> None:
        self.train_convs, train_counts = mix(self.train_sources, policy, self.seed)
        self.val_convs, val_counts = mix(self.val_sources, policy, self.seed)
        if not self.train_convs:
            raise ValueError("the training data is empty (check data.train_sources)")
        self.report["sources"] = {"train": train_counts, "val": val_counts}
        print(f"[reverie] data: train {train_counts}, val {val_counts}")
        if policy.preference != "none":
            self._check_pairs(policy.preference)

    def _check_pairs(self, mode: str) -> None:
        """Preference objectives need pairs; `only` (pure DPO) leaves other samples out, counted and reported."""
        if not any(side_of(c) for c in self.train_convs):
            raise InputError(
                f"reflection.preference={mode!r} (set by the objective) needs REVERIE records, but no source in "
                "data.train_sources gives any (add a reverie.data.mixture.ReverieSource)"
            )
        if mode == "only":
            left_out = {}
            for split in ("train", "val"):
                convs = getattr(self, f"{split}_convs")
                kept = [c for c in convs if side_of(c)]
                left_out[split] = len(convs) - len(kept)
                setattr(self, f"{split}_convs", kept)
            self.report["left_out_not_preference_pairs"] = left_out
            print(f"[reverie] preference pairs only: left out samples that are not pairs: {left_out}")

    def texts(self) -> list[str]:
        """Every training text, for training a tiny tokenizer."""
        return [t.text for c in self.train_convs for t in c.turns]

    def bind(
        self,
        tokenizer,
        template: ChatTemplate,
        num_image_tokens: int,
        image_transform: Callable,
        token_weight: Callable[[EncodedSample], float],
    ) -> None:
        encoder = SampleEncoder(
            tokenizer, template, num_image_tokens, self.max_length, self.overlength, self.max_skip_fraction
        )
        self.train_samples, train_report = encoder.encode_all(self.train_convs, "train data")
        self.val_samples, val_report = encoder.encode_all(self.val_convs, "val data")
        for split, rep in (("train", train_report), ("val", val_report)):
            print(f"[reverie] {split} encoding: {rep.summary()}")
            self.report[split] = {
                "total": rep.total,
                "truncated": rep.truncated,
                "skipped": rep.num_skipped,
                "skipped_ids": {k: v[:20] for k, v in rep.skipped.items()},
            }
        for split in ("train", "val"):
            samples = getattr(self, f"{split}_samples")
            if any(s.preference.any() for s in samples):  # pairs are always one tree: both answers in one row
                samples, counts = make_pairs(samples, encoder.image_token_id, self.max_length)
                self.report.setdefault("pairs", {})[split] = counts
                print(f"[reverie] {split} preference pairs: {counts}")
            if self.trees:
                pairs = [s for s in samples if s.preference.any()]
                samples, counts = make_trees(
                    [s for s in samples if not s.preference.any()],
                    encoder.image_token_id,
                    self.max_length,
                    self.shared_once,
                )
                samples += pairs
                if split == "train":
                    self.report["trees"] = counts
                    print(f"[reverie] shared-prefix trees: {counts}")
            setattr(self, f"{split}_samples", samples)
        self.image_transform = image_transform
        self.images = ImageCache(image_transform, int(self.image_cache_mb * 2**20))
        self.image_index = image_index(self.train_samples, self.val_samples)
        self.token_weight = token_weight
        self.collator = Collator(tokenizer.pad_token_id)

    def _loader(self, samples: list[EncodedSample], batch_size: int, shuffle: bool) -> DataLoader:
        trainer = self.trainer
        sampler = WindowBatchSampler(
            [self.token_weight(s) for s in samples],
            batch_size=batch_size,
            accumulate_grad_batches=trainer.accumulate_grad_batches if (trainer and shuffle) else 1,
            num_replicas=trainer.world_size if trainer else 1,
            rank=trainer.global_rank if trainer else 0,
            shuffle=shuffle,
            seed=self.seed,
            lengths=[len(s) for s in samples],
            has_image=[s.image is not None for s in samples],
            pack_length=self.max_length if self.pack_rows else 0,
            group_by_length=self.group_by_length and shuffle,
            even_ranks=shuffle,  # validation counts every sample exactly once
        )
        return DataLoader(
            EncodedDataset(samples, self.images, self.image_index),
            batch_sampler=sampler,
            collate_fn=self.collator,
            num_workers=self.num_workers,
            persistent_workers=self.num_workers > 0,
            generator=torch.Generator().manual_seed(self.seed),
        )

    def train_dataloader(self) -> DataLoader:
        self._train_loader = self._loader(self.train_samples, self.batch_size, shuffle=True)
        self._apply_resume_skip()
        return self._train_loader

    # Mid-epoch resume: Lightning stores this in every checkpoint and hands it back on restore. The sampler's order
    # is a function of (seed, epoch), so skipping the batches already trained continues exactly where the run was.
    def state_dict(self) -> dict:
        progress = self.trainer.fit_loop.epoch_loop.batch_progress.current if self.trainer else None
        return {"batches_done": int(progress.processed) if progress else 0}

    def load_state_dict(self, state: dict) -> None:
        self._resume_skip = int(state.get("batches_done", 0))
        if self._train_loader is not None:  # already built (Lightning may build it before restoring)
            self._apply_resume_skip()

    def _apply_resume_skip(self) -> None:
        sampler = self._train_loader.batch_sampler
        sampler.skip_batches = self._resume_skip if self._resume_skip < len(sampler) else 0  # end of epoch: none
        self._resume_skip = 0

    def val_dataloader(self) -> DataLoader:
        return self._loader(self.val_samples, self.val_batch_size, shuffle=False)
