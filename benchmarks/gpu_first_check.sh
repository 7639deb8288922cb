#!/usr/bin/env bash
# A first check of spigan on one GPU, sized for a ~10-minute slot (docs/GPU.md):
#   1. the paper's config (configs/paper.yaml: 320x320 crops, batch 1, the paper's widths):
#      FLOPs counted on the CPU (benchmarks/paper_cost.py), then iterations/s and peak GPU
#      memory measured for a few iterations in fp32 and bf16 (benchmarks/throughput.py);
#   2. spigan and no_pi, simulator -> CamVid at the paper's network widths, RUN_SECONDS each
#      (stopped by SIGTERM, which saves a checkpoint), then scored on CamVid's val split.
#
# Needs only the checkout, a Python with torch (CUDA build) and spigan's dependencies, and a
# small CamVid copy (33 MiB, made once where CamVid is):
#   python benchmarks/camvid_small.py /path/to/camvid camvid-small
#   benchmarks/gpu_first_check.sh camvid-small gpu-check
# Environment: PYTHON (default python), RUN_SECONDS (default 150), RUNS (run folders, default
# /tmp/spigan-gpu-check: checkpoints at these widths are 3.4 GB each, so they stay out of the
# report folder), VGG16 / VGG19 (ImageNet weight files; default none: random initialisation).
# Everything worth reading lands in the report folder (default $OUT, else gpu-check):
# summary.txt first.
set -uo pipefail
CAMVID=${1:?usage: benchmarks/gpu_first_check.sh CAMVID_SMALL [REPORT_DIR]}
REPORT=${2:-${OUT:-gpu-check}}
PY=${PYTHON:-python}
RUN_SECONDS=${RUN_SECONDS:-150}
RUNS=${RUNS:-/tmp/spigan-gpu-check}
HERE=$(cd "$(dirname "$0")/.." && pwd)
export PYTHONPATH="$HERE/src${PYTHONPATH:+:$PYTHONPATH}"
mkdir -p "$REPORT" "$RUNS"
SUMMARY="$REPORT/summary.txt"
: > "$SUMMARY"
say() { echo "$*" | tee -a "$SUMMARY"; }

say "== machine"
nvidia-smi --query-gpu=name,memory.total,driver_version --format=csv,noheader 2>&1 | tee -a "$SUMMARY"
"$PY" -c "import torch; print('torch', torch.__version__, 'CUDA', torch.version.cuda)" 2>&1 | tee -a "$SUMMARY"
"$PY" -c "import sys, torch; sys.exit(0 if torch.cuda.is_available() else 1)" || { say "no CUDA GPU: stopping"; exit 1; }

say "== 1. the paper's config: FLOPs (counted), then time and memory (measured)"
"$PY" "$HERE/benchmarks/paper_cost.py" paper --json "$REPORT/paper_cost.json" 2>&1 | tee -a "$SUMMARY"
timeout 240 "$PY" "$HERE/benchmarks/throughput.py" paper model.vgg16_weights= model.vgg19_weights= \
    --iterations 3 --modes fp32,bf16 --json "$REPORT/throughput.json" 2>&1 | tee -a "$SUMMARY"

say "== 2. spigan and no_pi, simulator -> CamVid (180x240), the paper's widths, ${RUN_SECONDS} s each"
# The paper's networks (configs/paper.yaml) on sim2camvid's schedule and early stopping
# (cpu.yaml), at the CamVid copy's size; train.precision auto (bf16 where the GPU has it).
WIDTHS=(model.generator_width=64 model.generator_blocks=9 model.generator_skip=false
        model.discriminator_width=64 model.discriminator_layers=3 model.fcn_width=64 model.fcn_fc_dim=4096
        model.fcn_input_padding=100 model.perceptual_width=64 train.batch_size=1 train.channels_last=false)
WEIGHTS=("model.vgg16_weights=${VGG16:-}" "model.vgg19_weights=${VGG19:-}")
for method in spigan no_pi; do
    run="$RUNS/$method"
    rm -rf "$run"
    # SIGTERM at RUN_SECONDS: the run saves last.pt and stops (timeout then exits 124).
    timeout -s TERM -k 120 "$RUN_SECONDS" "$PY" -m spigan.cli train sim2camvid "${WIDTHS[@]}" "${WEIGHTS[@]}" \
        data.size=[180,240] data.crop=[180,180] "data.target_root=$CAMVID" "data.cache_dir=$RUNS/cache" \
        data.workers=4 train.method=$method train.iterations=1000000 train.checkpoint_every=1000000 \
        train.keep_checkpoints=0 --out "$run" --quiet > "$REPORT/train_$method.log" 2>&1
    status=$?
    [ "$status" = 124 ] || [ "$status" = 0 ] || say "$method: train exited $status (see train_$method.log)"
    mkdir -p "$REPORT/$method"
    cp "$run/config.yaml" "$run/metrics.jsonl" "$REPORT/$method/" 2>/dev/null
    "$PY" -m spigan.cli evaluate "$run" --dataset camvid --root "$CAMVID" --split val \
        --json "$REPORT/$method/scores.json" > "$REPORT/$method/evaluate.txt" 2>&1 \
        || say "$method: evaluate failed (see $method/evaluate.txt)"
    "$PY" - "$run" "$REPORT/$method" <<'EOF' 2>&1 | tee -a "$SUMMARY"
import json, sys
from pathlib import Path
from spigan.figures import plot_losses
run, report = Path(sys.argv[1]), Path(sys.argv[2])
rows = [json.loads(line) for line in (run / "metrics.jsonl").read_text().splitlines() if line.strip()]
plot_losses(rows, None, report / "losses.png", title=run.name)
last = rows[-1]
scores = report / "scores.json"
miou = json.loads(scores.read_text())["miou"] if scores.exists() else float("nan")
rate = last.get("time/iterations_per_s", float("nan"))
print(f"{run.name}: {last['iteration']} iterations (last logged), {rate:.2f} it/s, "
      f"CamVid val mIoU {100 * miou:.1f} (camvid-11, 180x240 labels)")
EOF
done
nvidia-smi --query-gpu=memory.used,memory.total --format=csv,noheader >> "$SUMMARY" 2>&1
say "== done: $SUMMARY"
