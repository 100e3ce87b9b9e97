"""lmms-eval's `llava_hf` model and POPE task on the built-in world's POPE probes, compared probe by probe with reverie.

Runs in a Python that has lmms-eval (0.7.3 here, in its own venv: it never imports reverie). The world's POPE test
files become local parquet datasets and a task folder whose functions are lmms-eval's own POPE functions, unchanged
(only the dataset and, with ``--suffix none``, the post-prompt differ). lmms-eval asks through the export's chat
template and stops on the tokenizer's end of text (``llava_hf.generate_until``: no stop strings, no cut). Then each
answer is compared with reverie's answer to the same probe (``<eval dir>/pope_<split>.samples.jsonl`` from
``reverie.run`` or ``reverie.evaluate``, asked with the same suffix).

    /work/lmms-venv/bin/python benchmarks/lmms_eval_world_pope.py --world WORLD --export EXPORT \\
        --reverie EVAL_DIR --out OUT [--suffix llava|none] [--limit N]

Prints one line per split and writes ``OUT/comparison.json``.
"""

from __future__ import annotations

import argparse
import json
import os
import subprocess
import sys
from pathlib import Path

SPLITS = ("random", "popular", "adversarial")
SUFFIXES = {"llava": "\nAnswer the question using a single word or phrase.", "none": ""}
TASK = """task: world_pope_{split}
dataset_path: parquet
dataset_kwargs:
  data_files:
    test: {data}
test_split: test
output_type: generate_until
doc_to_visual: !function utils.pope_doc_to_visual
doc_to_text: !function utils.pope_doc_to_text
doc_to_target: "answer"
generation_kwargs:
  max_new_tokens: {max_new_tokens}
  temperature: 0
  top_p: 1.0
  num_beams: 1
  do_sample: false
process_results: !function utils.pope_process_results
metric_list:
{metrics}
lmms_eval_specific_kwargs:
  default:
    pre_prompt: ""
    post_prompt: {post_prompt}
"""
METRICS = ("accuracy", "precision", "recall", "f1_score", "yes_ratio")


def write_tasks(world: Path, out: Path, suffix: str, max_new_tokens: int, limit: int | None) -> list[str]:
    """A parquet file and a task yaml per POPE split; returns the task names."""
    import datasets

    files = json.loads((world / "manifest.json").read_text())["files"]
    folder = out / "tasks"
    folder.mkdir(parents=True, exist_ok=True)
    (folder / "utils.py").write_text("from lmms_eval.tasks.pope.utils import *  # noqa: F403  (unchanged)\n")
    metrics = "\n".join(
        f"  - metric: pope_{m}\n    aggregation: !function utils.pope_aggregate_{m}\n    higher_is_better: true"
        for m in METRICS
    )
    names = []
    for split in SPLITS:
        rows = [json.loads(x) for x in (world / files[f"pope.test.{split}"]).read_text().splitlines() if x][:limit]
        table = datasets.Dataset.from_dict(
            {
                "question_id": [str(r["question_id"]) for r in rows],
                "question": [r["text"] for r in rows],
                "answer": [r["label"] for r in rows],
                "category": [r.get("object", "") for r in rows],
                "image": [str(world / files["images"] / r["image"]) for r in rows],
            }
        ).cast_column("image", datasets.Image())
        data = out / "data" / f"{split}.parquet"
        data.parent.mkdir(parents=True, exist_ok=True)
        table.to_parquet(str(data))
        text = TASK.format(
            split=split, data=data, max_new_tokens=max_new_tokens, metrics=metrics, post_prompt=json.dumps(suffix)
        )
        (folder / f"world_pope_{split}.yaml").write_text(text)
        names.append(f"world_pope_{split}")
    return names


