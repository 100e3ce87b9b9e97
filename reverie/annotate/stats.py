"""Counters of one annotation run (requests, retries, failures, tokens, drops), safe to update from threads."""

from __future__ import annotations

import threading
from collections import Counter
from typing import Any


class Stats:
    """What a run did, per step where it matters; ``summary()`` is what summary.json and the console show."""

    def __init__(self) -> None:
        self._lock = threading.Lock()
        self.calls: Counter[str] = Counter()  # requests made to the backend this run (malformed retries included)
        self.sent = 0  # requests that reached the transport: calls plus transport retries (what a server counts)
        self.cached: Counter[str] = Counter()  # requests answered from the cache (not sent)
        self.transport_retries = 0  # retries on 429, 5xx, timeouts, connection errors
        self.malformed_retries = 0  # requests asked again because the reply could not be read
        self.failures: Counter[str] = Counter()  # requests that failed for good (transport or malformed)
        self.tokens_in = 0
        self.tokens_out = 0
        self.usage_reported = False  # whether any reply carried token counts
        self.drops: Counter[str] = Counter()  # QA pairs dropped, by rule (see rules.RULES)
        self.short_replies = 0  # QA replies with fewer questions than asked (kept when accept_fewer)

    def add(self, **counts: Any) -> None:
        """Add to counters by name; a Counter field takes a (step, n) pair."""
        with self._lock:
            for name, value in counts.items():
                field = getattr(self, name)
                if isinstance(field, Counter):
                    key, n = value
                    field[key] += n
                else:
                    setattr(self, name, field + value)

    def add_usage(self, tokens_in: int | None, tokens_out: int | None) -> None:
        with self._lock:
            if tokens_in is not None or tokens_out is not None:
                self.usage_reported = True
            self.tokens_in += tokens_in or 0
            self.tokens_out += tokens_out or 0

    def summary(self) -> dict[str, Any]:
        return {
            "requests": {
                "calls": dict(self.calls),
                "sent": self.sent,
                "cached": dict(self.cached),
                "retries": {"transport": self.transport_retries, "malformed": self.malformed_retries},
                "failures": dict(self.failures),
            },
            "tokens": {"in": self.tokens_in, "out": self.tokens_out} if self.usage_reported else None,
            "short_replies": self.short_replies,
            "drops": dict(self.drops),
        }
