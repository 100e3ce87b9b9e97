#!/usr/bin/env bash
# Study 03 again (issue 20): DPO on co-occurrence pairs against extra SFT on the same samples, on the shared bases.
# Reproduce from the repository root:   bash experiments/03-reflect-vs-prefer/run_study.sh [OUT] [SEEDS]
# OUT defaults to outputs/study03c, SEEDS to 'range(8)' (run as 'range(4)' on 2026-12-06, then '4,5,6,7' into OUT/s4_7). Each DPO
# arm is read against the SFT control at its own lr: paired_vs_sft_lr1e-3.* and paired_vs_sft_lr3e-4.* in
# 2026-12-rerun/, with report.* (one row per run, its base's evaluation included).
set -euo pipefail
cd "$(dirname "${BASH_SOURCE[0]}")/../.."
out="${1:-outputs/study03c}"
seeds="${2:-range(8)}"
here=experiments/03-reflect-vs-prefer/2026-12-rerun
mkdir -p "$here"
primary=eval/pope/adversarial/false_yes_rate,eval/pope/adversarial_gap,eval/chair/chair_i,eval/chair/cooccur_share
metrics=(eval/pope/random/accuracy eval/pope/random/false_yes_rate eval/pope/adversarial/accuracy eval/pope/adversarial/false_yes_rate
  eval/pope/adversarial_gap eval/pope/adversarial/yes_ratio eval/chair/chair_i eval/chair/cooccur_share
  eval/chair/mentions preference/val/rewards/accuracy preference/val/rewards/margins)  # preference: the manipulation check
[ -d "$out" ] || python -m reverie.run -m +experiment=study03_dpo_targeted "seed=$seeds" hydra.sweep.dir="$out"
for baseline in sft_lr1e-3 sft_lr3e-4; do
  python -m reverie.report "$out" baseline=arm="$baseline" primary="$primary" --metrics "${metrics[@]}"
  for f in paired.md paired.csv; do cp "$out/$f" "$here/${f/paired/paired_vs_$baseline}"; done
done
cp "$out/report.md" "$out/report.csv" "$out/report.png" "$here/"
