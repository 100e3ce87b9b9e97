"""Every raise path of the data readers (reverie.data.sources) and of the mixture (reverie.data.mixture) that
tests/data/test_sources.py does not reach: a bad file, record, key or weight gets an error naming it."""

import json

import pytest

from reverie.data.mixture import LlavaSource, ReverieSource, mix
from reverie.data.reflect import ReflectionPolicy
from reverie.data.sources import load_llava_json, load_reverie_json, read_json_list

LOADERS = [load_reverie_json, load_llava_json]


def rewrite(path, edit):
    data = json.loads(path.read_text())
    edit(data)
    path.write_text(json.dumps(data))


@pytest.mark.parametrize("load", LOADERS)
def test_missing_data_file_is_named(tmp_path, load):
    with pytest.raises(FileNotFoundError, match=r"data file not found: .*nowhere\.json"):
        load(tmp_path / "nowhere.json")


def test_a_json_object_instead_of_a_list_is_named(tmp_path):
    path = tmp_path / "data.json"
    path.write_text(json.dumps({"records": []}))
    with pytest.raises(ValueError, match=r"data\.json: expected a JSON list of records, got dict"):
        read_json_list(path)


@pytest.mark.parametrize(("name", "load"), [("reverie.json", load_reverie_json), ("llava.json", load_llava_json)])
def test_a_record_that_is_not_an_object_names_file_and_index(data_dir, name, load):
    rewrite(data_dir / name, lambda d: d.__setitem__(2, "just a string"))
    with pytest.raises(ValueError, match=rf"{name}#2: record must be an object, got str"):
        load(data_dir / name, data_dir / "images")


@pytest.mark.parametrize("value", [None, [], "not a list"])
def test_llava_conversations_must_be_a_non_empty_list(data_dir, value):
    rewrite(data_dir / "llava.json", lambda d: d[6].update(conversations=value))
    with pytest.raises(ValueError, match=r"llava.json#6: key 'conversations' must be a non-empty list"):
        load_llava_json(data_dir / "llava.json", data_dir / "images")


@pytest.mark.parametrize(("name", "load"), [("reverie.json", load_reverie_json), ("llava.json", load_llava_json)])
@pytest.mark.parametrize("value", ["", 42])
def test_image_key_must_be_a_non_empty_string(data_dir, name, load, value):
    rewrite(data_dir / name, lambda d: d[9].update(image=value))
    with pytest.raises(ValueError, match=rf"{name}#9: key 'image' must be a non-empty string, got {value!r}"):
        load(data_dir / name, data_dir / "images")


def test_image_path_without_image_root_is_taken_as_given(data_dir):
    """No image_root: the record's path is used as it is, so a relative name that is not there is an error."""
    with pytest.raises(FileNotFoundError, match=r"reverie.json#0: key 'image': file not found: 000.png"):
        load_reverie_json(data_dir / "reverie.json")


def test_llava_turn_without_value_names_the_turn(data_dir):
    rewrite(data_dir / "llava.json", lambda d: d[4]["conversations"][1].pop("value"))
    with pytest.raises(KeyError, match=r"llava.json#4: conversations\[1\]: missing key 'value'"):
        load_llava_json(data_dir / "llava.json", data_dir / "images")


def test_negative_mixture_weight_names_the_source(data_dir):
    good = ReverieSource(str(data_dir / "reverie.json"), str(data_dir / "images"))
    bad = LlavaSource(str(data_dir / "llava.json"), str(data_dir / "images"), weight=-0.5, name="my_llava")
    with pytest.raises(ValueError, match=r"data source my_llava: weight must be >= 0, got -0.5"):
        mix([good, bad], ReflectionPolicy(), seed=0)
    unnamed = LlavaSource(str(data_dir / "llava.json"), str(data_dir / "images"), weight=-1.0)
    with pytest.raises(ValueError, match=r"data source llava.json: weight must be >= 0"):  # default name: the file
        mix([unnamed], ReflectionPolicy(), seed=0)


def test_mixture_weights_count_each_source(data_dir):
    """weight 0 drops a source (counted as 0, not silently), 0.5 keeps a seeded half, 2 doubles it."""
    images = str(data_dir / "images")
    sources = [
        LlavaSource(str(data_dir / "llava.json"), images, weight=2.0, name="twice"),
        LlavaSource(str(data_dir / "llava.json"), images, weight=0.5, name="half"),
        LlavaSource(str(data_dir / "llava.json"), images, weight=0.0, name="off"),
    ]
    convs, counts = mix(sources, ReflectionPolicy(), seed=0)
    assert counts == {"twice": 24, "half": 6, "off": 0}
    assert len(convs) == 30
    halves = [{c.id for c in mix(sources[1:2], ReflectionPolicy(), seed=s)[0]} for s in (0, 1, 2)]
    assert all(len(h) == 6 for h in halves) and len({frozenset(h) for h in halves}) > 1  # seeded, not the first 6
