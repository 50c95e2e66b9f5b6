#!/bin/bash
# JSB 20k training variants, 3 seeds each, two streams of one thread (a 2-core machine).
# bash docs/results/jsb-variants/run.sh > docs/results/jsb-variants/log.txt
V="python scripts/jsb_variants.py --threads 1"
(
$V --tag lstm-base --cell lstm --lr 8.73e-3 --epochs 120
$V --tag lstm-ema99 --cell lstm --lr 8.73e-3 --epochs 120 --ema 0.99
$V --tag lstm-ema995 --cell lstm --lr 8.73e-3 --epochs 120 --ema 0.995
$V --tag lstm-wn075 --cell lstm --lr 8.73e-3 --epochs 150 --weight-noise 0.075
$V --tag lstm-indrop1 --cell lstm --lr 8.73e-3 --epochs 120 --input-dropout 0.1
) &
(
$V --tag gru-base --cell gru --lr 8.73e-3 --epochs 120
$V --tag gru-ema99 --cell gru --lr 8.73e-3 --epochs 120 --ema 0.99
$V --tag lstm-cosine --cell lstm --lr 8.73e-3 --epochs 120 --cosine
$V --tag lstm-bs8 --cell lstm --lr 5e-3 --epochs 120 --batch-size 8
$V --tag lstm-do2-ema99 --cell lstm --lr 8.73e-3 --epochs 120 --dropout 0.2 --ema 0.99
) &
wait
