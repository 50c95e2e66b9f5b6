"""The task metrics against hand computations, and the LightningModule's construction rules."""

import math

import pytest
import torch
import torch.nn.functional as F

from rnnzoo.training import TrainingModule
from rnnzoo.tasks.forecaster.metrics import MASE
from rnnzoo.tasks.piano_roll.metrics import FrameAccuracy, FrameNLL
from rnnzoo.tasks.language_model.metrics import TokenNLL


def test_frame_nll_weighs_every_frame_equally_across_batches():
    logits, target = torch.randn(2, 5, 88), (torch.rand(2, 5, 88) > 0.9).float()
    mask = torch.tensor([[1, 1, 1, 1, 1], [1, 1, 0, 0, 0]], dtype=torch.bool)
    per_frame = F.binary_cross_entropy_with_logits(logits, target, reduction="none").sum(-1)
    expected = per_frame[mask].mean()  # 7 real frames, each weighted 1/7
    metric = FrameNLL()
    metric.update(logits[:1], target[:1], mask[:1])  # in two batches of unequal frame counts
    metric.update(logits[1:], target[1:], mask[1:])
    assert metric.compute().item() == pytest.approx(expected.item(), rel=1e-6)
    # All-zero logits: every key costs ln 2, so a frame costs 88 ln 2 nats whatever the notes.
    zero = FrameNLL()
    zero.update(torch.zeros(1, 3, 88), target[:1, :3], torch.ones(1, 3, dtype=torch.bool))
    assert zero.compute().item() == pytest.approx(88 * math.log(2), rel=1e-6)


def test_frame_accuracy_is_bay_et_al():
    target = torch.zeros(1, 2, 88)
    target[0, 0, [0, 1, 2]] = 1
    target[0, 1, [5]] = 1
    logits = torch.full((1, 2, 88), -5.0)
    logits[0, 0, [0, 1, 9]] = 5  # TP 2, FP 1, FN 1 in frame 0
    logits[0, 1, [5]] = 5  # TP 1 in frame 1
    metric = FrameAccuracy()
    metric.update(logits, target, torch.ones(1, 2, dtype=torch.bool))
    assert metric.compute().item() == pytest.approx(3 / (3 + 1 + 1))


def test_token_metrics_and_mase():
    nll = TokenNLL("perplexity")
    bits = TokenNLL("bits")
    for m in (nll, bits):
        m.update(torch.tensor(10 * math.log(4.0)), 10)  # mean 2 bits per token = perplexity 4
    assert nll.compute().item() == pytest.approx(4.0, rel=1e-6) and bits.compute().item() == pytest.approx(2.0)
    mase = MASE()
    mase.update(torch.ones(2, 3, 1), torch.zeros(2, 3, 1), torch.tensor([[2.0], [0.5]]))
    assert mase.compute().item() == pytest.approx((0.5 * 3 + 2.0 * 3) / 6)


def test_task_from_name_config_or_model_and_refusals():
    by_name = TrainingModule("pianoroll-gru-20k", optimizer="rmsprop", model_overrides={"dropout": 0.1})
    assert by_name.model.config["cell"] == "gru" and by_name.hparams.optimizer == "rmsprop"
    by_config = TrainingModule({"task": "forecaster", "cell": "peephole_lstm", "horizon": 3})
    wrapped = TrainingModule.from_model(by_config.model, lr=0.1)
    assert torch.equal(wrapped.model.head.weight, by_config.model.head.weight)
    assert isinstance(wrapped.configure_optimizers(), torch.optim.Adam)
    with pytest.raises(ValueError, match="unknown optimizer 'lbfgs'"):
        TrainingModule("pianoroll-gru-20k", optimizer="lbfgs")
    with pytest.raises(ValueError, match="needs 'task'"):
        TrainingModule({"cell": "gru"})
