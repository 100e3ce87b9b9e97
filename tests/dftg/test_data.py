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


def test_extra_share_makes_the_file_that_share_of_the_records(data_dir):
    """12 REVERIE records at weight 1 and 12 LLaVA at weight 0.5 = 18 per epoch; a 12-record extra file at share 0.25
    gets weight 0.25 / 0.75 * 18 / 12 = 0.5, i.e. 6 of 24 records."""
    from reverie.data.reflect import ReflectionPolicy

    images = str(data_dir / "images")
    (data_dir / "t.json").write_text((data_dir / "llava.json").read_text())
    base = [
        ReverieSource(str(data_dir / "reverie.json"), images, 1.0, name="r"),
        LlavaSource(str(data_dir / "llava.json"), images, 0.5, name="l"),
    ]
    module = world_with_extra(
        base, arm="targeted", extra={"targeted": str(data_dir / "t.json")}, extra_image_root=images,
        extra_share=0.25, extra_weight=3.0, val_sources=[],
    )  # fmt: skip
    module.load(ReflectionPolicy(kinds="none"))
    assert module.report["sources"]["train"] == {"r": 12, "l": 6, "dftg_targeted": 6}
    with pytest.raises(ValueError, match=r"extra_share must be in \[0, 1\)"):
        world_with_extra(base, arm="targeted", extra={"targeted": str(data_dir / "t.json")}, extra_share=1.0)
