"""`reverie.export` writes a Hugging Face LLaVA folder that transformers loads without reverie and that answers the
world's POPE probes exactly as reverie did; `reverie.generate` streams an answer (the last line printed), explains it,
answers a JSONL file in batches, and reads the exported folder as well as the run."""

import json
import os
import subprocess
import sys
import textwrap
from pathlib import Path

import pytest

HF_ONLY = textwrap.dedent(
    """
    import json, sys
    import torch
    from PIL import Image
    from transformers import AutoProcessor, LlavaForConditionalGeneration

    folder, stop, samples_files = sys.argv[1], sys.argv[2], sys.argv[3:]
    model = LlavaForConditionalGeneration.from_pretrained(folder).eval()
    processor = AutoProcessor.from_pretrained(folder)
    answers = []
    for line in (line for samples_file in samples_files for line in open(samples_file)):
        sample = json.loads(line)
        messages = [{"role": "user", "content": [{"type": "image"}, {"type": "text", "text": sample["prompt"]}]}]
        text = processor.apply_chat_template(messages, add_generation_prompt=True)
        inputs = processor(images=Image.open(sample["image"]).convert("RGB"), text=text, return_tensors="pt")
        with torch.no_grad():
            out = model.generate(**inputs, max_new_tokens=12, do_sample=False)
        new = processor.decode(out[0, inputs["input_ids"].shape[1]:], skip_special_tokens=False)
        answers.append(new.split(stop, 1)[0].split(processor.tokenizer.eos_token, 1)[0].strip())
    assert not any(name.startswith("reverie") for name in sys.modules), "the export must load without reverie"
    print(json.dumps(answers))
    """
)


def run(args, world_cache, check=True, extra_env=None, **kw):
    env = {**os.environ, "REVERIE_CACHE_DIR": str(world_cache), **(extra_env or {})}
    proc = subprocess.run([sys.executable, *args], env=env, capture_output=True, text=True, timeout=600, **kw)
    if check:
        assert proc.returncode == 0, proc.stdout[-3000:] + proc.stderr[-3000:]
    return proc


@pytest.fixture(scope="module")
def trained(tmp_path_factory, world_cache):
    out = tmp_path_factory.mktemp("export") / "run"
    run(
        [
            "-m",
            "reverie.run",
            f"hydra.run.dir={out}",
            "world.num_images=60",
            "trainer.max_steps=200",
            "eval.max_questions=16",
            "eval.tasks.chair=null",
        ],
        world_cache,
    )
    return out


@pytest.fixture(scope="module")
def exported(trained, world_cache):
    folder = trained.parent / "hf"
    proc = run(["-m", "reverie.export", f"run_dir={trained}", f"out={folder}"], world_cache)
    assert proc.stdout.strip().splitlines()[-1] == str(folder.resolve())
    return folder


def test_export_loads_without_reverie_and_answers_like_reverie(trained, exported, world_cache):
    assert {"config.json", "model.safetensors", "processor_config.json", "tokenizer.json"} <= {
        p.name for p in exported.iterdir()
    }
    files = [trained / "eval" / f"pope_{split}.samples.jsonl" for split in ("random", "adversarial")]
    ours = [json.loads(line)["output"] for f in files for line in f.read_text().splitlines()]
    theirs = json.loads(run(["-c", HF_ONLY, str(exported), "\n", *map(str, files)], world_cache).stdout)
    assert theirs == ours
    assert len(set(ours)) > 1  # real answers, not all alike


def test_generate_streams_explains_and_answers_files(trained, exported, world_cache, tmp_path):
    sample = json.loads((trained / "eval" / "pope_random.samples.jsonl").read_text().splitlines()[0])
    args = ["-m", "reverie.generate", f"run_dir={trained}", f"image={sample['image']}", f"prompt={sample['prompt']}"]
    lines = run(args, world_cache).stdout.strip().splitlines()
    assert lines[-1] == sample["output"]

    explained = run([*args, "explain=true"], world_cache).stdout.strip().splitlines()
    follow_up = next(i for i, line in enumerate(explained) if line.startswith("[Explain why."))
    assert explained[follow_up - 1] == sample["output"]  # the streamed answer, then the follow-up and its rationale
    assert explained[-1] == sample["output"] and follow_up < len(explained) - 2

    questions = tmp_path / "q.jsonl"
    rows = [json.loads(x) for x in (trained / "eval" / "pope_adversarial.samples.jsonl").read_text().splitlines()]
    questions.write_text(
        "".join(json.dumps({"id": r["question_id"], "image": r["image"], "question": r["prompt"]}) + "\n" for r in rows)
    )
    proc = run(["-m", "reverie.generate", f"run_dir={trained}", f"questions={questions}", "batch_size=5"], world_cache)
    out = Path(proc.stdout.strip().splitlines()[-1])
    answers = [json.loads(x) for x in out.read_text().splitlines()]
    assert [a["answer"] for a in answers] == [r["output"] for r in rows]
    assert [a["id"] for a in answers] == [r["question_id"] for r in rows]

    hf_lines = (
        run(
            ["-m", "reverie.generate", f"hf={exported}", f"image={sample['image']}", f"prompt={sample['prompt']}"],
            world_cache,
        )
        .stdout.strip()
        .splitlines()
    )
    assert hf_lines[-1] == sample["output"]


@pytest.mark.parametrize(
    ("args", "message"),
    [
        (["image=x.png", "prompt=hi"], "give one model: run_dir=RUN"),
        (["hf=/nonexistent", "image=x.png"], "ask either one question"),
    ],
)
def test_user_errors_are_one_line_without_traceback(world_cache, args, message):
    proc = run(["-m", "reverie.generate", *args], world_cache, check=False)
    assert proc.returncode == 2
    assert message in proc.stderr and "Traceback" not in proc.stderr
    assert proc.stderr.strip().splitlines()[-1].startswith("reverie: error:")
    full = run(["-m", "reverie.generate", *args], world_cache, check=False, extra_env={"HYDRA_FULL_ERROR": "1"})
    assert full.returncode != 0 and "Traceback" in full.stderr and message in full.stderr
