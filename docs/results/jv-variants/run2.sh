#!/usr/bin/env bash
# JapaneseVowels round 2: optimizer, weight decay, depth, length of training (scripts/jv_variants.py)
set -euo pipefail
cd "$(dirname "$0")/../../.."; mkdir -p runs/jv-variants
PY=.venv/bin/python
S=scripts/jv_variants.py
B="--bidirectional --dropout 0.3 --cosine --lr 3e-3 --noise 0.4"
{
$PY $S --tag bi50-adamw-wd1e-2 $B --hidden 50 --epochs 100 --optimizer adamw --weight-decay 1e-2
$PY $S --tag bi50-adamw-wd1e-1 $B --hidden 50 --epochs 100 --optimizer adamw --weight-decay 1e-1
$PY $S --tag bi50-200ep $B --hidden 50 --epochs 200
$PY $S --tag bi30x2 $B --hidden 30 --layers 2 --epochs 100
$PY $S --tag bi50-lstm $B --hidden 44 --cell lstm --epochs 100
$PY $S --tag bi50-noise6 --bidirectional --dropout 0.3 --cosine --lr 3e-3 --noise 0.6 --hidden 50 --epochs 100
$PY $S --tag bi50-do5 --bidirectional --dropout 0.5 --cosine --lr 3e-3 --noise 0.4 --hidden 50 --epochs 100
} 2>&1 | grep "seed\|MEAN" | tee runs/jv-variants/log2.txt
