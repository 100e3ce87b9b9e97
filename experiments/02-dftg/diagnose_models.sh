#!/usr/bin/env bash
# Study 02 (a): diagnose the trained default models of study 01 (seeds = different models), test and val splits.
# Each diagnosis holds the shared CPU lock on its own. Output: outputs/study02/diagnose/<model>_<split>/.
set -euo pipefail
cd "$(dirname "$0")/../.."
export OMP_NUM_THREADS=2
declare -A MODELS=(
  [both_s0]=outputs/study01b/context/0 [both_s1]=outputs/study01b/context/1 [both_s2]=outputs/study01b/context/2
  [both_s3]=outputs/study01b/context_s34/0 [both_s4]=outputs/study01b/context_s34/1
  [none_s0]=outputs/study01b/kinds/0 [none_s1]=outputs/study01b/kinds/1 [none_s2]=outputs/study01b/kinds/2
  [none_s3]=outputs/study01b/kinds_s34/0 [none_s4]=outputs/study01b/kinds_s34/1
)
for name in both_s0 both_s1 both_s2 both_s3 both_s4 none_s0 none_s1 none_s2 none_s3 none_s4; do
  for split in ${SPLITS:-test val}; do
    out=outputs/study02/diagnose/${name}_${split}
    [ -f "$out/profile.json" ] && continue
    flock /tmp/reverie-cpu.lock ./scripts/venv.sh python -m reverie.diagnose run_dir="${MODELS[$name]}" \
      diagnose.split="$split" diagnose.out="$out" hydra.run.dir="$out/hydra" 2>&1 | grep -v "it/s\|batch/s" | tail -3
  done
done
