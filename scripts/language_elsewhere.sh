#!/usr/bin/env bash
# The language ablation's recording and training on a rented GPU machine, in one command:
# record expert demos of the seven Franka tabletop tasks in parallel (one process per shard,
# each rendering through EGL), then train CONFIG on all the shards at once with the dataset held
# in the GPU's memory, for TIME seconds of training. Writes OUT/train/: last/ (the checkpoint),
# metrics.jsonl, budget.json and collect.json. Score it back here:
#   python scripts/language_ablation.py --trained OUT/train --config CONFIG --episodes 20 \
#       --env librobot/Franka-PickCup-v1 ... (the same seven ids) --out outputs/lang-128
# The machine has no MiniLM: export the instructions' text states here first, and carry them:
#   python scripts/train_elsewhere.py export --env ID ... --seeds DEMOS --out .carry/states.pt
# Settings by environment variable (defaults in brackets): PY [python3], OUT
# [outputs/language-elsewhere], DATA [/tmp/tabletop-data], DEMOS per task [200], SHARDS per task
# [2], SIZE px [128], TIME s of training [300], or BUDGET s for the whole script (training
# gets what the recording leaves, less a minute to load the data and save), STATES
# [.carry/states.pt], CONFIG [configs/train/tiny-octo-tabletop-128.yaml], DEVICE [cuda].
set -euo pipefail
PY=${PY:-python3}
OUT=${OUT:-outputs/language-elsewhere}
DATA=${DATA:-/tmp/tabletop-data}
DEMOS=${DEMOS:-200}
SHARDS=${SHARDS:-2}
SIZE=${SIZE:-128}
TIME=${TIME:-300}
STATES=${STATES:-.carry/states.pt}
CONFIG=${CONFIG:-configs/train/tiny-octo-tabletop-128.yaml}
DEVICE=${DEVICE:-cuda}
TASKS=(PickCup-v1 PressButton-v0 PushToTarget-v0 PlaceInContainer-v0 StackBlocks-v0
       OpenDrawer-v0 CloseDrawer-v0)
envs=()
for task in "${TASKS[@]}"; do envs+=(--env "librobot/Franka-$task"); done
export MUJOCO_GL=${MUJOCO_GL:-egl} PYTHONUNBUFFERED=1
started=$SECONDS

OMP_NUM_THREADS=1 "$PY" scripts/train_elsewhere.py collect "${envs[@]}" --demos "$DEMOS" --shards "$SHARDS" \
    --camera-size "$SIZE" --out "$DATA"
mkdir -p "$OUT/train"
cp "$DATA/collect.json" "$OUT/train/"
if [[ -n "${BUDGET:-}" ]]; then
    TIME=$((BUDGET - (SECONDS - started) - 60))
    if ((TIME < 30)); then echo "recording took the budget: $TIME s left to train" >&2; exit 1; fi
fi
echo "training for $TIME s"
"$PY" scripts/train_elsewhere.py train --config "$CONFIG" --states "$STATES" --device "$DEVICE" \
    --dataset "$DATA"/*/ --out "$OUT/train" --time-limit "$TIME" --data-on-device
