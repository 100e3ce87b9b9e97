"""`reverie.report` turns a real multirun (Hydra -m over reverie.run) into a table, a CSV and a plot."""

import csv
import json
import os
import subprocess
import sys

import pytest
from scipy import stats

from reverie.errors import InputError
from reverie.paired import better_direction, holm
from reverie.report import main, parse_args, report


def test_report_from_a_real_multirun(tmp_path, world_cache):
    sweep = tmp_path / "sweep"
    env = {**os.environ, "REVERIE_CACHE_DIR": str(world_cache)}
    cmd = [
        sys.executable,
        "-m",
        "reverie.run",
        "-m",
        "+debug=fast",
        "world.num_images=60",
        "seed=0,1",
        "reflection.kinds=none,both",
        f"hydra.sweep.dir={sweep}",
    ]
    subprocess.run(cmd, check=True, env=env, capture_output=True, timeout=600)
    table = report(sweep, ["eval/pope/mean_f1", "eval/chair/chair_i", "val_loss"])
    lines = table.splitlines()
    assert lines[0] == "| reflection.kinds | n | eval/pope/mean_f1 | eval/chair/chair_i | val_loss |"
    # with a base (the default `base: world`) a `base (before)` row follows: one base per seed, shared by both arms
    has_base = any(json.loads(p.read_text()).get("base") for p in sweep.rglob("summary.json"))
    assert {line.split(" | ")[0] for line in lines[2:]} == {"| none", "| both", *["| base (before)"] * has_base}
    assert all(" | 2 | " in line and "±" in line for line in lines[2:])
    rows = list(csv.DictReader((sweep / "report.csv").open()))
    assert len(rows) == 4 and {r["seed"] for r in rows} == {"0", "1"}
    assert (sweep / "report.png").stat().st_size > 1000 and (sweep / "report.md").is_file()


def _job(root, name: str, overrides: list[str], config: str, f1: float) -> None:
    job = root / name
    (job / ".hydra").mkdir(parents=True)
    (job / ".hydra" / "overrides.yaml").write_text("".join(f"- {o}\n" for o in overrides))
    (job / ".hydra" / "config.yaml").write_text(config)
    (job / "summary.json").write_text(f'{{"eval": {{"pope": {{"mean_f1": {f1}}}}}, "val_loss": 1.0}}')


def test_two_sweeps_in_one_folder_fill_unswept_keys_from_each_jobs_config(tmp_path):
    kinds_cfg = "reflection:\n  kinds: {}\n  context: separate\n"
    for seed in (0, 1):
        _job(tmp_path, f"kinds/{seed}", ["reflection.kinds=none", f"seed={seed}"], kinds_cfg.format("none"), 0.5)
        _job(
            tmp_path,
            f"context/{seed}",
            ["reflection.context=joint_pos_first", f"seed={seed}"],
            "reflection:\n  kinds: both\n  context: joint_pos_first\n",
            0.6 + seed / 10,
        )
    lines = report(tmp_path, ["eval/pope/mean_f1"]).splitlines()
    assert lines[0] == "| reflection.context | reflection.kinds | n | eval/pope/mean_f1 |"
    assert sorted(lines[2:]) == [
        "| joint_pos_first | both | 2 | 0.6500 ± 0.6353 |",  # t(1) = 12.706 x std 0.0707 / sqrt(2)
        "| separate | none | 2 | 0.5000 ± 0.0000 |",
    ]


# ---- paired reports, the base row, provenance ---------------------------------------------------------------------

KINDS = "reflection.kinds"


def _run(
    root,
    kinds: str,
    seed: int,
    metrics: dict,
    base: dict | None = None,
    provenance: dict | None = None,
) -> None:
    """A hand-written reverie.run job of a `reflection.kinds x seed` sweep; ``metrics`` are its eval figures."""
    job = root / f"{kinds}_{seed}"
    (job / ".hydra").mkdir(parents=True)
    (job / ".hydra" / "overrides.yaml").write_text(f"- {KINDS}={kinds}\n- seed={seed}\n")
    (job / ".hydra" / "config.yaml").write_text(f"seed: {seed}\nreflection:\n  kinds: {kinds}\n")
    summary = {"eval": metrics, "val_loss": metrics.pop("val_loss", 1.0), "base": base, "provenance": provenance}
    (job / "summary.json").write_text(json.dumps(summary))


