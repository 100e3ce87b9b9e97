"""Mixing a DFTG file into training: the chosen arm's file joins the sources; unknown arms and unset files fail."""

import json

import pytest

from reverie.data.mixture import LlavaSource, ReverieSource
from reverie.dftg.data import extra_source, world_with_extra


def test_arms(tmp_path):
    extra = {"targeted": str(tmp_path / "t.json"), "untargeted": None}
    assert extra_source("none", extra, "img", 1.0, False) is None
    source = extra_source("targeted", extra, "img", 0.5, False)
    assert isinstance(source, LlavaSource) and (source.path, source.weight, source.name) == (
        str(tmp_path / "t.json"),
        0.5,
        "dftg_targeted",
    )
    reflective = extra_source("targeted", extra, "img", 1.0, True)
    assert isinstance(reflective, ReverieSource) and reflective.path == str(tmp_path / "t.reverie.json")
    with pytest.raises(ValueError, match="set data.extra.untargeted"):
        extra_source("untargeted", extra, "img", 1.0, False)
    with pytest.raises(ValueError, match="nor a key of data.extra"):
        extra_source("targetted", extra, "img", 1.0, False)


def test_the_data_module_reads_the_extra_file(data_dir):
    from reverie.data.reflect import ReflectionPolicy

    (data_dir / "t.json").write_text((data_dir / "llava.json").read_text())
    base = [ReverieSource(str(data_dir / "reverie.json"), str(data_dir / "images"))]
    module = world_with_extra(
        base, arm="targeted", extra={"targeted": str(data_dir / "t.json")}, extra_image_root=str(data_dir / "images"),
        val_sources=[],
    )  # fmt: skip
    module.load(ReflectionPolicy())
    assert module.report["sources"]["train"]["dftg_targeted"] == len(json.loads((data_dir / "t.json").read_text()))
