"""Speech features written with torch only: log-mel filterbank energies and MFCCs.

waveform -> frames (``torch.stft``, Hann window) -> power spectrum -> triangular mel filters (HTK mel scale)
-> log -> (optionally) DCT-II, orthonormal, first ``n_mfcc`` coefficients. The settings are a dataclass stored in
a model's ``preprocessing``, so predicting applies exactly the features the model was trained on.
"""

from __future__ import annotations

import math
from dataclasses import asdict, dataclass

import torch
from torch import Tensor


@dataclass(frozen=True)
class FeatureSettings:
    """Front-end settings (defaults: 25 ms windows every 10 ms at 16 kHz, 40 log-mel bands).

    ``n_mfcc=0`` gives log-mel features (``n_mels`` per frame); ``n_mfcc > 0`` gives that many MFCCs.
    """

    sample_rate: int = 16000
    n_fft: int = 512
    win_length: int = 400
    hop_length: int = 160
    n_mels: int = 40
    n_mfcc: int = 0
    f_min: float = 20.0
    f_max: float | None = None
    log_floor: float = 1e-10

    @property
    def num_features(self) -> int:
        return self.n_mfcc or self.n_mels

    def to_dict(self) -> dict:
        return asdict(self)


def hz_to_mel(hz: Tensor | float) -> Tensor:
    """HTK mel scale: 2595 log10(1 + f / 700)."""
    return 2595.0 * torch.log10(1.0 + torch.as_tensor(hz, dtype=torch.float64) / 700.0)


def mel_to_hz(mel: Tensor) -> Tensor:
    return 700.0 * (10.0 ** (mel / 2595.0) - 1.0)


def mel_filterbank(n_freqs: int, n_mels: int, sample_rate: int, f_min: float, f_max: float) -> Tensor:
    """``(n_freqs, n_mels)`` triangular filters, centres equally spaced in mel, each peaking at 1."""
    freqs = torch.linspace(0, sample_rate / 2, n_freqs, dtype=torch.float64)
    edges = mel_to_hz(torch.linspace(float(hz_to_mel(f_min)), float(hz_to_mel(f_max)), n_mels + 2, dtype=torch.float64))
    lower, centre, upper = edges[:-2], edges[1:-1], edges[2:]
    rising = (freqs[:, None] - lower) / (centre - lower)
    falling = (upper - freqs[:, None]) / (upper - centre)
    return torch.clamp(torch.minimum(rising, falling), min=0).float()


def dct_matrix(n_mfcc: int, n_mels: int) -> Tensor:
    """``(n_mels, n_mfcc)`` orthonormal DCT-II: ``log_mel @ dct_matrix`` gives the cepstral coefficients."""
    n = torch.arange(n_mels, dtype=torch.float64)
    k = torch.arange(n_mfcc, dtype=torch.float64)
    basis = torch.cos(math.pi / n_mels * (n[:, None] + 0.5) * k[None, :]) * math.sqrt(2.0 / n_mels)
    basis[:, 0] /= math.sqrt(2.0)
    return basis.float()


def compute_features(waveform: Tensor, settings: FeatureSettings) -> Tensor:
    """A mono waveform ``(N,)`` in [-1, 1] at ``settings.sample_rate`` -> features ``(frames, num_features)``."""
    if waveform.ndim != 1:
        raise ValueError(f"expected a mono waveform (N,), got shape {tuple(waveform.shape)}")
    if waveform.numel() <= settings.n_fft // 2:
        raise ValueError(f"the recording has {waveform.numel()} samples; the front end needs more than n_fft/2 = "
                         f"{settings.n_fft // 2} ({1000 * (settings.n_fft // 2) / settings.sample_rate:.0f} ms at "
                         f"{settings.sample_rate} Hz) to frame it")
    window = torch.hann_window(settings.win_length, dtype=waveform.dtype)
    spec = torch.stft(waveform, settings.n_fft, settings.hop_length, settings.win_length, window,
                      center=True, return_complex=True)
    power = spec.abs().pow(2).T  # (frames, n_fft // 2 + 1)
    f_max = settings.f_max or settings.sample_rate / 2
    fbank = mel_filterbank(power.shape[1], settings.n_mels, settings.sample_rate, settings.f_min, f_max)
    log_mel = torch.log(torch.clamp(power.float() @ fbank, min=settings.log_floor))
    return log_mel @ dct_matrix(settings.n_mfcc, settings.n_mels) if settings.n_mfcc else log_mel
