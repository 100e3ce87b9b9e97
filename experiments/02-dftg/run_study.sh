#!/usr/bin/env bash
# Study 02 (b) and (c): fine-tune models A (seed-0 default run) and B (seed-1) for 1,000 steps with no extra data,
# untargeted or targeted data (10,000 samples each), 3 training seeds, then evaluate (POPE, CHAIR) and re-diagnose
# on the test split. Each training run and each diagnosis holds the shared CPU lock on its own.
set -euo pipefail
cd "$(dirname "$0")/../.."
export OMP_NUM_THREADS=2
S=outputs/study02
A=outputs/study01b/context/0
B=outputs/study01b/context/1
SIZE=${SIZE:-10000}
py() { flock /tmp/reverie-cpu.lock ./scripts/venv.sh python "$@"; }

# Generate (profiles from the val split, images from the train split).
[ -f $S/data/targeted_A.json ] || py -m reverie.targeted diagnosis=$S/diagnose/both_s0_val/profile.json mode=targeted size=$SIZE out=$S/data/targeted_A.json
[ -f $S/data/untargeted_A.json ] || py -m reverie.targeted diagnosis=$S/diagnose/both_s0_val/profile.json mode=untargeted size=$SIZE out=$S/data/untargeted_A.json
[ -f $S/data/targeted_B.json ] || py -m reverie.targeted diagnosis=$S/diagnose/both_s1_val/profile.json mode=targeted size=$SIZE out=$S/data/targeted_B.json

run() {  # model base arm extra-overrides...
  local model=$1 base=$2 arm=$3 seed=$4; shift 4
  local dir=$S/ft/${model}/${arm}_s${seed}
  if [ ! -f "$dir/summary.json" ]; then
    py -m reverie.run +experiment=dftg init_from="$base" data.arm="$arm" seed="$seed" \
      data.extra.targeted=$S/data/targeted_${model}.json data.extra.untargeted=$S/data/untargeted_A.json \
      +data.extra.targeted_by_A=$S/data/targeted_A.json hydra.run.dir="$dir" "$@" 2>&1 | grep -v "it/s" | tail -4
  fi
  if [ ! -f "$dir/diagnose_test/profile.json" ]; then
    py -m reverie.diagnose run_dir="$dir" diagnose.split=test diagnose.out="$dir/diagnose_test" \
      hydra.run.dir="$dir/diagnose_test/hydra" 2>&1 | grep -v "batch/s" | tail -2
  fi
}
for seed in 0 1 2; do
  run A $A none $seed
  run A $A untargeted $seed
  run A $A targeted $seed
  run B $B none $seed
  run B $B targeted $seed
  run B $B targeted_by_A $seed
done
echo "study done"