def _prov(commit: str | None, dirty: bool = False, world: str | None = "w0rld") -> dict:
    code = {"commit": commit, "dirty": dirty, "version": "0.1.0"}
    return {"code": code, "command": "python -m reverie.run", "hashes": {"world": world, "tower": None}}


F1 = "eval/pope/mean_f1"
CHAIR = "eval/chair/chair_i"
YES = "eval/pope/adversarial/yes_ratio"


def _three_arms(root) -> None:
    """Arms none (the baseline), both and answers over seeds 0-2; `answers` lacks seed 2.

    f1:      none 0.50 0.60 0.70 | both 0.60 0.80 1.00 (diffs 0.1 0.2 0.3)  | answers 0.55 0.55 (diffs 0.05 -0.05)
    chair_i: none 0.30 0.30 0.30 | both 0.20 0.25 0.35 (diffs -0.1 -0.05 0.05) | answers 0.30 0.10 (diffs 0 -0.2)
    yes_ratio: 0.5 everywhere but both: 0.6 0.4 0.7 (diffs 0.1 -0.1 0.2)
    """
    f1 = {"none": [0.5, 0.6, 0.7], "both": [0.6, 0.8, 1.0], "answers": [0.55, 0.55]}
    chair = {"none": [0.3, 0.3, 0.3], "both": [0.2, 0.25, 0.35], "answers": [0.3, 0.1]}
    yes = {"none": [0.5] * 3, "both": [0.6, 0.4, 0.7], "answers": [0.5] * 2}
    for kinds in f1:
        for seed in range(len(f1[kinds])):
            metrics = {
                "pope": {"mean_f1": f1[kinds][seed], "adversarial": {"yes_ratio": yes[kinds][seed]}},
                "chair": {"chair_i": chair[kinds][seed]},
            }
            _run(root, kinds, seed, metrics)


def _rows(root) -> dict[tuple[str, str], dict]:
    return {(r["arm"], r["metric"]): r for r in csv.DictReader((root / "paired.csv").open())}


