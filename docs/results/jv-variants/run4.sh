#!/usr/bin/env bash
# JapaneseVowels round 4: random stretches in training (--crop: a random contiguous part of each utterance;
# --warp: a random speed), on round 3's highest row (scripts/jv_variants.py)
set -euo pipefail
cd "$(dirname "$0")/../../.."; mkdir -p runs/jv-variants
PY=.venv/bin/python
S=scripts/jv_variants.py
B="--bidirectional --hidden 50 --dropout 0.3 --cosine --lr 3e-3 --noise 0.6 --epochs 100 --ema 0.995"
{
$PY $S --tag bi50-ema995-crop7 $B --crop 0.7
$PY $S --tag bi50-ema995-crop5 $B --crop 0.5
$PY $S --tag bi50-ema995-warp2 $B --warp 0.2
$PY $S --tag bi50-ema995-crop7-warp2 $B --crop 0.7 --warp 0.2
$PY $S --tag preset-do3-ema99-crop7 --dropout 0.3 --ema 0.99 --crop 0.7
} 2>&1 | grep "seed\|MEAN" | tee runs/jv-variants/log4.txt
