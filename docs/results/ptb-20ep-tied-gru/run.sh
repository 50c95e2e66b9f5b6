#!/bin/bash
# PTB tiedwordlm-gru-4600k (recipes/ptb-gru-4600k-tied.yaml), started 2026-12-07 ~23:55; resumes from last.ckpt
cd /work/main && source .venv/bin/activate
export MLFLOW_TRACKING_URI=sqlite:///runs/ptb-tied-gru/mlflow.db
ckpt=""
if [ -f runs/ptb-tied-gru/root/checkpoints/last.ckpt ]; then ckpt="--ckpt_path last"; fi
exec rnnzoo fit -c recipes/ptb-gru-4600k-tied.yaml --trainer.default_root_dir runs/ptb-tied-gru/root --trainer.enable_progress_bar false $ckpt