def test_paired_differences_against_a_baseline_by_hand(tmp_path):
    _three_arms(tmp_path)
    out = report(tmp_path, [F1, CHAIR, YES], baseline=f"{KINDS}=none")
    rows = _rows(tmp_path)
    both_f1 = rows[(f"{KINDS}=both", F1)]
    # diffs 0.1 0.2 0.3 -> mean 0.2, sd 0.1, se 0.1/sqrt(3) = 0.057735; t(2) 97.5 % = 4.3027 -> half 0.24841
    assert both_f1["n_pairs"] == "3" and both_f1["n_left_out"] == "0"
    assert float(both_f1["mean_diff"]) == pytest.approx(0.2)
    assert float(both_f1["ci_low"]) == pytest.approx(0.2 - 0.24841, abs=1e-4)
    assert float(both_f1["ci_high"]) == pytest.approx(0.2 + 0.24841, abs=1e-4)
    assert both_f1["better"] == "higher" and both_f1["n_better"] == "3"
    # t = 0.2 / 0.057735 = 3.4641 on 2 df; P(|T2| > t) = 1 - t / sqrt(t^2 + 2) = 1 - 3.4641 / 3.7417 = 0.07418
    assert float(both_f1["p"]) == pytest.approx(0.07418, abs=1e-4)
    assert float(both_f1["p"]) == pytest.approx(stats.ttest_rel([0.6, 0.8, 1.0], [0.5, 0.6, 0.7]).pvalue)
    both_chair = rows[(f"{KINDS}=both", CHAIR)]
    # diffs -0.1 -0.05 0.05 -> mean -0.033333; sd sqrt((0.004444 + 0.000278 + 0.006944) / 2) = 0.076376;
    # se 0.044096 -> half 4.3027 x 0.044096 = 0.18973; lower is better: 2 of 3 seeds
    assert float(both_chair["mean_diff"]) == pytest.approx(-0.033333, abs=1e-6)
    assert float(both_chair["ci_high"]) - float(both_chair["mean_diff"]) == pytest.approx(0.18973, abs=1e-4)
    assert both_chair["better"] == "lower" and both_chair["n_better"] == "2"
    # t = -0.033333 / 0.044096 = -0.75593 on 2 df: p = 1 - 0.75593 / sqrt(0.57143 + 2) = 1 - 0.47140 = 0.52860
    assert float(both_chair["p"]) == pytest.approx(0.52860, abs=1e-4)
    # MDE: (t(0.975, 2) 4.3027 + t(0.8, 2) 1.0607) x se 0.044096 = 0.23651
    assert float(both_chair["mde"]) == pytest.approx(0.23651, abs=1e-4)
    both_yes = rows[(f"{KINDS}=both", YES)]
    assert both_yes["better"] == "" and both_yes["n_better"] == ""  # yes_ratio: neither way is better
    assert not any(r["primary"] == "1" or r["p_holm"] for r in rows.values())  # no primary metrics named
    lines = out.split("\n\n")[1].splitlines()
    assert lines[0] == (
        "| arm | metric | better | n pairs | left out | mean diff | 95 % CI | better in | p | p (Holm) | MDE |"
    )
    assert f"| {KINDS}=both | {F1} | higher | 3 | 0 | +0.2000 | [-0.0484, +0.4484] | 3/3 | 0.074 |  | 0.3097 |" in lines
    assert f"| {KINDS}=both | {YES} | – | 3 | 0 | +0.0667 |" in "\n".join(lines)
    paired_md = (tmp_path / "paired.md").read_text()
    assert paired_md.startswith(f"# {tmp_path.name}: paired differences against {KINDS}=none\n")
    assert "WARNING" not in paired_md and lines[0] in paired_md


def test_a_seed_missing_in_one_arm_is_left_out_and_counted(tmp_path):
    _three_arms(tmp_path)
    report(tmp_path, [F1, CHAIR], baseline="none")  # the value alone names the arm
    answers = _rows(tmp_path)[(f"{KINDS}=answers", F1)]
    # seeds 0 and 1 pair (diffs 0.05, -0.05); seed 2 has no `answers` run
    assert answers["n_pairs"] == "2" and answers["n_left_out"] == "1" and answers["left_out_seeds"] == "2"
    assert float(answers["mean_diff"]) == pytest.approx(0.0, abs=1e-12) and answers["n_better"] == "1"
    # sd = sqrt(2 x 0.05^2 / 1) = 0.070711, se 0.05, t(1) 97.5 % = 12.706 -> half 0.63531; t = 0 -> p = 1
    assert float(answers["ci_high"]) == pytest.approx(0.63531, abs=1e-4)
    assert float(answers["p"]) == pytest.approx(1.0)
    assert f"| {KINDS}=answers | {F1} | higher | 2 | 1 (seed 2) | " in (tmp_path / "paired.md").read_text()


def test_holm_adjusts_the_primary_metrics_within_each_arm(tmp_path):
    _three_arms(tmp_path)
    report(tmp_path, [F1, CHAIR, YES], baseline=f"{KINDS}=none", primary=[F1, CHAIR])
    rows = _rows(tmp_path)
    # arm both: p(f1) = 0.07418, p(chair_i) = 0.52860 (see above); m = 2
    # Holm: smallest 0.07418 x 2 = 0.14836; next max(0.14836, 0.52860 x 1) = 0.52860
    assert float(rows[(f"{KINDS}=both", F1)]["p_holm"]) == pytest.approx(0.14836, abs=2e-4)
    assert float(rows[(f"{KINDS}=both", CHAIR)]["p_holm"]) == pytest.approx(0.52860, abs=1e-4)
    assert rows[(f"{KINDS}=both", YES)]["p_holm"] == "" and rows[(f"{KINDS}=both", YES)]["primary"] == "0"
    # arm answers: p(f1) = 1 (mean 0); chair_i diffs 0, -0.2 -> mean -0.1, sd 0.14142, se 0.1, t = -1 on 1 df:
    # p = 1 - 2 atan(1) / pi = 0.5. Holm: 0.5 x 2 = 1.0, then max(1.0, 1.0 x 1) = 1.0
    assert float(rows[(f"{KINDS}=answers", CHAIR)]["p"]) == pytest.approx(0.5)
    assert float(rows[(f"{KINDS}=answers", CHAIR)]["p_holm"]) == pytest.approx(1.0)
    assert float(rows[(f"{KINDS}=answers", F1)]["p_holm"]) == pytest.approx(1.0)


