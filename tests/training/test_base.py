"""The shared base (reverie.base), the one tokenizer per world, cache keys that include the code, and provenance."""

from __future__ import annotations

import json
import os
import re
import subprocess
import sys
from pathlib import Path

import pytest
from hydra import compose, initialize_config_dir
from omegaconf import OmegaConf

import reverie
from reverie import provenance
from reverie.base import base_config, base_key
from reverie.errors import InputError
from reverie.resolvers import register, world_key

CONF = str(Path(reverie.__file__).parent / "conf")
# A small, quick world and model: cold runs train a tower, a base and an arm in well under a minute.
SMALL = ["world.num_images=60", "model.vision_encoder.steps=20", "base.epochs=1", "trainer.max_epochs=1"]


def _compose(overrides: list[str]):
    register()
    with initialize_config_dir(CONF, version_base="1.3"):
        cfg = compose("config", overrides=overrides)
    OmegaConf.set_struct(cfg, False)
    cfg.paths.output_dir = "unused"
    return cfg


def test_base_trains_on_its_sources_with_its_own_settings():
    cfg = _compose(["base.sources.world_questions=0.5", "trainer.max_epochs=3", "objective.weights.answer=3"])
    base = base_config(cfg)
    assert [(s.name, s.weight) for s in base.data.train_sources] == [("world_questions", 0.5), ("world_captions", 1.0)]
    assert base.data.val_sources == [] and base.trainer.max_epochs == 7 and base.objective.weights.answer == 1.0
    assert base.reflection.kinds == "none" and base.base is None and base.init_from is None
    assert base.logger is None and base.trainer.enable_checkpointing is False
    # a DDP run's base trains in one process (the other ranks load it), so it is the same base
    ddp = base_config(_compose(["trainer.devices=2", "trainer/strategy=ddp", "trainer.accumulate_grad_batches=2"]))
    assert (ddp.trainer.devices, ddp.trainer.strategy) == (1, "auto")
    assert base_key(ddp) == base_key(base_config(_compose([])))


def test_base_key_depends_on_what_the_weights_depend_on_only():
    key = base_key(base_config(_compose([])))
    # the arm's method, phase length, evaluation and logging do not change the base
    for arm in (
        ["reflection=answers_only"],
        ["trainer.max_epochs=1"],
        ["eval=none"],
        ["logger=wandb"],
        ["objective.weights.neg_rationale=0"],
        ["data.train_sources.3.weight=2.0"],
        ["data.shared_once=true"],  # no rationales in a base, so no trees
        ["data.trees=false"],
    ):
        assert base_key(base_config(_compose(arm))) == key, arm
    for other in (
        ["seed=1"],
        ["world.num_images=800"],
        ["base.epochs=2"],
        ["model.llm.build.config.hidden_size=64"],
        ["reflection.question_prompt='<image> {question}'"],
        ["base.stage.optim.lr=0.01"],
        ["base.stage.optim.betas=[0.9,0.9]"],
    ):
        assert base_key(base_config(_compose(other))) != key, other
    # the base's AdamW betas are its own: the phase keeps its stage's
    cfg = _compose(["base.stage.optim.betas=[0.9,0.9]"])
    assert list(base_config(cfg).stage.optim.betas) == [0.9, 0.9] and list(cfg.stage.optim.betas) == [0.9, 0.999]


def test_base_key_reads_interpolations_by_value():
    """A study's arms set values through interpolations (`${arms.${arm}.lr}`): the key hashes what they resolve
    to, so one value spelled two ways shares a base, and one spelling that resolves to two values does not."""

    def key_with(**values) -> str:
        cfg = _compose([])
        for name, value in values.items():
            OmegaConf.update(cfg, name, value, force_add=True)
        return base_key(base_config(cfg))

    plain = key_with(**{"data.batch_size": 16})
    assert key_with(**{"bs": 16, "data.batch_size": "${bs}"}) == plain
    size = {"model.llm.build.config.hidden_size": "${size}"}
    assert key_with(size=64, **size) != key_with(size=32, **size)
    assert key_with(size=64, **size) == key_with(**{"model.llm.build.config.hidden_size": 64})


def test_no_base_with_init_from_or_base_none_and_a_reported_skip_for_other_data(capsys):
    assert base_config(_compose(["base=none"])) is None
    assert base_config(_compose(["init_from=somewhere"])) is None
    assert base_config(_compose(["data=llava_json", "data.train_sources.0.path=x.json"])) is None
    assert "base: skipped" in capsys.readouterr().out
    with pytest.raises(InputError, match="world_captions"):
        base_config(_compose(["data.train_sources.2.name=renamed"]))


