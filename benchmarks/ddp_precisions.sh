#!/usr/bin/env bash
# torchrun with 2 processes, every method, in fp32 and bf16 (issue 21): each run must end
# with identical, finite parameters on both ranks (spigan train checks that), or, for bf16
# on a CPU where it fails its check, be refused with one line. A few iterations of the demo
# config each. Usage: benchmarks/ddp_precisions.sh [OUT_DIR] (from the project root, venv on PATH
# or SPIGAN=.venv/bin/spigan).
set -uo pipefail
OUT=${1:-runs/ddp-precisions}
PY=${PY:-python}
mkdir -p "$OUT"
status=0
for precision in fp32 bf16; do
  for method in source_only target_only base no_pi spigan; do
    start=$(date +%s)
    if OMP_NUM_THREADS=1 $PY -m torch.distributed.run --standalone --nproc_per_node=2 -m spigan.cli train demo \
         train.method=$method train.precision=$precision train.iterations=4 train.log_every=2 \
         train.checkpoint_every=4 data.source_frames=16 data.target_frames=16 data.val_frames=4 \
         --out "$OUT/$method-$precision" --quiet > "$OUT/$method-$precision.log" 2>&1; then
      result="passed"
    elif grep -q "bfloat16 does not compute" "$OUT/$method-$precision.log"; then
      result="refused: $(grep -o 'bfloat16 does not compute.*' "$OUT/$method-$precision.log" | head -1)"
    else
      result="FAILED: $(tail -1 "$OUT/$method-$precision.log")"; status=1
    fi
    printf '%-12s %-5s %4ss  %s\n' "$method" "$precision" "$(( $(date +%s) - start ))" "$result"
  done
done
exit $status
