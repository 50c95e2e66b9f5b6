"""SpeechFeaturesDataModule: bundled UEA JapaneseVowels, the torch log-mel/MFCC front end, WAV folders."""

import math
import wave

import numpy as np
import pytest
import torch

from rnnzoo.data import DataError
from rnnzoo.data.speech import FeatureSettings, SpeechFeaturesDataModule, compute_features, read_ts
from rnnzoo.data.speech.features import dct_matrix, mel_filterbank
from rnnzoo.data.speech.japanese_vowels import FOLDER


def test_japanese_vowels_matches_its_description():
    train, labels, classes = read_ts(FOLDER / "JapaneseVowels_TRAIN.ts")
    test, _, _ = read_ts(FOLDER / "JapaneseVowels_TEST.ts")
    assert len(train) == 270 and len(test) == 370 and classes == [str(i) for i in range(1, 10)]
    lengths = [len(c) for c in train + test]
    assert min(lengths) == 7 and max(lengths) == 29 and train[0].shape[1] == 12
    assert np.bincount([int(y) for y in labels]).tolist() == [0] + [30] * 9  # 30 utterances per speaker


def test_datamodule_splits_and_normalises_on_train():
    dm = SpeechFeaturesDataModule(batch_size=16, bucket_by_length=True)
    dm.setup()
    assert dm.split_sizes() == {"train": 216, "val": 54, "test": 370}
    train = torch.cat([item["features"] for item in dm.datasets["train"]])
    # Standardised with the training split's own statistics: mean 0 and std 1 up to float32 rounding.
    assert train.mean(0).abs().max() < 1e-4 and (train.std(0) - 1).abs().max() < 1e-2
    batch = next(iter(dm.train_dataloader()))
    assert batch["features"].shape[2] == 12 and batch["label"].max() < 9
    assert len(dm.preprocessing["speech"]["normalise"]["mean"]) == 12


def test_mel_filterbank_and_dct():
    fbank = mel_filterbank(257, 40, 16000, 20.0, 8000.0)
    assert fbank.shape == (257, 40) and fbank.max() <= 1.0 and (fbank.sum(0) > 0).all()
    dct = dct_matrix(13, 40)
    assert torch.allclose(dct.T @ dct, torch.eye(13), atol=1e-5)  # orthonormal columns


def test_front_end_puts_a_tone_in_the_right_band():
    settings = FeatureSettings()
    t = torch.arange(16000) / 16000
    for freq in (300.0, 2000.0):
        feats = compute_features(torch.sin(2 * math.pi * freq * t), settings)
        assert feats.shape == (101, 40)  # 1 s at a 10 ms hop, centred frames
        fbank = mel_filterbank(257, 40, 16000, settings.f_min, 8000.0)
        expected_band = fbank[round(freq / 8000 * 256)].argmax()
        # Within one band: low mel bands are 1-2 FFT bins (31 Hz) wide while a Hann window's main lobe spans
        # 4 bins, so a tone between two band centres may peak in the neighbour (300 Hz does: band 4 vs 5).
        assert abs(int(feats[50].argmax()) - int(expected_band)) <= 1
        assert feats[50].max() > feats[50].median() + 10  # and it is a clear peak (>10 nats over the median)
    mfcc = compute_features(torch.sin(2 * math.pi * 440 * t), FeatureSettings(n_mfcc=13))
    assert mfcc.shape == (101, 13)


def _write_wav(path, samples, rate=16000):
    with wave.open(str(path), "wb") as w:
        w.setnchannels(1)
        w.setsampwidth(2)
        w.setframerate(rate)
        w.writeframes((np.clip(samples, -1, 1) * 32767).astype(np.int16).tobytes())