def test_holm_by_hand():
    # sorted 0.01, 0.02, 0.04 with m = 3: 0.03, max(0.03, 0.04) = 0.04, max(0.04, 0.04) = 0.04
    assert holm({"a": 0.04, "b": 0.01, "c": 0.02}) == pytest.approx({"b": 0.03, "c": 0.04, "a": 0.04})
    # monotone: 0.2 x 2 = 0.4, then max(0.4, 0.3 x 1) = 0.4; capped: 0.6 x 2 = 1.2 -> 1, then max(1, 0.7) = 1
    assert holm({"a": 0.3, "b": 0.2}) == pytest.approx({"b": 0.4, "a": 0.4})
    assert holm({"a": 0.6, "b": 0.7}) == pytest.approx({"a": 1.0, "b": 1.0})


def test_better_direction():
    lower = ["val_loss", "val_losses/reflect", "eval/chair/chair_i", "eval/chair/chair_s", "eval/pope/adversarial_gap"]
    lower += ["eval/pope/adversarial/false_yes_rate"]
    higher = ["eval/pope/mean_f1", "eval/pope/random/f1", "eval/pope/popular/accuracy", "eval/pope/random/precision"]
    higher += ["eval/pope/random/recall", "eval/mme/existence/acc_plus", "eval/pope/adversarial/f1_ci_low"]
    assert [better_direction(m) for m in lower] == [-1] * len(lower)
    assert [better_direction(m) for m in higher] == [1] * len(higher)
    assert (
        better_direction("eval/pope/adversarial/yes_ratio") is None and better_direction("eval/pope/random/tp") is None
    )


def test_key_value_and_option_arguments_agree(tmp_path):
    args = parse_args([str(tmp_path), "baseline=data.train_sources.3.weight=0.0,reflection.kinds=none", "primary=a,b"])
    assert args.baseline == "data.train_sources.3.weight=0.0,reflection.kinds=none" and args.primary == ["a", "b"]
    args = parse_args(["--baseline", "none", "--primary", "a", "b", "--metrics", "a", "b", "c", "--", str(tmp_path)])
    assert (args.baseline, args.primary, args.metrics, args.dir) == ("none", ["a", "b"], ["a", "b", "c"], tmp_path)
    assert parse_args([str(tmp_path)]).baseline is None


def test_an_unknown_baseline_is_a_one_line_error(tmp_path, capsys, monkeypatch):
    monkeypatch.delenv("HYDRA_FULL_ERROR", raising=False)
    _three_arms(tmp_path)
    with pytest.raises(SystemExit) as exit_info:
        main([str(tmp_path), "baseline=reflection.kinds=nope"])
    assert exit_info.value.code == 2
    err = capsys.readouterr().err
    assert err == (
        "reverie: error: baseline reflection.kinds=nope: no such arm; arms: "
        "reflection.kinds=answers, reflection.kinds=both, reflection.kinds=none\n"
    )
    assert not (tmp_path / "paired.md").exists()


def test_the_command_line_writes_both_reports(tmp_path, capsys):
    _three_arms(tmp_path)
    main([str(tmp_path), f"--metrics={F1}", "baseline=both", f"primary={F1}"])
    out = capsys.readouterr().out
    assert f"| {KINDS}=none | {F1} | higher | 3 | 0 | -0.2000 |" in out and "paired.csv" in out.splitlines()[-1]
    assert {p.name for p in tmp_path.glob("*.*")} == {
        "report.md",
        "report.csv",
        "report.png",
        "paired.md",
        "paired.csv",
    }


