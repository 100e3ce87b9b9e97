"""Sends a step's requests: cache first, then batches of ``backend.batch_size`` with ``backend.concurrency`` in
flight, each reply parsed at once and asked again (up to ``max_attempts``) when malformed; every finished request
goes to the cache before the next is counted, with a progress bar per step."""

from __future__ import annotations

from collections.abc import Callable
from concurrent.futures import FIRST_COMPLETED, Future, ThreadPoolExecutor, wait
from dataclasses import dataclass
from pathlib import Path
from typing import Any

from tqdm import tqdm

from reverie.annotate.backends.base import Backend, Request, TransientError
from reverie.annotate.cache import Cache, file_sha256, request_key
from reverie.annotate.parse import MalformedReply
from reverie.annotate.stats import Stats
from reverie.errors import InputError


@dataclass
class Job:
    """A request and how to read its reply (raises MalformedReply when it cannot)."""

    request: Request
    parse: Callable[[str], Any]


@dataclass
class Outcome:
    """A finished job: its value, or why it failed; the last raw reply either way."""

    value: Any = None
    error: str | None = None
    reply: str | None = None

    @property
    def ok(self) -> bool:
        return self.error is None


class Runner:
    """Runs jobs through one backend with a cache (None: nothing cached, e.g. the world build in memory)."""

    def __init__(
        self,
        backend: Backend,
        stats: Stats,
        cache: Cache | None = None,
        max_attempts: int = 3,
        retry_failed: bool = False,
        progress: bool = False,
    ) -> None:
        if max_attempts < 1:
            raise InputError(f"max_attempts must be >= 1, got {max_attempts}")
        self.backend, self.stats, self.cache = backend, stats, cache
        self.max_attempts, self.retry_failed, self.progress = max_attempts, retry_failed, progress
        self._image_sha: dict[Path, str] = {}

    def run(self, step: str, jobs: list[Job]) -> list[Outcome]:
        """One outcome per job, in order."""
        outcomes: list[Outcome | None] = [None] * len(jobs)
        keys = [self._key(job.request) for job in jobs]
        bar = tqdm(total=len(jobs), desc=step, unit="req") if self.progress else None
        pending = []
        for i, job in enumerate(jobs):
            outcomes[i] = self._cached(job, keys[i])
            if outcomes[i] is None:
                pending.append(i)
            else:
                self.stats.add(cached=(step, 1))
                if not outcomes[i].ok:
                    self.stats.add(failures=(step, 1))
                if bar is not None:
                    bar.update(1)
        size = max(1, self.backend.batch_size)
        batches = [pending[s : s + size] for s in range(0, len(pending), size)]

        def finish(batch: list[int], results: list[Outcome]) -> None:
            for i, outcome in zip(batch, results, strict=True):
                outcomes[i] = outcome
            if bar is not None:
                bar.update(len(batch))

        try:
            if self.backend.concurrency <= 1 or len(batches) <= 1:
                for batch in batches:
                    finish(batch, self._batch(step, [jobs[i] for i in batch], [keys[i] for i in batch]))
            else:
                self._concurrent(step, jobs, keys, batches, finish)
        finally:
            if bar is not None:
                bar.close()
        return outcomes  # type: ignore[return-value]

    def _concurrent(self, step, jobs, keys, batches, finish) -> None:
        pool = ThreadPoolExecutor(max_workers=self.backend.concurrency)
        futures: dict[Future, list[int]] = {}
        try:
            for batch in batches:
                futures[pool.submit(self._batch, step, [jobs[i] for i in batch], [keys[i] for i in batch])] = batch
            remaining = set(futures)
            while remaining:
                done, remaining = wait(remaining, return_when=FIRST_COMPLETED)
                for future in done:
                    finish(futures[future], future.result())  # a fatal error stops the step here
        finally:
            pool.shutdown(wait=True, cancel_futures=True)

    def _key(self, request: Request) -> str:
        if self.cache is None:
            return ""
        image_sha = None
        if request.image is not None:
            if request.image not in self._image_sha:
                self._image_sha[request.image] = file_sha256(request.image)
            image_sha = self._image_sha[request.image]
        model = self.backend.model_for(request.step)
        return request_key(
            request.step, request.fields.get("image"), image_sha, request.prompt, model, self.backend.settings
        )

    def _cached(self, job: Job, key: str) -> Outcome | None:
        entry = self.cache.get(key) if self.cache is not None else None
        if entry is None:
            return None
        if entry["status"] == "failed":
            if self.retry_failed:
                return None
            return Outcome(error=f"{entry['error']} (cached; retry_failed=true sends it again)", reply=entry["reply"])
        try:
            return Outcome(value=job.parse(entry["reply"]), reply=entry["reply"])
        except MalformedReply:
            return None  # the reader has become stricter since: ask again

    def _batch(self, step: str, jobs: list[Job], keys: list[str]) -> list[Outcome]:
        results: list[Outcome | None] = [None] * len(jobs)
        errors: dict[int, str] = {}
        last: dict[int, Any] = {}
        for attempt in range(self.max_attempts):
            todo = [i for i in range(len(jobs)) if results[i] is None]
            if not todo:
                break
            if attempt:
                self.stats.add(malformed_retries=len(todo))
            try:
                replies = self.backend.complete([jobs[i].request for i in todo])
            except TransientError as err:  # not cached: the next run sends these again
                self.stats.add(calls=(step, len(todo)), sent=len(todo) * (1 + err.retries))
                self.stats.add(transport_retries=len(todo) * err.retries, failures=(step, len(todo)))
                for i in todo:
                    results[i] = Outcome(error=f"transport: {err}", reply=last[i].text if i in last else None)
                return results  # type: ignore[return-value]
            for i, reply in zip(todo, replies, strict=True):
                last[i] = reply
                self.stats.add(calls=(step, 1), sent=1 + reply.retries, transport_retries=reply.retries)
                self.stats.add_usage(reply.tokens_in, reply.tokens_out)
                try:
                    results[i] = Outcome(value=jobs[i].parse(reply.text), reply=reply.text)
                except MalformedReply as err:
                    errors[i] = str(err)
                    continue
                self._store(keys[i], jobs[i].request, reply, attempt + 1, None)
        for i in range(len(jobs)):
            if results[i] is None:
                error = f"malformed after {self.max_attempts} attempt(s): {errors[i]}"
                results[i] = Outcome(error=error, reply=last[i].text)
                self.stats.add(failures=(step, 1))
                self._store(keys[i], jobs[i].request, last[i], self.max_attempts, error)
        return results  # type: ignore[return-value]

    def _store(self, key: str, request: Request, reply: Any, attempts: int, error: str | None) -> None:
        if self.cache is None:
            return
        self.cache.put(
            {
                "key": key,
                "step": request.step,
                "image": request.fields.get("image"),
                "status": "failed" if error else "ok",
                "error": error,
                "reply": reply.text,
                "model": self.backend.model_for(request.step),
                "attempts": attempts,
                "tokens_in": reply.tokens_in,
                "tokens_out": reply.tokens_out,
                "response_id": reply.response_id,
            }
        )
