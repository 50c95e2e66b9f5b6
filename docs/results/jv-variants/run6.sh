#!/usr/bin/env bash
# JapaneseVowels round 6: delta features (each frame's change from the previous frame appended, 24 inputs) on the
# best rows so far (bidirectional GRU, dropout 0.3, input noise 0.6, cosine from 3e-3, 100 epochs; with and
# without round 4's crops), at 50 units each way (23.7k parameters) and at 45 (about the 20k budget)
set -euo pipefail
cd "$(dirname "$0")/../../.."; mkdir -p runs/jv-variants
PY=.venv/bin/python
S=scripts/jv_variants.py
B="--bidirectional --dropout 0.3 --cosine --lr 3e-3 --noise 0.6 --epochs 100 --deltas --errors"
{
$PY $S --tag bi45-noise6-deltas --hidden 45 $B
$PY $S --tag bi50-noise6-deltas --hidden 50 $B
$PY $S --tag bi45-ema995-crop7-deltas --hidden 45 $B --ema 0.995 --crop 0.7
} 2>&1 | grep "seed\|MEAN" | tee runs/jv-variants/log6.txt
