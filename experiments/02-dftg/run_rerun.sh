#!/usr/bin/env bash
# Study 02's rerun (issue 20), the pre-registered chain seed by seed. Reproduce from the repository root:
#   bash experiments/02-dftg/run_rerun.sh [D] [SEEDS]      (D defaults to outputs/study02c, SEEDS to "0 1 2 3 4 5 6 7")
# Per seed: the default run (its base cached), its diagnoses on val (targets) and test (before), the targeted and
# untargeted files, the three arms (1,000 steps each from the default run), each arm re-diagnosed on test and its
# difference in differences. Then the paired report against `none` and analyze_rerun.py's tables in 2026-12-rerun/.
# A finished step is skipped, so an interrupted run continues where it stopped.
set -euo pipefail
cd "$(dirname "${BASH_SOURCE[0]}")/../.."
D="${1:-outputs/study02c}"
here=experiments/02-dftg/2026-12-rerun
mkdir -p "$D" "$here"
for s in ${2:-0 1 2 3 4 5 6 7}; do
  [ -f "$D/base_s$s/summary.json" ] || python -m reverie.run seed="$s" hydra.run.dir="$D/base_s$s"
  [ -f "$D/diag_val_s$s/profile.json" ] ||
    python -m reverie.diagnose run_dir="$D/base_s$s" diagnose.split=val diagnose.out="$D/diag_val_s$s"
  [ -f "$D/diag_before_s$s/profile.json" ] ||
    python -m reverie.diagnose run_dir="$D/base_s$s" diagnose.split=test diagnose.out="$D/diag_before_s$s"
  for mode in targeted untargeted; do
    [ -f "$D/${mode}_s$s.json" ] || python -m reverie.targeted diagnosis="$D/diag_val_s$s/profile.json" mode=$mode \
      seed="$s" negatives_on=triggers top=5 \
      'types={existence: 0.4, description: 0.3, attribute: 0.1, position: 0.1, relation: 0.1}' out="$D/${mode}_s$s.json"
  done
  [ -d "$D/sweeps/s$s" ] || python -m reverie.run -m +experiment=study02_dftg_targeted dftg_dir="$D" \
    'init_from=${dftg_dir}/base_s${seed}' seed="$s" hydra.sweep.dir="$D/sweeps/s$s"
  for R in "$D/sweeps/s$s"/[0-9]*; do
    [ -f "$R/diag_after/profile.json" ] ||
      python -m reverie.diagnose run_dir="$R" diagnose.split=test diagnose.out="$R/diag_after"
    python -m reverie.dftg.did "$D/diag_before_s$s/profile.json" "$R/diag_after/profile.json" \
      "$D/targeted_s$s.report.json" > "$R/did.json"
  done
done
python -m reverie.report "$D/sweeps" baseline=data.arm=none \
  primary=eval/pope/adversarial/false_yes_rate,eval/pope/adversarial_gap,eval/chair/chair_i,eval/chair/cooccur_share \
  --metrics eval/pope/random/accuracy eval/pope/adversarial/accuracy eval/pope/adversarial/false_yes_rate \
  eval/pope/adversarial_gap eval/pope/adversarial/yes_ratio eval/chair/chair_i eval/chair/cooccur_share eval/chair/mentions
for f in paired.md paired.csv report.md report.csv report.png; do cp "$D/sweeps/$f" "$here/"; done
python experiments/02-dftg/analyze_rerun.py "$D" "$here"