def test_the_base_row_shows_each_seeds_base_once(tmp_path):
    # seed 0's base (key b0) is shared by both arms of seed 0; seed 1's (b1) likewise: two bases, not four.
    # f1 0.40 and 0.50 -> mean 0.45, sd 0.070711, t(1) 12.706 x 0.05 = 0.6353
    for seed, f1 in ((0, 0.4), (1, 0.5)):
        base = {"key": f"b{seed}", "dir": f"/cache/bases/b{seed}", "eval": {"pope": {"mean_f1": f1}}}
        for kinds in ("none", "both"):
            _run(tmp_path, kinds, seed, {"pope": {"mean_f1": 0.6}, "val_loss": 0.9}, base=base)
    lines = report(tmp_path, [F1, "val_loss"]).splitlines()
    assert lines[-1] == "| base (before) | 2 | 0.4500 ± 0.6353 | – |"
    assert lines[-1] in (tmp_path / "report.md").read_text()
    # every run's row carries its base and the base's evaluation (val_loss is the run's own, not an eval figure)
    rows = list(csv.DictReader((tmp_path / "report.csv").open()))
    assert [(r["job"], r["base"], r[f"base/{F1}"]) for r in rows] == [
        ("both_0", "b0", "0.4"),
        ("both_1", "b1", "0.5"),
        ("none_0", "b0", "0.4"),
        ("none_1", "b1", "0.5"),
    ]
    assert "base/val_loss" not in rows[0]


def test_two_keys_holding_the_same_weights_are_one_base(tmp_path):
    # seed 0's arms keyed two bases (b0, b0-other) that trained to the same weights (one content hash): one base
    for seed, f1 in ((0, 0.4), (1, 0.5)):
        for kinds, key in (("none", f"b{seed}"), ("both", f"b{seed}-other")):
            base = {"key": key, "content_hash": f"w{seed}", "eval": {"pope": {"mean_f1": f1}}}
            _run(tmp_path, kinds, seed, {"pope": {"mean_f1": 0.6}}, base=base)
    assert report(tmp_path, [F1]).splitlines()[-1] == "| base (before) | 2 | 0.4500 ± 0.6353 |"


def test_an_undefined_metric_is_left_out_of_means_and_pairs(tmp_path):
    """CHAIR_i of a model that names no object is null in its summary: an empty cell, left out (and counted) in the
    paired differences, never read as 0."""
    for seed, chair in ((0, 0.5), (1, None), (2, 0.7)):
        _run(tmp_path, "none", seed, {"chair": {"chair_i": 0.6}})
        _run(tmp_path, "both", seed, {"chair": {"chair_i": chair}})
    report(tmp_path, ["eval/chair/chair_i"], baseline="none")
    rows = {r["job"]: r for r in csv.DictReader((tmp_path / "report.csv").open())}
    assert rows["both_1"]["eval/chair/chair_i"] == "" and rows["both_0"]["eval/chair/chair_i"] == "0.5"
    (pair,) = [r for r in csv.DictReader((tmp_path / "paired.csv").open()) if r["metric"] == "eval/chair/chair_i"]
    assert (pair["n_pairs"], pair["n_left_out"], pair["left_out_seeds"]) == ("2", "1", "1")
    assert float(pair["mean_diff"]) == pytest.approx(0.0)  # (-0.1 + 0.1) / 2


