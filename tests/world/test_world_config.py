"""Bad options fail early with a clear message, in the API (ValueError) and in the CLI (error line, exit code 2)."""

from __future__ import annotations

from pathlib import Path

import pytest

from reverie.world import WorldConfig, build_world
from reverie.world.__main__ import main


@pytest.mark.parametrize(
    ("options", "message"),
    [
        ({"num_images": 0}, "num_images"),
        ({"num_images": 2}, "at least 3 images"),
        ({"themes": ["kitchen", "volcano"]}, "unknown theme"),
        ({"themes": []}, "at least one theme"),
        ({"themes": "kitchen"}, "list of names"),
        ({"image_size": 30}, "grid needs cells of at least"),
        ({"max_objects": 10}, "only 9 cells"),
        ({"min_objects": 4, "max_objects": 3}, "max_objects"),
        ({"bias_strength": 1.5}, "bias_strength"),
        ({"seed": -1}, "seed"),
        ({"reverie_types": {"essay": 1.0}}, r"reverie_types: unknown key\(s\) \['essay'\]"),
        ({"reverie_types": {"yes_no": 0.0}}, "not all zero"),
        ({"pope_per_image": 0}, "pope_per_image"),
        ({"question_kinds": {"existance": 1.0}}, r"question_kinds: unknown key\(s\) \['existance'\]; known: existence"),
        ({"question_kinds": {"existence": 0}}, "not all zero"),
        ({"questions_yes_share": 1.2}, "questions_yes_share"),
        ({"questions_mate_share": -0.1}, "questions_mate_share"),
        ({"questions_per_image": -1}, "questions_per_image"),
    ],
)
def test_bad_options_raise_clear_value_error(tmp_path: Path, options: dict, message: str) -> None:
    with pytest.raises(ValueError, match=message):
        build_world(tmp_path / "w", WorldConfig(**options))
    assert not (tmp_path / "w").exists(), "nothing is written when the options are bad"


def test_unknown_theme_lists_known_themes() -> None:
    with pytest.raises(ValueError, match="kitchen, garden, office, beach"):
        WorldConfig(themes=["volcano"]).validate()


def test_refuses_to_overwrite_foreign_directory(tmp_path: Path) -> None:
    (tmp_path / "notes.txt").write_text("mine")
    with pytest.raises(ValueError, match="not part of a world"):
        build_world(tmp_path, WorldConfig(num_images=10))
    assert (tmp_path / "notes.txt").read_text() == "mine"


def test_refuses_a_directory_without_a_world_manifest(tmp_path: Path) -> None:
    (tmp_path / "images").mkdir()
    (tmp_path / "images" / "holiday.png").write_bytes(b"not ours")
    with pytest.raises(ValueError, match="no world manifest"):
        build_world(tmp_path, WorldConfig(num_images=10))
    assert (tmp_path / "images" / "holiday.png").exists()


def test_cli_bad_option_prints_error_and_exits_2(tmp_path: Path, capsys: pytest.CaptureFixture[str]) -> None:
    assert main(["--out", str(tmp_path / "w"), "--images", "0"]) == 2
    err = capsys.readouterr().err
    assert err.startswith("reverie: error: ") and "num_images" in err and len(err.splitlines()) == 1


def test_cli_unknown_theme(tmp_path: Path, capsys: pytest.CaptureFixture[str]) -> None:
    assert main(["--out", str(tmp_path / "w"), "--themes", "kitchen,lava"]) == 2
    assert "unknown theme" in capsys.readouterr().err


def test_cli_builds_and_prints_summary(tmp_path: Path, capsys: pytest.CaptureFixture[str]) -> None:
    code = main(
        [
            "--out",
            str(tmp_path / "w"),
            "--images",
            "30",
            "--seed",
            "3",
            "--themes",
            "kitchen,beach",
            "--reverie-types",
            "yes_no=1",
        ]
    )
    assert code == 0
    out = capsys.readouterr().out
    assert "30 images" in out and "manifest:" in out and str(tmp_path / "w" / "manifest.json") in out
    assert " s" in out  # wall time
