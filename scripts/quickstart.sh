#!/usr/bin/env bash
# The README's main command, end to end on an embedded synthetic dataset:
# build TFRecords -> train a tiny model -> evaluate -> export -> predict.
# About 2-3 minutes on 2 CPU cores. Rerunning resumes; the data is built once
# and each MODEL gets its own folder $OUTPUT_DIR/$MODEL.
#
#   bash scripts/quickstart.sh [OUTPUT_DIR]      (default /tmp/seg_quickstart)
#   MODEL=deeplabv3plus bash scripts/quickstart.sh   (or bayesian_segnet)
set -euo pipefail
cd "$(dirname "$0")/.."
OUT=${1:-/tmp/seg_quickstart}
MODEL=${MODEL:-encnet}
RUN="$OUT/$MODEL"
export TF_CPP_MIN_LOG_LEVEL=2 CUDA_VISIBLE_DEVICES="" PYTHONUNBUFFERED=1
start=$SECONDS
step() { echo; echo "== [$((SECONDS - start))s] $*"; }
# Prints, as they come (bash reads a pipe line by line; awk may buffer), the
# lines matching $1 and those not matching $2.
show() {
  local keep=$1 drop=${2:-^} line
  while IFS= read -r line; do
    if [[ $line =~ $keep ]] || ! [[ $line =~ $drop ]]; then
      printf '%s\n' "$line"
    fi
  done
}
ABSL='^([WIE][0-9][0-9][0-9][0-9] |WARNING|[0-9][0-9][0-9][0-9]-)'

step "1/5 Synthetic dataset (400 train + 400 val scenes, 64x64) -> $OUT/data"
if compgen -G "$OUT/data/train-*-of-*.tfrecord" > /dev/null; then
  echo "Reusing $OUT/data"
else
  python scripts/build_tfrecords.py --dataset=synthetic \
    --output_dir="$OUT/data" --num_examples=400 --image_size=64,64 \
    --num_shards=2
fi

step "2/5 Train $MODEL (tiny preset, 1500 steps, batch 8) -> $RUN/model"
python scripts/train.py --model="$MODEL" --preset=tiny --dataset=synthetic \
  --data_dir="$OUT/data" --model_dir="$RUN/model" --train_steps=1500 \
  --batch_size=8 --crop_size=64,64 --base_learning_rate=0.05 \
  --class_weights=none --cache --log_every=100 --checkpoint_every=500 \
  --eval_batch_size=20 2>&1 | show "(loop|train|progress)\.py|^error"

step "3/5 Evaluate on the validation split"
python scripts/evaluate.py --model_dir="$RUN/model" --split=val \
  --batch_size=20 2>&1 | show "progress\.py" "$ABSL"

step "4/5 Export a SavedModel -> $RUN/export"
python scripts/export.py --model_dir="$RUN/model" --export_dir="$RUN/export" \
  --overwrite 2>&1 | show "^(SavedModel written|error)"

step "5/5 Predict 4 new scenes -> $RUN/predictions"
python - "$OUT/images" <<'PY'
import os, sys, cv2
from seg_common.data.builders import synthetic
os.makedirs(sys.argv[1], exist_ok=True)
for i in range(4):
    image, _ = synthetic.render(7, "demo", i, (96, 128))
    cv2.imwrite(os.path.join(sys.argv[1], f"scene{i}.png"), image[..., ::-1])
PY
python scripts/predict.py --saved_model="$RUN/export" \
  --input="$OUT/images/*.png" --output_dir="$RUN/predictions" 2>&1 \
  | show "^(Predicted|error)"

python - "$RUN/model/eval_val.json" "$((SECONDS - start))" <<'PY'
import json, sys
miou = json.load(open(sys.argv[1]))["mean_iou"]
print(f"\nDone in {sys.argv[2]} s. Final validation mIoU: {miou:.4f}")
sys.exit(0 if miou >= 0.8 else "mIoU below 0.8: the model did not learn")
PY
