"""Which images a job sees (folder or list file, errors naming the file and line), and what the cache key covers:
a changed prompt or setting sends exactly the affected requests again."""

from __future__ import annotations

import dataclasses
import json
from pathlib import Path

import pytest
from scripted import make_images

from reverie.annotate.backends.world import WorldOracle
from reverie.annotate.images import list_images
from reverie.annotate.job import run_job
from reverie.annotate.pipeline import PipelineSettings
from reverie.annotate.prompts import Prompts
from reverie.world import WorldConfig, build_world


def test_a_folder_is_searched_recursively_in_path_order(tmp_path: Path) -> None:
    make_images(tmp_path / "imgs" / "b", ["2.png", "1.jpg"])
    make_images(tmp_path / "imgs", ["a.png"])
    (tmp_path / "imgs" / "notes.txt").write_text("not an image")
    root, images = list_images(tmp_path / "imgs")
    assert root == (tmp_path / "imgs").resolve()
    assert [i.name for i in images] == ["a.png", "b/1.jpg", "b/2.png"] and images[1].stem == "b/1"


def test_list_files_name_images_relative_to_themselves(tmp_path: Path) -> None:
    make_images(tmp_path / "imgs", ["a.png", "b.png"])
    (tmp_path / "list.txt").write_text("# my images\nimgs/b.png\n\nimgs/a.png\n")
    (tmp_path / "list.json").write_text(json.dumps(["imgs/a.png"]))
    assert [i.name for i in list_images(tmp_path / "list.txt")[1]] == ["imgs/b.png", "imgs/a.png"]
    assert [i.name for i in list_images(tmp_path / "list.json")[1]] == ["imgs/a.png"]
    (tmp_path / "bad.txt").write_text("imgs/a.png\nimgs/missing.png\n")
    with pytest.raises(FileNotFoundError, match=r"bad.txt:line 2: image file not found"):
        list_images(tmp_path / "bad.txt")
    (tmp_path / "twice.txt").write_text("imgs/a.png\nimgs/a.png\n")
    with pytest.raises(ValueError, match=r"twice.txt:line 2: image 'imgs/a.png' is listed twice"):
        list_images(tmp_path / "twice.txt")
    (tmp_path / "empty").mkdir()
    with pytest.raises(ValueError, match="no image files"):
        list_images(tmp_path / "empty")


def test_images_whose_ids_would_collide_are_refused(tmp_path: Path) -> None:
    make_images(tmp_path / "imgs", ["a.png", "a.jpg"])
    with pytest.raises(ValueError, match="same record ids"):
        run_job(tmp_path / "imgs", tmp_path / "out", None, Prompts.default(), PipelineSettings(), progress=False)


def test_a_changed_prompt_sends_only_its_own_requests_again(tmp_path: Path) -> None:
    build_world(tmp_path / "world", WorldConfig(num_images=8, seed=2))
    images, out = tmp_path / "world" / "images", tmp_path / "out"
    prompts = Prompts.default()

    def run(p: Prompts) -> dict:
        return run_job(images, out, WorldOracle(world=tmp_path / "world"), p, PipelineSettings(), progress=False)

    first = run(prompts)["requests"]
    assert first["calls"] == {"qa": 8, "positive": 24, "negative": 24, "judge": 24} and first["cached"] == {}
    assert run(prompts)["requests"]["calls"] == {}
    changed = run(dataclasses.replace(prompts, judge=prompts.judge + "\nAnswer in English."))["requests"]
    assert changed["calls"] == {"judge": 24}
    assert changed["cached"] == {"qa": 8, "positive": 24, "negative": 24}
