"""SpeechFeaturesDataModule: bundled UEA JapaneseVowels, the torch log-mel/MFCC front end, WAV folders."""

import math
import wave
from pathlib import Path

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


def _tone_folder(root, per_label, labels=("no", "yes")):
    t = np.arange(4000) / 16000
    for label in labels:
        (root / label).mkdir(parents=True, exist_ok=True)
        for i in range(per_label):
            _write_wav(root / label / f"{i}.wav", 0.5 * np.sin(2 * np.pi * (300 + 100 * i) * t))
    return root


def test_one_recording_per_label_is_refused_before_training(tmp_path):
    from rnnzoo.compare.user_data import user_data_preset

    root = _tone_folder(tmp_path / "audio", per_label=1)
    message = (r"audio: 2 recordings \(per label no: 1, yes: 1; .*\) cut 80%/10%/10% into train/validation/test "
               r"give 2/0/0: the validation and test splits would be empty.*Add recordings: these proportions need "
               r"at least 7 in all")
    with pytest.raises(DataError, match=message):
        SpeechFeaturesDataModule(root, cache_dir=False).setup()
    with pytest.raises(DataError, match=message):  # rnnzoo compare --data FOLDER: refused while planning
        user_data_preset(root, loader={"cache_dir": False})
    with pytest.raises(DataError, match=r"give the test split no share"):
        SpeechFeaturesDataModule(_tone_folder(tmp_path / "more", per_label=5), cache_dir=False,
                                 proportions=(0.8, 0.2, 0.0)).setup()


def test_stray_files_beside_label_folders_are_left_out_not_text(tmp_path):
    from rnnzoo.compare.user_data import data_kind
    from rnnzoo.data.speech.audio_folder import stray_files

    root = _tone_folder(tmp_path / "audio", per_label=4)
    (root / "README.txt").write_text("recorded in my kitchen\n")
    (root / "yes" / "notes.md").write_text("take 3 was noisy\n")
    assert data_kind(root) == "speech"
    assert stray_files(root) == ["README.txt", str(Path("yes") / "notes.md")]
    dm = SpeechFeaturesDataModule(root, cache_dir=False, proportions=(0.5, 0.25, 0.25))
    dm.setup()
    assert sum(dm.split_sizes().values()) == 8
    texts = tmp_path / "texts"
    texts.mkdir()
    (texts / "book.txt").write_text("a story\n")
    assert data_kind(texts) == "text"  # no label folders of recordings: a folder of texts


def test_truncated_wav_is_refused_with_both_lengths(tmp_path):
    from rnnzoo.data.speech.wav import read_wav

    path = tmp_path / "cut.wav"
    _write_wav(path, np.zeros(4000))
    data = path.read_bytes()
    path.write_bytes(data[:44 + 1000])  # a 44-byte header and the first 500 of 4000 frames
    with pytest.raises(DataError, match=r"cut.wav: truncated: its header says 4000 frames \(8000 bytes of samples\) "
                                        r"but the file holds 1000 bytes of them \(500 frames\).*Re-export or "
                                        r"re-record"):
        read_wav(path, 16000)
    # A streamed WAV (data size left at the 0xFFFFFFFF placeholder) has an unknown length, not a wrong one.
    streamed = bytearray(data)
    assert streamed[36:40] == b"data"
    streamed[40:44] = (0xFFFFFFFF).to_bytes(4, "little")
    path.write_bytes(bytes(streamed))
    assert read_wav(path, 16000).shape == (4000,)


def test_the_cache_sees_a_replacement_with_the_same_size_and_time(tmp_path):
    # A copy that keeps size and modification time (cp -p, rsync -t, an archive) changed the recording but not
    # the cache key, which was size + mtime; the key is the content now.
    import os

    from tests.support.bad_input_corpus import _tone, _wav
    from rnnzoo.data import SpeechFeaturesDataModule

    for label in ("yes", "no"):
        for i in range(6):
            _wav(tmp_path / "audio" / label / f"{i}.wav", _tone(seed=i + (10 if label == "no" else 0)))

    def features():
        data = SpeechFeaturesDataModule(tmp_path / "audio", cache_dir=tmp_path / "cache", proportions=(0.5, 0.25, 0.25))
        data.setup()
        return data.info["from_cache"], data.info["content_sha256"]

    assert features()[0] is False
    from_cache, before = features()
    assert from_cache is True
    path = tmp_path / "audio" / "yes" / "0.wav"
    stat = path.stat()
    _wav(path, _tone(seed=99))  # same length, other samples
    os.utime(path, ns=(stat.st_atime_ns, stat.st_mtime_ns))
    assert path.stat().st_size == stat.st_size and path.stat().st_mtime_ns == stat.st_mtime_ns
    from_cache, after = features()
    assert from_cache is False and after != before  # rebuilt from the new samples
