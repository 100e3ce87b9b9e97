"""Every entry point fails on a user mistake the same way: one line `reverie: error: ...` naming what is wrong, exit
status 2, and nothing written (no partial output, no stray Hydra run folder, no file replaced).

A table of bad inputs, each run in-process through the entry point's real `main` (Hydra's command-line parsing
included), in a fresh folder that also is the working directory; the test compares every file under it before and
after.
"""

from __future__ import annotations

import importlib
import json
import os
import runpy
import sys
import tempfile
import traceback
from pathlib import Path

import pytest
from sample_files import write_images

UNSET = "REVERIE_TEST_UNSET_VARIABLE"

# (id, entry point, arguments, what the one line must contain); {t} is the test's folder
CASES = [
    # reverie.run
    (
        "run-key-typo",
        "run",
        ["trainer.max_step=3"],
        "unknown config key trainer.max_step; did you mean trainer.max_steps",
    ),
    ("run-nested-typo", "run", ["model.llm.tokenizer.vocab_sise=9"], "did you mean model.llm.tokenizer.vocab_size"),
    ("run-group-typo", "run", ["model=tinyy"], "model=tinyy: no such config; model is one of hf_llava, llava15_7b"),
    ("run-bad-override", "run", ["trainer.max_steps=["], "cannot parse override 'trainer.max_steps=\\['"),
    ("run-unset-env", "run", [f"+note=${{oc.env:{UNSET}}}"], f"note: environment variable {UNSET} is not set"),
    ("run-init-from-missing", "run", ["base=none", "init_from={t}/nope"], "init_from: neither a run folder nor"),
    ("run-ckpt-is-folder", "run", ["base=none", "init_from={t}/fake"], "no last checkpoint in"),
    # reverie.evaluate
    ("evaluate-no-run-dir", "evaluate", [], "run_dir is required: give run_dir=..."),
    ("evaluate-typo-run-dir", "evaluate", ["run_dir={t}/typo"], "typo is not a reverie run folder"),
    ("evaluate-no-checkpoint", "evaluate", ["run_dir={t}/fake"], "no last checkpoint in"),
    ("evaluate-best-missing", "evaluate", ["run_dir={t}/fake", "ckpt=best"], "no best checkpoint in"),
    ("evaluate-ckpt-missing", "evaluate", ["run_dir={t}/fake", "ckpt={t}/gone.ckpt"], "checkpoint not found: "),
    ("evaluate-eval-typo", "evaluate", ["run_dir={t}/fake", "eval=wrold"], "eval=wrold: no such config"),
    ("evaluate-key-typo", "evaluate", ["run_dir={t}/fake", "ckp=best"], "unknown config key ckp; did you mean ckpt"),
    # reverie.inspect
    ("inspect-format", "inspect", ["inspect.format=xml"], "inspect.format='xml'; expected 'text' or 'jsonl'"),
    ("inspect-key-typo", "inspect", ["inspect.nn=2"], "unknown config key inspect.nn; did you mean inspect.n"),
    # reverie.generate
    ("generate-nothing", "generate", [], "ask either one question (image=PATH prompt=TEXT) or many"),
    ("generate-no-prompt", "generate", ["image={t}/images/000.png"], "ask either one question"),
    ("generate-both", "generate", ["image=x.png", "prompt=hi", "questions=q.jsonl"], "ask either one question"),
    ("generate-image-missing", "generate", ["hf={t}/fake", "image={t}/none.png", "prompt=hi"], "image not found"),
    ("generate-questions-missing", "generate", ["hf=x", "questions={t}/none.jsonl"], "questions file not found"),
    ("generate-not-json", "generate", ["hf=x", "questions={t}/bad.jsonl"], "bad.jsonl:2: not JSON"),
    ("generate-not-object", "generate", ["hf=x", "questions={t}/list.jsonl"], "list.jsonl:1: expected a JSON object"),
    ("generate-no-question", "generate", ["hf=x", "questions={t}/noq.jsonl"], "noq.jsonl:1: missing ['question']"),
    ("generate-empty", "generate", ["hf=x", "questions={t}/empty.jsonl"], "empty.jsonl: no questions"),
    ("generate-image-gone", "generate", ["hf=x", "questions={t}/gone.jsonl"], "gone.jsonl:1: image not found"),
    ("generate-out-is-input", "generate", ["hf=x", "questions={t}/q.jsonl", "out={t}/q.jsonl"], "is also the input"),
    ("generate-out-is-image", "generate", ["hf=x", "questions={t}/q.jsonl", "out={t}/images/000.png"], "also"),
    ("generate-out-exists", "generate", ["hf=x", "questions={t}/q.jsonl", "out={t}/old.jsonl"], "give overwrite=true"),
    ("generate-out-folder", "generate", ["hf=x", "questions={t}/q.jsonl", "out={t}/emptydir"], "is a folder"),
    ("generate-no-model", "generate", ["questions={t}/q.jsonl"], "give one model: run_dir=RUN"),
    ("generate-two-models", "generate", ["hf=x", "run_dir=y", "questions={t}/q.jsonl"], "give one model"),
    # reverie.export
    ("export-no-run-dir", "export", ["out={t}/o"], "run_dir is required"),
    ("export-no-out", "export", ["run_dir={t}/fake"], "out is required"),
    ("export-no-checkpoint", "export", ["run_dir={t}/fake", "out={t}/o"], "no last checkpoint in"),
    ("export-out-is-run", "export", ["run_dir={t}/fake", "out={t}/fake"], "out=.* is also the input run_dir"),
    ("export-out-holds-run", "export", ["run_dir={t}/fake", "out={t}"], "holds the input run_dir"),
    ("export-out-not-empty", "export", ["run_dir={t}/fake", "out={t}/images"], "exists and is not empty"),
    ("export-out-is-file", "export", ["run_dir={t}/fake", "out={t}/q.jsonl"], "is a file; give a folder"),
    # reverie.diagnose
    ("diagnose-no-run-dir", "diagnose", [], "run_dir is required"),
    ("diagnose-typo-run-dir", "diagnose", ["run_dir={t}/typo"], "is not a reverie run folder"),
    ("diagnose-no-checkpoint", "diagnose", ["run_dir={t}/fake"], "no last checkpoint in"),
    ("diagnose-extractor", "diagnose", ["run_dir={t}/fake", "extractor=rule"], "extractor=rule: no such config"),
    ("diagnose-out-exists", "diagnose", ["run_dir={t}/fake", "diagnose.out={t}/diag"], "descriptions.jsonl exists"),
    (
        "diagnose-out-is-input",
        "diagnose",
        ["run_dir={t}/fake", "diagnose.out={t}/diag", "diagnose.descriptions={t}/diag/descriptions.jsonl"],
        "is also the input diagnose.descriptions",
    ),
    # reverie.targeted
    ("targeted-no-diagnosis", "targeted", ["out={t}/t.json"], "diagnosis is required"),
    ("targeted-missing", "targeted", ["diagnosis={t}/none.json", "out={t}/t.json"], "profile file not found"),
    ("targeted-malformed", "targeted", ["diagnosis={t}/bad.jsonl", "out={t}/t.json"], r"bad.jsonl:2: not a valid"),
    ("targeted-not-profile", "targeted", ["diagnosis={t}/obj.json", "out={t}/t.json"], "missing object 'concepts'"),
    ("targeted-out-is-input", "targeted", ["diagnosis={t}/obj.json", "out={t}/obj.json"], "is also the input"),
    ("targeted-out-exists", "targeted", ["diagnosis={t}/obj.json", "out={t}/old.json"], "old.json exists"),
    ("targeted-side-exists", "targeted", ["diagnosis={t}/obj.json", "out={t}/side.json"], "side.report.json exists"),
    # reverie.annotate
    ("annotate-no-images", "annotate", ["out={t}/ann", "annotator=world"], "images is required"),
    ("annotate-images-missing", "annotate", ["images={t}/none", "out={t}/ann"], "no such folder or list file"),
    ("annotate-images-empty", "annotate", ["images={t}/emptydir", "out={t}/ann"], "no image files"),
    ("annotate-list-malformed", "annotate", ["images={t}/bad.json", "out={t}/ann"], "bad.json:1: not JSON"),
    ("annotate-list-gone", "annotate", ["images={t}/gone.txt", "out={t}/ann"], "gone.txt:line 1: image file not"),
    ("annotate-foreign-out", "annotate", ["images={t}/images", "out={t}/diag"], "holds files this command did not"),
    ("annotate-out-is-images", "annotate", ["images={t}/images", "out={t}/images"], "is also the input images"),
    (
        "annotate-unset-key",
        "annotate",
        ["images={t}/images", "out={t}/ann", "annotator.model=m", f"annotator.api_key_env={UNSET}"],
        f"the environment variable {UNSET} is not set",
    ),
    ("annotate-annotator", "annotate", ["images={t}/images", "out={t}/ann", "annotator=opnai"], "did you mean"),
    # reverie.report (argparse)
    ("report-missing", "report", ["{t}/nowhere"], "nowhere"),
    # reverie.world (argparse)
    ("world-no-out", "world", [], "the following arguments are required: --out"),
    ("world-not-a-number", "world", ["--out", "{t}/w", "--images", "many"], "argument --images: invalid int value"),
    ("world-unknown-option", "world", ["--out", "{t}/w", "--imagez", "3"], "unrecognized arguments: --imagez 3"),
    ("world-no-images", "world", ["--out", "{t}/w", "--images", "0"], "num_images=0 is too small"),
    ("world-unknown-theme", "world", ["--out", "{t}/w", "--themes", "kitchen,lava"], r"unknown theme\(s\) \['lava'\]"),
    ("world-bad-weights", "world", ["--out", "{t}/w", "--reverie-types", "yes_no"], "expected type=weight"),
    ("world-foreign-out", "world", ["--out", "{t}/diag"], "holds files that are not part of a world"),
    ("world-out-is-file", "world", ["--out", "{t}/q.jsonl"], "q.jsonl exists and is not a directory"),
]


