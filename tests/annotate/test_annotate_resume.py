"""A run killed with SIGKILL mid-run resumes without sending any finished request again (counted at the server),
and ends with the same records as an uninterrupted run."""

from __future__ import annotations

import json
import os
import signal
import subprocess
import sys
import time
from pathlib import Path

from scripted import KEY, good, make_images

from reverie.annotate.cache import Cache

NAMES = [f"img{i}.png" for i in range(6)]  # 6 QA + 18 positive + 18 negative + 18 judge = 60 requests


def slow(step, image, prompt, attempt):
    return ("slow", 0.1, good(step, image, prompt))


def command(images: Path, out: Path, url: str) -> list[str]:
    return [sys.executable, "-m", "reverie.annotate", f"images={images}", f"out={out}", f"annotator.base_url={url}",
            "annotator.model=stub-vlm", "annotator.api_key_env=REVERIE_TEST_KEY", "annotator.concurrency=2",
            "progress=false"]  # fmt: skip


def test_a_killed_run_resumes_without_resending_finished_requests(tmp_path: Path, stub_factory) -> None:
    images = make_images(tmp_path / "images", NAMES)
    stub = stub_factory(images, slow)
    out, cache = tmp_path / "out", tmp_path / "out" / "cache.jsonl"
    env = {**os.environ, "REVERIE_TEST_KEY": KEY}
    proc = subprocess.Popen(command(images, out, stub.url), env=env, stdout=subprocess.PIPE, stderr=subprocess.PIPE)
    deadline = time.monotonic() + 120
    while not (cache.is_file() and len(cache.read_text().splitlines()) >= 16):  # past step 1, inside step 2
        assert proc.poll() is None and time.monotonic() < deadline, "the run ended before it could be killed"
        time.sleep(0.02)
    proc.send_signal(signal.SIGKILL)
    proc.communicate(timeout=60)
    assert proc.returncode == -signal.SIGKILL
    assert not (out / "reverie.json").exists()

    finished = Cache(cache).entries.values()
    first_run = _settled(stub.seen)  # requests the killed run sent may still be reaching the (threaded) server
    assert 16 <= len(finished) < 60 and first_run >= len(finished)
    by_response = {s.response_id: s.identity for s in stub.seen}
    finished_identities = {by_response[e["response_id"]] for e in finished}
    assert len(finished_identities) == len(finished)

    done = subprocess.run(command(images, out, stub.url), env=env, capture_output=True, text=True, timeout=300)
    assert done.returncode == 0, done.stderr[-3000:]
    resumed = stub.seen[first_run:]
    assert not {s.identity for s in resumed} & finished_identities  # nothing finished was sent again
    assert len(resumed) == 60 - len(finished)  # and everything else exactly once
    summary = json.loads((out / "summary.json").read_text())
    assert summary["requests"]["sent"] == len(resumed)
    assert sum(summary["requests"]["cached"].values()) == len(finished)
    records = json.loads((out / "reverie.json").read_text())
    assert len(records) == 18 and [r["id"] for r in records[:3]] == ["img0-r0", "img0-r1", "img0-r2"]


def _settled(seen: list, quiet: float = 0.5, limit: float = 10.0) -> int:
    """len(seen) once it has not grown for `quiet` seconds."""
    deadline, count = time.monotonic() + limit, len(seen)
    while time.monotonic() < deadline:
        time.sleep(quiet)
        if len(seen) == count:
            return count
        count = len(seen)
    return count


def test_a_torn_last_cache_line_is_skipped_and_the_next_entry_starts_a_new_line(tmp_path: Path) -> None:
    path = tmp_path / "cache.jsonl"
    path.write_text(json.dumps({"key": "a", "status": "ok", "reply": "x"}) + "\n" + '{"key": "b", "sta')
    cache = Cache(path)
    assert set(cache.entries) == {"a"} and cache.torn_lines == 1
    cache.put({"key": "c", "status": "ok", "reply": "y"})
    cache.close()
    again = Cache(path)
    assert set(again.entries) == {"a", "c"} and again.torn_lines == 1
    again.close()
