#!/bin/bash
# JSB 20k, fourth batch: more weight noise (0.1 was the best of run3.sh on validation).
# bash docs/results/jsb-variants/run4.sh > docs/results/jsb-variants/log4.txt
V="python scripts/jsb_variants.py --threads 1"
(
$V --tag lstm-do2-ema995-wn125 --cell lstm --lr 8.73e-3 --epochs 180 --dropout 0.2 --ema 0.995 --weight-noise 0.125
$V --tag peephole-do2-ema995-wn1 --cell peephole_lstm --lr 8.73e-3 --epochs 180 --dropout 0.2 --ema 0.995 --weight-noise 0.1
) &
(
$V --tag lstm-do2-ema995-wn15 --cell lstm --lr 8.73e-3 --epochs 180 --dropout 0.2 --ema 0.995 --weight-noise 0.15
$V --tag lstm-do1-ema995-wn15 --cell lstm --lr 8.73e-3 --epochs 180 --dropout 0.1 --ema 0.995 --weight-noise 0.15
) &
wait
