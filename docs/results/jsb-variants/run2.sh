#!/bin/bash
# JSB 20k, second batch: combinations of what helped in run.sh (EMA, dropout, weight noise, batch 8, cosine).
# bash docs/results/jsb-variants/run2.sh > docs/results/jsb-variants/log2.txt
V="python scripts/jsb_variants.py --threads 1"
(
$V --tag lstm-do2-ema995-wn05 --cell lstm --lr 8.73e-3 --epochs 150 --dropout 0.2 --ema 0.995 --weight-noise 0.05
$V --tag lstm-do3-ema995 --cell lstm --lr 8.73e-3 --epochs 150 --dropout 0.3 --ema 0.995
$V --tag lstm-do2-ema995-bs8 --cell lstm --lr 5e-3 --epochs 150 --dropout 0.2 --ema 0.995 --batch-size 8
$V --tag gru-do2-ema995 --cell gru --lr 8.73e-3 --epochs 150 --dropout 0.2 --ema 0.995
$V --tag lstm-do2-ema999 --cell lstm --lr 8.73e-3 --epochs 200 --dropout 0.2 --ema 0.999
) &
(
$V --tag lstm-do2-ema995 --cell lstm --lr 8.73e-3 --epochs 150 --dropout 0.2 --ema 0.995
$V --tag lstm-do2-ema995-cosine --cell lstm --lr 8.73e-3 --epochs 150 --dropout 0.2 --ema 0.995 --cosine
$V --tag lstm-do2-ema995-wn075-bs8 --cell lstm --lr 5e-3 --epochs 150 --dropout 0.2 --ema 0.995 --weight-noise 0.075 --batch-size 8
$V --tag peephole-do2-ema995 --cell peephole_lstm --lr 8.73e-3 --epochs 150 --dropout 0.2 --ema 0.995
$V --tag lstm-do2-ema995-wd --cell lstm --lr 8.73e-3 --epochs 150 --dropout 0.2 --ema 0.995 --weight-decay 1e-5
) &
wait
