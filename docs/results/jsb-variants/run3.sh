#!/bin/bash
# JSB 20k, third batch: weight noise (Graves 2011; Chung et al. 2014's 0.075) with EMA and dropout.
# bash docs/results/jsb-variants/run3.sh > docs/results/jsb-variants/log3.txt
V="python scripts/jsb_variants.py --threads 1"
(
$V --tag lstm-do2-ema995-wn075 --cell lstm --lr 8.73e-3 --epochs 150 --dropout 0.2 --ema 0.995 --weight-noise 0.075
$V --tag lstm-do1-ema995-wn075 --cell lstm --lr 8.73e-3 --epochs 150 --dropout 0.1 --ema 0.995 --weight-noise 0.075
$V --tag gru-do2-ema995-wn075 --cell gru --lr 8.73e-3 --epochs 150 --dropout 0.2 --ema 0.995 --weight-noise 0.075
) &
(
$V --tag lstm-do2-ema995-wn1 --cell lstm --lr 8.73e-3 --epochs 150 --dropout 0.2 --ema 0.995 --weight-noise 0.1
$V --tag lstm-ema995-wn075 --cell lstm --lr 8.73e-3 --epochs 150 --ema 0.995 --weight-noise 0.075
$V --tag peephole-do2-ema995-wn075 --cell peephole_lstm --lr 8.73e-3 --epochs 150 --dropout 0.2 --ema 0.995 --weight-noise 0.075
) &
wait
