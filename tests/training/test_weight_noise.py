"""WeightNoise: the forward and backward of a training step run at noisy weights, the optimizer updates the clean
ones, and nothing else (validation, accumulation steps) ever sees the noise."""

import lightning as L
import pytest
import torch
from torch.utils.data import DataLoader, TensorDataset

from rnnzoo.training.weight_noise import WeightNoise

SIGMA = 0.1


class Probe(L.LightningModule):
    """A linear regression that records the weights each training step ran at, and those validation saw."""

    def __init__(self):
        super().__init__()
        self.layer = torch.nn.Linear(64, 64)
        self.seen_in_training, self.seen_in_validation = [], []

    def training_step(self, batch, batch_idx):
        self.seen_in_training.append(self.layer.weight.detach().clone())
        x, y = batch
        return torch.nn.functional.mse_loss(self.layer(x), y)

    def validation_step(self, batch, batch_idx):
        self.seen_in_validation.append(self.layer.weight.detach().clone())

    def configure_optimizers(self):
        return torch.optim.SGD(self.parameters(), lr=0.5)


class Steps(L.Callback):
    """Clean weights before each step (it runs before WeightNoise), the gradient, and the weights after."""

    def __init__(self):
        self.before, self.grads, self.after = [], [], []

    def on_train_batch_start(self, trainer, module, batch, batch_idx):
        self.before.append(module.layer.weight.detach().clone())

    def on_before_optimizer_step(self, trainer, module, optimizer):
        self.grads.append(module.layer.weight.grad.detach().clone())

    def on_train_batch_end(self, trainer, module, outputs, batch, batch_idx):
        self.after.append(module.layer.weight.detach().clone())


def fit(accumulate: int = 1):
    L.seed_everything(0, verbose=False)
    data = TensorDataset(torch.randn(32, 64), torch.randn(32, 64))
    module, steps = Probe(), Steps()
    trainer = L.Trainer(max_epochs=1, logger=False, enable_checkpointing=False, enable_progress_bar=False,
                        enable_model_summary=False, num_sanity_val_steps=0, accumulate_grad_batches=accumulate,
                        callbacks=[steps, WeightNoise(SIGMA)], limit_val_batches=1)
    trainer.fit(module, DataLoader(data, batch_size=8), DataLoader(data, batch_size=8))
    return module, steps


def test_the_step_runs_at_noisy_weights_and_updates_the_clean_ones():
    module, steps = fit()
    assert len(steps.before) == len(module.seen_in_training) == 4
    for before, noisy, grad, after in zip(steps.before, module.seen_in_training, steps.grads, steps.after):
        noise = noisy - before
        # 4096 draws: the sample standard deviation is within 5% of sigma far beyond 5 standard errors (~1.1%)
        assert noise.std().item() == pytest.approx(SIGMA, rel=0.05) and abs(noise.mean().item()) < 0.01
        # SGD's update is p -= lr * grad: the same float operations on the clean weights give the same numbers
        assert torch.allclose(after, before - 0.5 * grad, rtol=0, atol=1e-6)
        assert not torch.allclose(after, noisy - 0.5 * grad, rtol=0, atol=1e-3)


def test_validation_sees_the_clean_weights():
    module, steps = fit()
    assert torch.equal(module.seen_in_validation[0], steps.after[-1])


def test_accumulation_steps_leave_the_clean_weights_in_place():
    module, steps = fit(accumulate=2)
    # batches 0 and 2 end without an optimizer step: the weights after them are the clean ones before them
    assert torch.equal(steps.after[0], steps.before[0]) and torch.equal(steps.after[2], steps.before[2])
    assert len(steps.grads) == 2 and not torch.equal(steps.after[1], steps.before[1])


@pytest.mark.parametrize("sigma", [0, -0.1, float("nan"), "0.1"])
def test_a_bad_sigma_is_refused(sigma):
    with pytest.raises(ValueError, match="WeightNoise sigma must be a finite number above 0"):
        WeightNoise(sigma)
