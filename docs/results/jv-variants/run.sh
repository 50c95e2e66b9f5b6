#!/usr/bin/env bash
# JapaneseVowels training variants (scripts/jv_variants.py), 3 seeds each; output in runs/jv-variants/log.txt
set -euo pipefail
cd "$(dirname "$0")/../../.."; mkdir -p runs/jv-variants
PY=.venv/bin/python
S=scripts/jv_variants.py
COMMON="--bidirectional --hidden 50 --dropout 0.3 --cosine --epochs 100 --lr 3e-3"
{
$PY $S --tag preset
$PY $S --tag bi50 --bidirectional --hidden 50
$PY $S --tag bi50-do3-cos $COMMON
$PY $S --tag bi50-do3-cos-noise4 $COMMON --noise 0.4
$PY $S --tag bi50-do3-cos-noise4-mean $COMMON --noise 0.4 --pool mean
$PY $S --tag bi100-do3-cos-noise4 --bidirectional --hidden 100 --dropout 0.3 --cosine --epochs 100 --lr 3e-3 --noise 0.4
$PY $S --tag bi50-do3-cos-noise4-alldata $COMMON --noise 0.4 --val-fraction 0.02 --seeds 0 1 2 3 4
} 2>&1 | grep -v "UserWarning\|warnings.warn\|PossibleUserWarning" | tee runs/jv-variants/log.txt