def test_wav_folder_builds_caches_and_stores_settings(tmp_path):
    rng = np.random.default_rng(0)
    for label, freq in (("low", 250.0), ("high", 3000.0)):
        (tmp_path / "audio" / label).mkdir(parents=True)
        for i in range(10):
            t = np.arange(rng.integers(4000, 8000)) / 8000  # 8 kHz files, resampled to 16 kHz
            _write_wav(tmp_path / "audio" / label / f"{i}.wav", 0.5 * np.sin(2 * np.pi * freq * t), rate=8000)
    settings = FeatureSettings(n_mels=20, n_mfcc=8)
    dm = SpeechFeaturesDataModule(tmp_path / "audio", features=settings, cache_dir=tmp_path / "cache")
    dm.setup()
    assert dm.split_sizes() == {"train": 16, "val": 2, "test": 2} and dm.num_classes == 2
    assert dm.preprocessing["speech"]["feature_settings"]["n_mfcc"] == 8
    assert dm.preprocessing["speech"]["classes"] == ["high", "low"]
    again = SpeechFeaturesDataModule(tmp_path / "audio", features=settings, cache_dir=tmp_path / "cache")
    again.setup()
    assert again.info["from_cache"]


def test_bad_audio_and_ts_inputs(tmp_path):
    root = tmp_path / "audio"
    root.mkdir()
    _write_wav(root / "loose.wav", np.zeros(100))
    with pytest.raises(DataError, match="directly in the root .* Move each into a subfolder"):
        SpeechFeaturesDataModule(root).setup()
    (root / "loose.wav").unlink()
    (root / "yes").mkdir()
    _write_wav(root / "yes" / "a.wav", np.zeros(100))
    with pytest.raises(DataError, match="found 1 label folder"):
        SpeechFeaturesDataModule(root).setup()
    (root / "no").mkdir()
    (root / "no" / "b.wav").write_bytes(b"RIFF....not really")
    with pytest.raises(DataError, match=r"no[/\\]b.wav: not a PCM WAV file"):
        SpeechFeaturesDataModule(root, cache_dir=tmp_path / "cache").setup()
    assert not (tmp_path / "cache").exists() or not list((tmp_path / "cache").glob("*.npz"))  # nothing cached
    with pytest.raises(DataError, match="no such folder"):
        SpeechFeaturesDataModule(tmp_path / "missing").setup()
    bad_ts = tmp_path / "x.ts"
    bad_ts.write_text("@problemName x\n@classLabel true 1 2\n@data\n1,2,nan:1\n")
    with pytest.raises(DataError, match=r"x.ts:4: 1 NaN/inf"):
        read_ts(bad_ts)
    bad_ts.write_text("just,some,csv\n")
    with pytest.raises(DataError, match="no '@data' line"):
        read_ts(bad_ts)


SPHINX_DATA = "/usr/share/pocketsphinx/test/data"  # Debian's pocketsphinx-testdata: real 16 kHz recordings


def test_front_end_on_real_speech(tmp_path):
    import os

    if not os.path.isdir(f"{SPHINX_DATA}/cards"):
        pytest.skip("needs real speech: apt-get install pocketsphinx-testdata")
    from rnnzoo.data.speech.wav import read_wav

    wav = read_wav(f"{SPHINX_DATA}/cards/001.wav", 16000)
    feats = compute_features(wav, FeatureSettings())
    assert feats.shape == (len(wav) // 160 + 1, 40) and torch.isfinite(feats).all()
    loudness = feats.logsumexp(dim=1)  # log of the total mel energy per frame
    # Speech and the pauses around it differ by orders of magnitude in energy (here about 10 nats); 4 nats
    # (a factor of 55) would already fail for noise or a constant signal.
    assert loudness.max() - loudness.min() > 4
    # A folder of real recordings, one subfolder per source (a card-game speaker vs a LibriVox reader).
    for label in ("cards", "librivox"):
        (tmp_path / label).mkdir()
        for src in sorted(os.listdir(f"{SPHINX_DATA}/{label}")):
            if src.endswith(".wav"):
                os.symlink(f"{SPHINX_DATA}/{label}/{src}", tmp_path / label / src)
    dm = SpeechFeaturesDataModule(tmp_path, features=FeatureSettings(n_mfcc=13), cache_dir=False,
                                  proportions=(0.6, 0.2, 0.2))
    dm.setup()
    assert sum(dm.split_sizes().values()) == 10 and dm.num_features == 13
