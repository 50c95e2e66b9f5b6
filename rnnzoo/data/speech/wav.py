"""Read PCM WAV files with the standard library (no audio toolkit needed), to mono float32 at a target rate."""

from __future__ import annotations

import os
import wave
from math import gcd

import numpy as np
import torch
from torch import Tensor

from rnnzoo.data.checks import check_file, check_finite, check_not_empty
from rnnzoo.data.errors import DataError

_DTYPES = {1: np.uint8, 2: np.int16, 4: np.int32}


def read_wav(path: str | os.PathLike, sample_rate: int) -> Tensor:
    """A mono waveform in [-1, 1] at ``sample_rate`` (channels averaged; other rates resampled polyphase)."""
    path = check_file(path, "a PCM .wav file")
    try:
        with wave.open(str(path), "rb") as w:
            width, channels, rate, frames = w.getsampwidth(), w.getnchannels(), w.getframerate(), w.getnframes()
            raw = w.readframes(frames)
    except (wave.Error, EOFError) as err:
        raise DataError(f"{path}: not a PCM WAV file ({err}). Convert it, e.g. `ffmpeg -i IN -ac 1 OUT.wav`.") from err
    expected = frames * width * channels
    # A writer that could not seek back (streaming to a pipe) leaves the data size at its 0xFFFFFFFF placeholder:
    # the length is unknown, not wrong, so what is there is read.
    unknown_length = frames == 0xFFFFFFFF // (width * channels)
    if len(raw) < expected and not unknown_length:
        raise DataError(f"{path}: truncated: its header says {frames} frames ({expected} bytes of samples) but the "
                        f"file holds {len(raw)} bytes of them ({len(raw) // (width * channels)} frames), as after an "
                        f"interrupted copy or recording. Re-export or re-record the file (or copy it again).")
    if width not in _DTYPES:
        raise DataError(f"{path}: {8 * width}-bit samples are not supported; convert to 16-bit PCM")
    samples = np.frombuffer(raw, dtype=_DTYPES[width]).astype(np.float32)
    samples = (samples - 128.0) / 128.0 if width == 1 else samples / float(2 ** (8 * width - 1))
    samples = samples.reshape(-1, channels).mean(axis=1)
    check_not_empty(len(samples), str(path), "recording")
    check_finite(samples, str(path))
    if rate != sample_rate:
        from scipy.signal import resample_poly

        g = gcd(rate, sample_rate)
        samples = resample_poly(samples, sample_rate // g, rate // g).astype(np.float32)
    return torch.from_numpy(np.ascontiguousarray(samples))
