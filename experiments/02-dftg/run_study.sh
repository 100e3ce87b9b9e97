#!/usr/bin/env bash
# Study 02 (b) and (c): fine-tune models A (seed-0 default run) and B (seed-1) for 1,000 steps with no extra data,
# untargeted or targeted data (10,000 samples each), 3 training seeds, evaluate (POPE, CHAIR) and re-diagnose on the
# test split. One run (fine-tune + evaluation + re-diagnosis, about 2.5 min alone) holds the shared CPU lock at a time.
# Data: generated from the val-split diagnoses of diagnose_models.sh.
set -euo pipefail
cd "$(dirname "$0")/../.."
export OMP_NUM_THREADS=2
S=outputs/study02
A=outputs/study01b/context/0
B=outputs/study01b/context/1
SIZE=${SIZE:-10000}
py() { ./scripts/venv.sh python "$@"; }

gen() {  # name mode profile
  [ -f $S/data/$1.json ] || flock /tmp/reverie-cpu.lock ./scripts/venv.sh python -m reverie.targeted \
    diagnosis=$S/diagnose/$3/profile.json mode=$2 size=$SIZE out=$S/data/$1.json
}
gen targeted_A targeted both_s0_val
gen untargeted_A untargeted both_s0_val
gen targeted_B targeted both_s1_val

one_run() {  # model base arm seed
  local model=$1 base=$2 arm=$3 seed=$4
  local dir=$S/ft/${model}/${arm}_s${seed}
  if [ ! -f "$dir/summary.json" ]; then
    py -m reverie.run +experiment=dftg init_from="$base" data.arm="$arm" seed="$seed" \
      data.extra.targeted=$S/data/targeted_${model}.json data.extra.untargeted=$S/data/untargeted_A.json \
      +data.extra.targeted_by_A=$S/data/targeted_A.json hydra.run.dir="$dir" 2>&1 | grep -v "it/s" | tail -2
  fi
  if [ ! -f "$dir/diagnose_test/profile.json" ]; then
    py -m reverie.diagnose run_dir="$dir" diagnose.split=test diagnose.out="$dir/diagnose_test" \
      hydra.run.dir="$dir/diagnose_test/hydra" 2>&1 | grep -v "batch/s" | tail -2
  fi
}
export -f one_run py
export S A B OMP_NUM_THREADS
run() {
  [ -f "$S/ft/$1/${3}_s$4/diagnose_test/profile.json" ] && return 0
  flock /tmp/reverie-cpu.lock bash -c "one_run $*"
}

for seed in 0 1 2; do  # (b) first: it decides the headline comparison
  run A $A none $seed
  run A $A untargeted $seed
  run A $A targeted $seed
done
for seed in 0 1 2; do  # (c): own targeted data vs A's, then the no-extra reference
  run B $B targeted $seed
  run B $B targeted_by_A $seed
done
for seed in 0 1 2; do
  run B $B none $seed
done
echo "study done"
