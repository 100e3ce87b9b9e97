#!/usr/bin/env bash
# The positive control on binding bases (7 base epochs at lr 3e-4, the base's defaults since commit 5b4bc93):
# dose 0 against dose 2 (16 mate questions per image) at seeds 0-7, then the paired report. Extra arguments are
# overrides for every run (e.g. another base recipe).
#   bash experiments/04-positive-control/run_binding.sh [OUT [OVERRIDES...]]   (OUT defaults to outputs/study04-binding)
# As run for binding-bases/ (commit d09f193, where the two defaults were spelled `base.stage.optim.lr=3e-4
# base.epochs=7`): one run per seed and dose, OMP_NUM_THREADS=1, two at a time on 2 cores; 119-131 s a run with its
# base cached, about 7 minutes more for a seed's first run (its base).
set -euo pipefail
out="${1:-outputs/study04-binding}"
primary=eval/pope/adversarial/false_yes_rate,eval/pope/adversarial_gap,eval/chair/chair_i,eval/chair/cooccur_share
python -m reverie.run -m +experiment=positive_control 'seed=range(8)' data.train_sources.3.weight=0.0,2.0 \
  hydra.sweep.dir="$out" "${@:2}"
python -m reverie.report "$out" baseline=data.train_sources.3.weight=0.0 primary="$primary" \
  --metrics eval/pope/random/accuracy eval/pope/adversarial/accuracy eval/pope/adversarial/false_yes_rate \
  eval/pope/adversarial_gap eval/pope/adversarial/yes_ratio eval/chair/chair_i eval/chair/cooccur_share
