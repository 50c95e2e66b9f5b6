#!/usr/bin/env bash
# JapaneseVowels round 3: weight averaging (Lightning's EMAWeightAveraging) and weight noise (rnnzoo's WeightNoise)
# on the preset's GRU and on round 2's highest row (scripts/jv_variants.py)
set -euo pipefail
cd "$(dirname "$0")/../../.."; mkdir -p runs/jv-variants
PY=.venv/bin/python
S=scripts/jv_variants.py
B="--bidirectional --hidden 50 --dropout 0.3 --cosine --lr 3e-3 --noise 0.6 --epochs 100"
{
$PY $S --tag preset-ema99 --ema 0.99
$PY $S --tag preset-do3-ema99-wn05 --dropout 0.3 --ema 0.99 --weight-noise 0.05
$PY $S --tag uni-do3-cos-noise6-ema99 --dropout 0.3 --cosine --lr 3e-3 --noise 0.6 --epochs 100 --ema 0.99
$PY $S --tag bi50-noise6-ema99 $B --ema 0.99
$PY $S --tag bi50-noise6-ema995 $B --ema 0.995
$PY $S --tag bi50-noise6-ema99-wn05 $B --ema 0.99 --weight-noise 0.05
$PY $S --tag bi50-noise6-ema99-wn1 $B --ema 0.99 --weight-noise 0.1
} 2>&1 | grep "seed\|MEAN" | tee runs/jv-variants/log3.txt
