"""The openai backend against a real local OpenAI-compatible server with scripted faults: retries, repairs, counted
failures and drops, usage, a rerun that sends nothing, the key kept out of every output, and a refused key."""

from __future__ import annotations

import json
import os
import subprocess
import sys
from pathlib import Path

import pytest
from scripted import KEY, field, good, make_images, qa_items, question_image

from reverie.annotate.backends.openai_chat import OpenAIChat
from reverie.annotate.job import run_job
from reverie.annotate.pipeline import PipelineSettings
from reverie.annotate.prompts import Prompts
from reverie.data.mixture import ReverieSource
from reverie.data.reflect import ReflectionPolicy
from reverie.data.sources import load_reverie_json

IMAGES = ["broken.png", "error.png", "fenced.png", "judge.png", "never.png", "plain.png", "rate.png", "rules.png",
          "slow.png", "toomany.png"]  # fmt: skip


def faulty(step: str, image: str | None, prompt: str, attempt: int):
    """Good replies, except the scripted faults named by the image."""
    about = image or question_image(prompt)
    q = field(prompt, "Question")[-4:-2] if step != "qa" else None  # "q0", "q1", "q2"
    if step == "qa":
        if about == "rate.png" and attempt == 0:
            return ("status", 429)
        if about == "error.png" and attempt == 0:
            return ("status", 500)
        if about == "slow.png" and attempt == 0:
            return ("slow", 2.0, good(step, image, prompt))  # past the 0.5 s timeout: retried
        if about == "broken.png" and attempt == 0:
            return ("ok", '[{"question": "Which colour fills broken.png (q0)?", "correct_answer": ')
        if about == "never.png":
            return ("ok", "I am sorry, I cannot help with that image.")
        if about == "toomany.png" and attempt == 0:
            return ("ok", json.dumps(qa_items(about, 4)))
        if about == "fenced.png":  # prose around a fenced block, the paper's numbered key spelling
            items = [{"question1": i["question"], "correct answer1": i["correct_answer"],
                      "confusing answer1": i["confusing_answer"]} for i in qa_items(about)]  # fmt: skip
            return ("ok", f"Sure! Here they are:\n```json\n{json.dumps(items, indent=1)}\n```\nHope this helps.")
        if about == "rules.png":
            items = qa_items(about)
            items[0]["confusing_answer"] = "Colour0."  # equal to the correct answer once normalised
            items[1]["confusing_answer"] = ""  # missing
            return ("ok", json.dumps(items))
    if step == "positive" and about == "error.png" and q == "q0" and attempt == 0:
        return ("status", 500)
    if step == "positive" and about == "rules.png" and q == "q2":
        return ("ok", "colour2")  # only repeats the answer
    if step == "negative" and about == "judge.png" and q == "q0":
        return ("ok", "   ")
    if step == "judge" and about == "judge.png":
        return ("ok", "Yes, they contradict each other.") if q == "q1" else ("ok", "**No**")
    return ("ok", good(step, image, prompt))


def run_cli(images: Path, out: Path, url: str, *extra: str) -> subprocess.CompletedProcess:
    cmd = [sys.executable, "-m", "reverie.annotate", f"images={images}", f"out={out}", f"annotator.base_url={url}",
           "annotator.model=stub-vlm", "annotator.api_key_env=REVERIE_TEST_KEY", "annotator.timeout_s=0.5",
           "annotator.concurrency=4", *extra]  # fmt: skip
    env = {**os.environ, "REVERIE_TEST_KEY": KEY}
    return subprocess.run(cmd, env=env, capture_output=True, text=True, timeout=300)


