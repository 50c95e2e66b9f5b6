#!/usr/bin/env bash
# The GPU check: one script, one short run (about 6-8 minutes on one GPU), for a session lent a GPU machine.
#
#   bash benchmarks/gpu_check.sh            # writes $OUT/report.md (default gpu-check/report.md) and logs
#
# 1. what runs where (rnnzoo env, nvidia-smi);
# 2. the CUDA test subset: every layer test parametrized over devices, on cuda (tests/conftest.py DEVICES), and
#    the Triton scans on the GPU against the reference loops (tests/test_triton_scan.py, compiled, not interpreted);
# 3. benchmarks/cells.py --device cuda: forward + backward of the four cells and the gate tracing against cuDNN,
#    with the Triton scans and, in "(Python loop)" rows, without them (needs triton in the environment);
# 4. rnnzoo fit of the JSB GRU recipe for 300 steps in bf16-mixed and in 16-mixed;
# 5. rnnzoo fit with DDP on every visible GPU for 200 steps.
# Each step has its own time limit; a failing step is reported and the next one runs. Copy the numbers into
# docs/performance.md ("GPU"), saying which GPU ran them.
set -uo pipefail
cd "$(dirname "$0")/.."
OUT=${OUT:-gpu-check}
PY=${PYTHON:-.venv/bin/python}
RNNZOO=("$PY" -m rnnzoo.cli)
mkdir -p "$OUT"
REPORT="$OUT/report.md"
: > "$REPORT"
export MLFLOW_TRACKING_URI="sqlite:///$PWD/$OUT/mlflow.db"

step() {  # step NAME SECONDS COMMAND...: run it with a time limit, log it, append its tail to the report
  local name=$1 limit=$2
  shift 2
  local start=$SECONDS
  timeout "$limit" "$@" > "$OUT/$name.log" 2>&1
  local rc=$?
  {
    echo "## $name (exit $rc, $((SECONDS - start)) s; limit $limit s)"
    echo '```'
    tail -n 40 "$OUT/$name.log"
    echo '```'
    echo
  } >> "$REPORT"
  echo "$name: exit $rc in $((SECONDS - start)) s"
}

FIT=(fit -c recipes/jsb-gru-20k.yaml --trainer.accelerator gpu --trainer.devices 1 --trainer.enable_progress_bar false)
step env 60 bash -c "${RNNZOO[*]} env; nvidia-smi || echo no nvidia-smi"
step cuda-tests 180 "$PY" -m pytest -q -x -k cuda tests/test_nn_peephole.py tests/test_nn_torch_equivalence.py \
  tests/test_nn_gates.py tests/test_nn_autocast.py
step triton-tests 150 "$PY" -m pytest -q -x tests/test_triton_scan.py
step cells 150 "$PY" benchmarks/cells.py --device cuda --hidden 128 512 --batch 64 --steps 100 --repeats 10
step fit-bf16 120 "${RNNZOO[@]}" "${FIT[@]}" -c recipes/overlays/bf16-mixed.yaml --trainer.max_steps 300 \
  --trainer.default_root_dir "$OUT/fit-bf16"
step fit-16 120 "${RNNZOO[@]}" "${FIT[@]}" -c recipes/overlays/16-mixed.yaml --trainer.max_steps 300 \
  --trainer.default_root_dir "$OUT/fit-16"
step ddp 150 "${RNNZOO[@]}" fit -c recipes/jsb-gru-20k.yaml -c recipes/overlays/ddp-gpu.yaml \
  --trainer.max_steps 200 --trainer.enable_progress_bar false --trainer.default_root_dir "$OUT/ddp"
echo "report: $REPORT"
