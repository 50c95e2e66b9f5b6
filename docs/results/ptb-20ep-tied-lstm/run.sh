#!/bin/bash
# PTB tiedwordlm-lstm-4600k (recipes/ptb-lstm-4600k-tied.yaml), started 2026-12-07 ~21:57; resumes from last.ckpt
cd /work/main && source .venv/bin/activate
export MLFLOW_TRACKING_URI=sqlite:///runs/ptb-tied/mlflow.db
ckpt=""
if [ -f runs/ptb-tied/root/checkpoints/last.ckpt ]; then ckpt="--ckpt_path last"; fi
exec rnnzoo fit -c recipes/ptb-lstm-4600k-tied.yaml --trainer.default_root_dir runs/ptb-tied/root --trainer.enable_progress_bar false $ckpt