@pytest.fixture
def workspace(tmp_path: Path, monkeypatch) -> Path:
    """Inputs, good and bad, for the table; also the working directory."""
    monkeypatch.delenv("HYDRA_FULL_ERROR", raising=False)
    monkeypatch.delenv(UNSET, raising=False)
    write_images(tmp_path / "images", 2)
    (tmp_path / "emptydir").mkdir()
    (tmp_path / "fake" / ".hydra").mkdir(parents=True)  # a run folder without a checkpoint
    (tmp_path / "fake" / ".hydra" / "config.yaml").write_text("{}\n")
    good = {"image": "images/000.png", "question": "Is there a cat?"}
    (tmp_path / "q.jsonl").write_text(json.dumps(good) + "\n")
    (tmp_path / "bad.jsonl").write_text(json.dumps(good) + "\n{not json\n")
    (tmp_path / "list.jsonl").write_text("[1, 2]\n")
    (tmp_path / "noq.jsonl").write_text(json.dumps({"image": "images/000.png"}) + "\n")
    (tmp_path / "empty.jsonl").write_text("\n")
    (tmp_path / "gone.jsonl").write_text(json.dumps({**good, "image": "images/none.png"}) + "\n")
    (tmp_path / "old.jsonl").write_text("keep me\n")
    (tmp_path / "old.json").write_text("keep me\n")
    (tmp_path / "side.report.json").write_text("keep me\n")
    (tmp_path / "obj.json").write_text("{}\n")
    (tmp_path / "bad.json").write_text("[oops\n")
    (tmp_path / "gone.txt").write_text("images/none.png\n")
    (tmp_path / "diag").mkdir()
    (tmp_path / "diag" / "profile.json").write_text("{}\n")
    (tmp_path / "diag" / "descriptions.jsonl").write_text("\n")
    return tmp_path