def test_mixed_code_versions_and_worlds_are_flagged(tmp_path, capsys):
    a, b = "a" * 40, "b" * 40
    _run(tmp_path, "none", 0, {"pope": {"mean_f1": 0.5}}, provenance=_prov(a))
    _run(tmp_path, "none", 1, {"pope": {"mean_f1": 0.5}}, provenance=_prov(a, world="0123456789abcdef"))
    _run(tmp_path, "both", 0, {"pope": {"mean_f1": 0.6}}, provenance=_prov(b, dirty=True))
    _run(tmp_path, "both", 1, {"pope": {"mean_f1": 0.6}})  # an old run: no provenance
    report(tmp_path, [F1], baseline="none")
    code = (
        "> **WARNING: these runs come from 3 code versions: aaaaaaa (2 runs), bbbbbbb+dirty (1 run), "
        "no provenance (1 run); compare with care.**"
    )
    worlds = (
        "> **WARNING: these runs come from 3 worlds: w0rld (2 runs), 0123456789ab (1 run), unknown world (1 run); "
        "compare with care.**"
    )
    for name in ("report.md", "paired.md"):
        text = (tmp_path / name).read_text().splitlines()
        assert text[2] == code and text[4] == worlds  # right under the title, before the table
    err = capsys.readouterr().err
    assert code.removeprefix("> ").replace("**", "") in err and "3 worlds" in err
    rows = {r["job"]: r for r in csv.DictReader((tmp_path / "report.csv").open())}
    assert rows["none_0"]["commit"] == a and rows["both_0"]["commit"] == b + "+dirty" and rows["both_1"]["commit"] == ""
    assert rows["none_1"]["world"] == "0123456789abcdef" and rows["both_1"]["world"] == ""


def test_one_code_version_and_one_world_give_no_warning(tmp_path, capsys):
    for seed in (0, 1):
        for kinds in ("none", "both"):
            _run(tmp_path, kinds, seed, {"pope": {"mean_f1": 0.5}}, provenance=_prov("c" * 40))
    report(tmp_path, [F1])
    assert "WARNING" not in (tmp_path / "report.md").read_text() and capsys.readouterr().err == ""


def test_arms_of_two_keys_by_full_label_values_or_an_unambiguous_part(tmp_path):
    weight = "data.train_sources.3.weight"
    for w, kinds in (("1.0", "both"), ("0.0", "none"), ("1.0", "none")):
        for seed in (0, 1):
            job = tmp_path / f"{w}_{kinds}_{seed}"
            (job / ".hydra").mkdir(parents=True)
            (job / ".hydra" / "overrides.yaml").write_text(f"- {weight}={w}\n- {KINDS}={kinds}\n- seed={seed}\n")
            (job / "summary.json").write_text(json.dumps({"eval": {"pope": {"mean_f1": 0.5 + seed / 10}}}))
    full = f"{weight}=0.0,{KINDS}=none"
    for name in (full, "0.0,none", f"{weight}=0.0"):
        report(tmp_path, [F1], baseline=name)
        text = (tmp_path / "paired.md").read_text()
        assert text.startswith(f"# {tmp_path.name}: paired differences against {full}\n")
        assert (
            f"| {weight}=1.0,{KINDS}=both | {F1} | higher | 2 | 0 | +0.0000 | [+0.0000, +0.0000] | 0/2 | 1.000 |"
            in text
        )
    with pytest.raises(InputError, match=f"baseline none: more than one arm matches .{weight}=0.0,{KINDS}=none, "):
        report(tmp_path, [F1], baseline="none")


def test_two_runs_of_one_arm_with_one_seed_cannot_be_paired(tmp_path):
    _three_arms(tmp_path)
    _run(tmp_path / "again", "both", 1, {"pope": {"mean_f1": 0.9}})
    with pytest.raises(InputError, match=f"arm {KINDS}=both has two runs with seed 1"):
        report(tmp_path, [F1], baseline="none")


def test_dpo_runs_report_their_preference_figures(tmp_path):
    """The manipulation check of a DPO study (held-out reward accuracy) is a report metric like any other."""
    for seed, accuracy in ((0, 0.6), (1, 0.8)):
        _run(tmp_path, "both", seed, {"pope": {"mean_f1": 0.5}})
        summary_file = tmp_path / f"both_{seed}" / "summary.json"
        summary = json.loads(summary_file.read_text())
        summary["preference"] = {"val": {"accuracy": accuracy, "margin": 0.1}, "train_last_epoch": {"accuracy": 0.9}}
        summary_file.write_text(json.dumps(summary))
    table = report(tmp_path, ["preference/val/accuracy", "preference/train_last_epoch/accuracy"])
    assert table.splitlines()[-1] == "| 2 | 0.7000 ± 1.2706 | 0.9000 ± 0.0000 |"  # t(1) 12.706 x sd 0.1414 / sqrt 2