def test_cache_keys_include_the_code_that_builds_the_cached_thing(monkeypatch, tmp_path):
    options = OmegaConf.to_container(_compose([]).world)
    before = world_key(options)
    monkeypatch.setattr("reverie.resolvers.source_hash", lambda *parts: "other code")
    assert world_key(options) != before
    # source_hash itself follows the bytes of the files it covers
    package = tmp_path / "pkg"
    (package / "world").mkdir(parents=True)
    (package / "world" / "a.py").write_text("x = 1\n")
    monkeypatch.setattr(provenance, "PACKAGE_ROOT", package)
    provenance.source_hash.cache_clear()
    first = provenance.source_hash("world")
    (package / "world" / "a.py").write_text("x = 2\n")
    provenance.source_hash.cache_clear()
    assert provenance.source_hash("world") != first
    provenance.source_hash.cache_clear()
    with pytest.raises(FileNotFoundError):
        provenance.source_hash("no_such_part")
    provenance.source_hash.cache_clear()


def test_code_version_names_this_checkout():
    version = provenance.code_version()
    assert re.fullmatch(r"[0-9a-f]{40}", version["commit"]) and isinstance(version["dirty"], bool)
    assert provenance.code_label(version).startswith(version["commit"][:7])
    assert provenance.code_label({"commit": None, "version": "0.1.0"}) == "package 0.1.0"


def test_every_arm_of_a_world_gets_the_same_tokenizer(world_cache):
    from reverie.build import build_all

    vocabs = []
    for arm in ("reflection=answers_only", "reflection=paper", "data.train_sources.0.weight=0.5"):
        cfg = _compose(
            ["world.num_images=60", "model.vision_encoder.steps=20", f"paths.cache_dir={world_cache}", "base=none", arm]
        )
        built = build_all(cfg, None)
        vocabs.append(built.tokenizer.get_vocab())
    assert vocabs[0] == vocabs[1] == vocabs[2]


def _run(cache: Path, run_dir: Path, extra: list[str]) -> dict:
    env = {**os.environ, "REVERIE_CACHE_DIR": str(cache)}
    cmd = [sys.executable, "-m", "reverie.run", *SMALL, f"hydra.run.dir={run_dir}", *extra]
    done = subprocess.run(cmd, env=env, capture_output=True, text=True, timeout=900)
    assert done.returncode == 0, done.stderr[-3000:]
    return json.loads((run_dir / "summary.json").read_text())


def _eval_files(run_dir: Path) -> dict[str, bytes]:
    return {p.name: p.read_bytes() for p in sorted((run_dir / "eval").glob("*.jsonl"))}


@pytest.mark.slow
def test_cold_and_warm_runs_give_identical_per_sample_outputs(tmp_path):
    cache = tmp_path / "cache"
    cold = _run(cache, tmp_path / "cold", [])
    assert {p.name for p in (cache / "base").iterdir() if p.is_dir()} == {cold["base"]["key"]}
    warm = _run(cache, tmp_path / "warm", [])  # world, tower, tokenizer and base come from the cache
    files = _eval_files(tmp_path / "cold")
    assert files and files == _eval_files(tmp_path / "warm")
    assert cold["eval"] == warm["eval"] and cold["base"]["eval"] == warm["base"]["eval"]
    assert cold["provenance"]["hashes"] == warm["provenance"]["hashes"]
    assert all(cold["provenance"]["hashes"].values())
    # where the time went: the cold run trained its base (world, tokenizer and tower too), the warm run loaded it
    for run in (cold, warm):
        assert set(run["timings_s"]) == {"base", "build", "train", "eval"} and min(run["timings_s"].values()) >= 0
        assert sum(run["timings_s"].values()) <= run["wall_time_s"] + 0.05  # each rounded to 0.01 s
    assert warm["timings_s"]["base"] < min(cold["timings_s"]["base"], 5)
    code = cold["provenance"]["code"]  # the checkout's commit (a test cannot pin it: commits may land meanwhile)
    assert re.fullmatch(r"[0-9a-f]{40}", code["commit"]) and isinstance(code["dirty"], bool) and code["version"]
    assert "reverie.run" in cold["provenance"]["command"] and "base.epochs=1" in cold["provenance"]["command"]
    # another arm of the same seed branches from the same base, and the base is the same "before" line
    other = _run(cache, tmp_path / "answers_only", ["reflection=answers_only"])
    assert other["base"] == warm["base"]
    assert other["provenance"]["hashes"]["tokenizer"] == warm["provenance"]["hashes"]["tokenizer"]
