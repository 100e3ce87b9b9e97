#!/usr/bin/env bash
# Study 04: the positive control and the instrument's sensitivity. Reproduce from the repository root:
#   bash experiments/04-positive-control/run_study.sh [OUT]     (OUT defaults to outputs/study04)
# 1. the dose sweep (4 doses x 8 seeds; each seed's base is trained once, cached, and shared by its 4 arms);
# 2. answers-only at dose 0 on the same bases (the baseline arm's check of the recipe, experiments/00);
# 3. two more seeds' bases (the base's binding over 10 seeds);
# 4. the paired report and this study's tables (analyze.py).
set -euo pipefail
cd "$(dirname "${BASH_SOURCE[0]}")/../.."
out="${1:-outputs/study04}"
primary=eval/pope/adversarial/false_yes_rate,eval/pope/adversarial_gap,eval/chair/chair_i,eval/chair/cooccur_share
python -m reverie.run -m +experiment=positive_control hydra.sweep.dir="$out/sweep"
python -m reverie.run -m reflection=answers_only 'seed=range(8)' hydra.sweep.dir="$out/answers_only"
python -m reverie.run -m 'seed=8,9' hydra.sweep.dir="$out/extra_bases"
python -m reverie.report "$out/sweep" baseline=data.train_sources.3.weight=0.0 primary="$primary" \
  --metrics eval/pope/random/accuracy eval/pope/adversarial/accuracy eval/pope/adversarial/false_yes_rate \
  eval/pope/adversarial_gap eval/pope/adversarial/yes_ratio eval/chair/chair_i eval/chair/cooccur_share
python experiments/04-positive-control/analyze.py "$out/sweep" experiments/04-positive-control \
  --answers-only "$out/answers_only" --extra-bases "$out/extra_bases"
for f in paired.md paired.csv report.md report.csv report.png; do cp "$out/sweep/$f" experiments/04-positive-control/; done