def snapshot(folder: Path) -> dict[str, tuple[int, int]]:
    """Every path under `folder`; files with their size and modification time (a folder's own time changes when a
    stray folder is made in it and removed again, which leaves nothing behind)."""
    return {
        str(p.relative_to(folder)): (p.stat().st_size, p.stat().st_mtime_ns) if p.is_file() else None
        for p in sorted(folder.rglob("*"))
    }


def call(entry: str, args: list[str], cwd: Path) -> tuple[int, str]:
    """Run `python -m reverie.<entry> ARGS` in `cwd`, in a forked copy of this process (the heavy imports are done
    once, in the parent; the child has its own Hydra, logging and stdio); (exit status, stderr)."""
    importlib.import_module("reverie.annotate.job" if entry == "annotate" else f"reverie.{entry}")  # preload
    with tempfile.TemporaryDirectory() as folder:
        err = Path(folder) / "stderr"
        pid = os.fork()
        if pid == 0:  # the child: never returns
            code = 70
            try:
                fd = os.open(err, os.O_WRONLY | os.O_CREAT)
                os.dup2(fd, 2)
                os.dup2(os.open(os.devnull, os.O_WRONLY), 1)
                sys.stderr = open(2, "w", closefd=False)  # noqa: SIM115
                sys.stdout = open(1, "w", closefd=False)  # noqa: SIM115
                os.chdir(cwd)
                sys.argv = [f"reverie.{entry}", *args]
                try:
                    runpy.run_module(f"reverie.{entry}", run_name="__main__", alter_sys=True)
                    code = 0
                except SystemExit as stop:
                    code = stop.code if isinstance(stop.code, int) else 1
                except BaseException:
                    traceback.print_exc()
                    code = 1
            finally:
                sys.stderr.flush()
                os._exit(code)
        _, status = os.waitpid(pid, 0)
        return os.waitstatus_to_exitcode(status), err.read_text()


@pytest.mark.parametrize(("entry", "args", "expected"), [c[1:] for c in CASES], ids=[c[0] for c in CASES])
def test_bad_input_is_one_line_exit_2_and_writes_nothing(workspace, entry, args, expected):
    import re

    before = snapshot(workspace)
    code, err = call(entry, [a.replace("{t}", str(workspace)) for a in args], workspace)
    lines = [line for line in err.splitlines() if line.strip() and not line.startswith("INFO: ")]  # progress logs
    assert code == 2, err
    assert len(lines) == 1 and lines[0].startswith("reverie: error: "), err
    assert re.search(expected, lines[0]) or expected in lines[0], lines[0]
    after = snapshot(workspace)  # nothing written, nothing replaced, no stray Hydra folder
    assert after == before, sorted(set(after.items()) ^ set(before.items()))


def test_the_table_covers_every_entry_point_with_40_inputs():
    entries = {c[1] for c in CASES}
    assert entries == {
        "run", "evaluate", "inspect", "generate", "export", "diagnose", "targeted", "annotate", "report", "world"
    }  # fmt: skip
    assert len(CASES) >= 40 and len({c[0] for c in CASES}) == len(CASES)


def test_hydra_full_error_shows_the_traceback(workspace, monkeypatch):
    monkeypatch.setenv("HYDRA_FULL_ERROR", "1")
    code, err = call("evaluate", [f"run_dir={workspace}/typo"], workspace)
    assert code == 1 and "Traceback" in err and "is not a reverie run folder" in err