def run_lmms_eval(export: Path, out: Path, tasks: list[str]) -> None:
    env = {**os.environ, "HF_HUB_OFFLINE": "1", "HF_DATASETS_OFFLINE": "1", "TRANSFORMERS_OFFLINE": "1"}
    command = [
        sys.executable, "-m", "lmms_eval", "--model", "llava_hf",
        "--model_args", f"pretrained={export},device=cpu,device_map=cpu,dtype=float32",
        "--tasks", ",".join(tasks), "--include_path", str(out / "tasks"), "--batch_size", "1",
        "--log_samples", "--output_path", str(out / "results"),
    ]  # fmt: skip
    print(" ".join(command), flush=True)
    subprocess.run(command, check=True, env=env)


def compare(out: Path, reverie: Path, max_new_tokens: int) -> dict[str, dict]:
    """Per split: lmms-eval's metrics, reverie's, and how many answers are identical."""
    report = {}
    for split in SPLITS:
        found = sorted((out / "results").rglob(f"*_samples_world_pope_{split}.jsonl"))
        if not found:  # lmms-eval logs some errors and still exits 0
            raise SystemExit(f"lmms-eval wrote no samples for world_pope_{split} under {out / 'results'}")
        samples = found[-1]
        (results,) = sorted((out / "results").rglob("*_results.json"))[-1:]
        harness = [json.loads(x) for x in samples.read_text().splitlines() if x]
        ours = {
            str(r["question_id"]): r
            for r in map(json.loads, (reverie / f"pope_{split}.samples.jsonl").read_text().splitlines())
        }
        same, differ, at_limit = 0, [], 0
        for row in harness:  # lmms-eval 0.7.3's sample log: the answer in filtered_resps, the id in each metric
            answer = row["filtered_resps"]
            answer = answer[0] if isinstance(answer, list) else answer
            mine = ours[str(row["pope_accuracy"]["question_id"])]
            at_limit += row["token_counts"][0]["output_tokens"] >= max_new_tokens
            if answer.strip() == mine["output"].strip():
                same += 1
            else:
                differ.append({"question_id": mine["question_id"], "lmms_eval": answer, "reverie": mine["output"]})
        scores = json.loads(results.read_text())["results"][f"world_pope_{split}"]
        reverie_metrics = json.loads((reverie / f"pope_{split}.metrics.json").read_text())
        report[split] = {
            "probes": len(harness),
            "identical_answers": same,
            "answers_at_token_limit": at_limit,
            "differ_examples": differ[:5],
            "lmms_eval": {m: scores.get(f"pope_{m},none") for m in METRICS},
            "reverie": reverie_metrics["metrics"],
            "reverie_prompt_suffix": reverie_metrics.get("prompt_suffix"),
        }
        lm = report[split]["lmms_eval"]
        print(
            f"{split}: {same}/{len(harness)} answers identical, {at_limit} at the token limit; lmms-eval accuracy {lm['accuracy']:.4f} "
            f"f1 {lm['f1_score']:.4f} yes_ratio {lm['yes_ratio']:.4f}"
        )
    return report


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.split("\n")[0])
    parser.add_argument("--world", type=Path, required=True, help="a built world folder (holds manifest.json)")
    parser.add_argument("--export", type=Path, required=True, help="a `python -m reverie.export` folder")
    parser.add_argument("--reverie", type=Path, required=True, help="reverie's eval folder for the same model")
    parser.add_argument("--out", type=Path, required=True, help="where datasets, task files and results go")
    parser.add_argument("--suffix", choices=sorted(SUFFIXES), default="llava", help="lmms-eval's POPE post-prompt")
    parser.add_argument("--max-new-tokens", type=int, default=128, help="lmms-eval's POPE default: 128")
    parser.add_argument("--limit", type=int, default=None, help="first N probes per split")
    args = parser.parse_args()
    tasks = write_tasks(args.world, args.out, SUFFIXES[args.suffix], args.max_new_tokens, args.limit)
    run_lmms_eval(args.export.resolve(), args.out, tasks)
    report = compare(args.out, args.reverie, args.max_new_tokens)
    (args.out / "comparison.json").write_text(json.dumps(report, indent=2) + "\n")


if __name__ == "__main__":
    main()
