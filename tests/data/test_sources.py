"""Bad inputs give clear errors naming file, record and key — never a silent drop."""

import json

import pytest
from PIL import Image

from reverie.data.images import load_image
from reverie.data.sources import load_llava_json, load_reverie_json


def test_loads_fixture_data(data_dir):
    records = load_reverie_json(data_dir / "reverie.json", data_dir / "images")
    convs = load_llava_json(data_dir / "llava.json", data_dir / "images")
    assert len(records) == len(convs) == 12
    assert records[0].origin.endswith("reverie.json#0") and records[0].image.endswith("000.png")
    assert [t.role for t in convs[0].turns] == ["user", "assistant", "user", "assistant"]


def rewrite(path, edit):
    data = json.loads(path.read_text())
    edit(data)
    path.write_text(json.dumps(data))


@pytest.mark.parametrize("value", ["", "   \n"])
def test_empty_rationale_names_the_record(data_dir, value):
    rewrite(data_dir / "reverie.json", lambda d: d[3].update(incorrect_rationale=value))
    with pytest.raises(ValueError, match=r"reverie.json#3: key 'incorrect_rationale' must be a non-empty string"):
        load_reverie_json(data_dir / "reverie.json", data_dir / "images")


def test_missing_key_names_the_record(data_dir):
    rewrite(data_dir / "reverie.json", lambda d: d[5].pop("confusing_answer"))
    with pytest.raises(KeyError, match=r"reverie.json#5: missing key 'confusing_answer'"):
        load_reverie_json(data_dir / "reverie.json", data_dir / "images")


def test_missing_image_file_names_record_and_file(data_dir):
    (data_dir / "images" / "004.png").unlink()
    with pytest.raises(FileNotFoundError, match=r"llava.json#4: key 'image': file not found: .*004.png"):
        load_llava_json(data_dir / "llava.json", data_dir / "images")


def test_corrupt_image_names_sample_and_file(data_dir):
    (data_dir / "images" / "002.png").write_bytes(b"not a png at all")
    with pytest.raises(ValueError, match=r"sample s2: cannot read image .*002.png"):
        load_image(str(data_dir / "images" / "002.png"), "s2")
    Image.open(data_dir / "images" / "001.png").verify()  # the others are fine


def test_wrong_role_order_names_the_record(data_dir):
    def swap(d):
        d[7]["conversations"][1]["from"] = "human"

    rewrite(data_dir / "llava.json", swap)
    with pytest.raises(ValueError, match=r"llava.json#7 \(id=l7\): turn 1 has role 'user', expected 'assistant'"):
        load_llava_json(data_dir / "llava.json", data_dir / "images")


def test_unknown_role_and_bad_json(data_dir):
    rewrite(data_dir / "llava.json", lambda d: d[0]["conversations"][0].update({"from": "robot"}))
    with pytest.raises(ValueError, match=r"llava.json#0: conversations\[0\]: key 'from'"):
        load_llava_json(data_dir / "llava.json", data_dir / "images")
    (data_dir / "llava.json").write_text("[{")
    with pytest.raises(ValueError, match="llava.json: not valid JSON"):
        load_llava_json(data_dir / "llava.json", data_dir / "images")


def test_image_without_placeholder_gets_one_and_two_placeholders_fail(data_dir):
    rewrite(data_dir / "llava.json", lambda d: d[0]["conversations"][0].update(value="Describe it."))
    assert load_llava_json(data_dir / "llava.json", data_dir / "images")[0].turns[0].text == "<image>\nDescribe it."
    rewrite(data_dir / "llava.json", lambda d: d[1]["conversations"][2].update(value="<image> again?"))
    with pytest.raises(ValueError, match=r"llava.json#1 \(id=l1\): has an image but 2 <image> placeholders"):
        load_llava_json(data_dir / "llava.json", data_dir / "images")


def test_record_whose_confusing_answer_is_the_correct_one_is_counted_and_skipped(data_dir):
    total = len(json.loads((data_dir / "reverie.json").read_text()))
    rewrite(
        data_dir / "reverie.json",
        lambda d: [r.update(confusing_answer=r["correct_answer"].upper() + ".") for r in d[:2]],
    )
    with pytest.warns(UserWarning, match=rf"skipped 2 of {total} REVERIE records whose confusing answer equals"):
        records = load_reverie_json(data_dir / "reverie.json", data_dir / "images")
    assert len(records) == total - 2 and {r.origin.rsplit("#", 1)[1] for r in records}.isdisjoint({"0", "1"})