def test_faults_are_retried_repaired_counted_and_the_key_stays_secret(tmp_path: Path, stub_factory) -> None:
    images = make_images(tmp_path / "images", IMAGES)
    stub = stub_factory(images, faulty)
    out = tmp_path / "out"
    done = run_cli(images, out, stub.url)
    assert done.returncode == 0, done.stderr[-3000:]
    assert done.stdout.strip().splitlines()[-1] == str((out / "reverie.json").resolve())
    assert stub.seen and all(s.authorized for s in stub.seen)  # the key really went to the server

    summary = json.loads((out / "summary.json").read_text())
    requests = summary["requests"]
    assert requests["sent"] == len(stub.seen)  # every request the server saw is accounted for
    assert requests["retries"] == {"transport": 4, "malformed": 4}  # 429, 500 x2, timeout | broken, never x2, toomany
    assert requests["failures"] == {"qa": 1}  # never.png: malformed 3 times
    assert sum(1 for s in stub.seen if s.image == "never.png") == 3
    assert summary["drops"] == {
        "same_answers": 1, "missing_answer": 1, "rationale_is_answer": 1, "empty_rationale": 1, "contradiction": 1,
    }  # fmt: skip
    assert summary["pairs"] == {"generated": 27, "kept": 22, "lost_to_failures": 0}
    timed_out = [s for s in stub.seen if s.step == "qa" and s.image == "slow.png" and s.attempt == 0]
    answered = [s for s in stub.seen if s.status == 200 and s not in timed_out]
    assert summary["tokens"] == {"in": sum(s.tokens_in for s in answered), "out": sum(s.tokens_out for s in answered)}

    failures = [json.loads(line) for line in (out / "failures.jsonl").read_text().splitlines()]
    assert [(f["step"], f["image"]) for f in failures] == [("qa", "never.png")]
    assert "malformed after 3 attempt(s)" in failures[0]["error"]
    rows = {name: (out / f"{name}.jsonl").read_text().splitlines() for name in ("qa", "rationales", "filter")}
    assert len(rows["qa"]) == 27 and len(rows["rationales"]) == 25 and len(rows["filter"]) == 27
    reasons = {r["id"]: r["reason"] for r in map(json.loads, rows["filter"])}
    assert (
        reasons["judge-r1"] == "contradiction" and reasons["judge-r2"] is None and reasons["rules-r0"] == "same_answers"
    )

    # the output reads back through the REVERIE loader and the training data path, unchanged
    records = load_reverie_json(out / "reverie.json", image_root=images)
    assert len(records) == 22 and {Path(r.image).name for r in records} <= set(IMAGES)
    fenced = [r for r in records if r.id == "fenced-r1"][0]
    assert (fenced.question, fenced.correct_answer, fenced.confusing_answer) == (
        "Which colour fills fenced.png (q1)?", "colour1", "other1",
    )  # fmt: skip
    conversations = ReverieSource(str(out / "reverie.json"), str(images)).conversations(ReflectionPolicy())
    assert len(conversations) == 2 * 22  # one positive and one negative sample per record (the paper's layout)

    # the key appears nowhere: not in any file under out (config, log, cache, results), not on the console
    for path in out.rglob("*"):
        if path.is_file():
            assert KEY.encode() not in path.read_bytes(), path
    assert KEY not in done.stdout + done.stderr
    assert "REVERIE_TEST_KEY" in (out / ".hydra" / "config.yaml").read_text()  # the variable's name is what is saved

    # a rerun sends nothing: finished requests and the cached failure come from the cache
    before, first_output = len(stub.seen), (out / "reverie.json").read_bytes()
    again = run_cli(images, out, stub.url)
    assert again.returncode == 0, again.stderr[-3000:]
    assert len(stub.seen) == before
    rerun = json.loads((out / "summary.json").read_text())
    assert rerun["requests"]["sent"] == 0 and rerun["requests"]["failures"] == {"qa": 1}
    assert (out / "reverie.json").read_bytes() == first_output


def test_a_refused_key_stops_the_run_without_showing_the_key(tmp_path: Path, stub_factory, monkeypatch) -> None:
    images = make_images(tmp_path / "images", ["a.png"])
    stub = stub_factory(images, faulty, key="sk-the-right-one")
    monkeypatch.setenv("REVERIE_TEST_KEY", KEY)
    backend = OpenAIChat(model="stub-vlm", base_url=stub.url, api_key_env="REVERIE_TEST_KEY", max_retries=0)
    with pytest.raises(RuntimeError, match="refused the request.*HTTP 401") as err:
        run_job(images, tmp_path / "out", backend, Prompts.default(), PipelineSettings(), progress=False)
    assert KEY not in str(err.value)
    assert len(stub.seen) == 1


def test_a_missing_key_variable_is_a_clear_error(monkeypatch) -> None:
    monkeypatch.delenv("REVERIE_NO_SUCH_KEY", raising=False)
    with pytest.raises(ValueError, match="REVERIE_NO_SUCH_KEY is not set"):
        OpenAIChat(model="m", api_key_env="REVERIE_NO_SUCH_KEY")
