#!/usr/bin/env bash
# JapaneseVowels: which test utterances are missed (--errors: index in the official 370, speaker, predicted
# speaker, at the last epoch), for the preset-like GRU and for round 4's crop row
set -euo pipefail
cd "$(dirname "$0")/../../.."; mkdir -p runs/jv-variants
PY=.venv/bin/python
S=scripts/jv_variants.py
B="--bidirectional --hidden 50 --dropout 0.3 --cosine --lr 3e-3 --noise 0.6 --epochs 100 --ema 0.995"
{
$PY $S --tag preset --errors
$PY $S --tag bi50-ema995-crop7 $B --crop 0.7 --errors
$PY $S --tag bi50-noise6 --bidirectional --hidden 50 --dropout 0.3 --cosine --lr 3e-3 --noise 0.6 --epochs 100 --errors
} 2>&1 | grep "seed\|MEAN" | tee runs/jv-variants/log5.txt
