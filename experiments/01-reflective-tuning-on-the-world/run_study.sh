#!/usr/bin/env bash
# Study 01 again (issue 20): rationales against answers only and two controls, 5 arms x 8 seeds on the shared bases.
# Reproduce from the repository root:   bash experiments/01-reflective-tuning-on-the-world/run_study.sh [OUT] [FOLDER]
# (OUT defaults to outputs/study01c; about 100 minutes on 2 CPU cores). Then the paired reports, kept in FOLDER under
# this study (default 2026-12-binding-bases: the 7-epoch bases at lr 3e-4, the default since commit 5b4bc93;
# 2026-12-rerun holds the round on the earlier bases, commit 3ce903d):
#   paired_vs_answers_only.*   every arm against the baseline (answers_only), Holm over the four primary metrics;
#   paired_vs_plain_targets.*  and paired_vs_length_matched.*: the controls that reflection must beat.
set -euo pipefail
cd "$(dirname "${BASH_SOURCE[0]}")/../.."
out="${1:-outputs/study01c}"
here=experiments/01-reflective-tuning-on-the-world/"${2:-2026-12-binding-bases}"  # the 2026-12-01 round: files above it
mkdir -p "$here"
primary=eval/pope/adversarial/false_yes_rate,eval/pope/adversarial_gap,eval/chair/chair_i,eval/chair/cooccur_share
metrics=(eval/pope/random/accuracy eval/pope/adversarial/accuracy eval/pope/adversarial/false_yes_rate
  eval/pope/random/false_yes_rate eval/pope/adversarial_gap eval/pope/random/yes_ratio eval/pope/adversarial/yes_ratio
  eval/chair/chair_i eval/chair/chair_s eval/chair/cooccur_share eval/chair/recall eval/chair/mentions)
[ -d "$out" ] || python -m reverie.run -m +experiment=study01_controls hydra.sweep.dir="$out"
for baseline in answers_only plain_targets length_matched; do
  python -m reverie.report "$out" baseline=arm="$baseline" primary="$primary" --metrics "${metrics[@]}"
  for f in paired.md paired.csv; do cp "$out/$f" "$here/${f/paired/paired_vs_$baseline}"; done
done
cp "$out/report.md" "$out/report.csv" "$out/report.png" "$here/"
