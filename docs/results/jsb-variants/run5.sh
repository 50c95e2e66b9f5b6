#!/bin/bash
# JSB 20k, fifth batch: the tanh RNN and the GRU, which the LSTM's setting (dropout 0.2, EMA 0.995, weight noise
# 0.15) hurts (compare run of 2026-12-07: RNN 10.37, GRU 8.82 test NLL).
# bash docs/results/jsb-variants/run5.sh > docs/results/jsb-variants/log5.txt
V="python scripts/jsb_variants.py --threads 1"
$V --tag rnn-base --cell rnn --lr 2.5e-3 --epochs 150
$V --tag rnn-ema995 --cell rnn --lr 2.5e-3 --epochs 150 --ema 0.995
$V --tag rnn-do2-ema995 --cell rnn --lr 2.5e-3 --epochs 150 --dropout 0.2 --ema 0.995
$V --tag rnn-ema995-wn03 --cell rnn --lr 2.5e-3 --epochs 150 --ema 0.995 --weight-noise 0.03
$V --tag gru-ema995-wn05 --cell gru --lr 8.73e-3 --epochs 150 --ema 0.995 --weight-noise 0.05
$V --tag gru-do1-ema995 --cell gru --lr 8.73e-3 --epochs 150 --dropout 0.1 --ema 0.995
$V --tag gru-do2-ema995-wn05-lr3 --cell gru --lr 3e-3 --epochs 150 --dropout 0.2 --ema 0.995 --weight-noise 0.05
