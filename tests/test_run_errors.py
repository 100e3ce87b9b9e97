"""Bad input to the entry points (reverie.run, reverie.evaluate) and the checkpoint finder they share: each raise
path, tested at the function level with its message checked (the CLIs turn these into one-line errors)."""

import pytest
import torch

from reverie.checkpoints import find_checkpoint, resolve_init
from reverie.errors import InputError
from reverie.evaluate import load_run
from reverie.run import resume_from


def test_explicit_ckpt_path_that_does_not_exist_fails(tmp_path):
    with pytest.raises(FileNotFoundError, match=r"ckpt_path: checkpoint not found: .*gone\.ckpt"):
        resume_from(str(tmp_path / "gone.ckpt"), tmp_path)


def test_ckpt_path_last_without_a_checkpoint_starts_fresh_and_with_one_resumes(tmp_path, capsys):
    assert resume_from("last", tmp_path) is None  # a new run dir: nothing to resume, not an error
    assert resume_from(None, tmp_path) is None
    (tmp_path / "checkpoints").mkdir()
    (tmp_path / "checkpoints" / "last.ckpt").write_bytes(b"x")  # not a checkpoint: refused before Lightning reads it
    with pytest.raises(InputError, match=r"last\.ckpt: refused to load"):
        resume_from("last", tmp_path)
    torch.save({"state_dict": {}, "epoch": 0}, tmp_path / "checkpoints" / "last.ckpt")
    assert resume_from("last", tmp_path) == str(tmp_path / "checkpoints" / "last.ckpt")
    assert "resuming from" in capsys.readouterr().out


def test_evaluate_refuses_a_folder_that_is_not_a_run(tmp_path):
    with pytest.raises(FileNotFoundError, match=rf"{tmp_path} is not a reverie run folder \(no .hydra/config.yaml\)"):
        load_run(tmp_path, "last")


@pytest.mark.parametrize("which", ["last", "best"])
def test_missing_last_or_best_checkpoint_names_the_folder(tmp_path, which):
    (tmp_path / "checkpoints").mkdir()
    (tmp_path / "checkpoints" / "last.ckpt").mkdir()  # a folder of that name is not a checkpoint
    with pytest.raises(FileNotFoundError, match=rf"no {which} checkpoint in {tmp_path / 'checkpoints'}"):
        find_checkpoint(tmp_path, which)


def test_checkpoint_path_that_does_not_exist_is_named(tmp_path):
    with pytest.raises(FileNotFoundError, match=r"checkpoint not found: .*nope\.ckpt"):
        find_checkpoint(tmp_path, str(tmp_path / "nope.ckpt"))


def test_init_from_that_is_neither_a_run_nor_a_checkpoint_is_named(tmp_path):
    with pytest.raises(FileNotFoundError, match=r"init_from: neither a run folder nor a checkpoint file: .*missing"):
        resolve_init(tmp_path / "missing")
    with pytest.raises(FileNotFoundError, match=r"no last checkpoint in"):  # a folder, but not a trained run
        resolve_init(tmp_path)


def test_best_is_the_newest_epoch_checkpoint_not_last(tmp_path):
    folder = tmp_path / "checkpoints"
    folder.mkdir()
    for name in ("epoch00-step5.ckpt", "epoch01-step9.ckpt", "last.ckpt"):
        (folder / name).write_bytes(b"x")
    assert find_checkpoint(tmp_path, "best") == folder / "epoch01-step9.ckpt"
    assert find_checkpoint(tmp_path, "last") == folder / "last.ckpt"
