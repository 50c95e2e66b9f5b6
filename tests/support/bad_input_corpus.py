"""The bad-input corpus: every mistake a new user was seen to make (issue 19's 233 tries, the ones that went wrong and
the ones that already gave a clear answer), one row each, with what rnnzoo must do about it.

A row is an error (the exception type and a regex its message must match: the problem and the fix) or a correct
result (a check on what came back). tests/test_bad_input_corpus.py runs every row; docs/refusals.md is generated
from this table by docs/make_refusals.py (a test keeps the two equal).
"""

from __future__ import annotations

import json
import os
import wave
from collections.abc import Callable
from dataclasses import dataclass
from pathlib import Path
from typing import Any
from unittest import mock

import numpy as np
import torch


@dataclass(frozen=True)
class Case:
    id: str
    area: str  # layers | models | saved models | data | command line | tracking
    what: str  # the input, in a user's words
    run: Callable[[Path], Any]  # gets a fresh temporary folder
    error: type[BaseException] | tuple[type[BaseException], ...] | None = None  # None: a correct result
    message: str = ""  # regex the error's message matches
    check: Callable[[Any], bool] | None = None  # for a correct result
    outcome: str = ""  # what happens, in words (the docs' column)


# ----------------------------------------------------------------------------------------------------- layers
def _padding_gradients(cell: str, gates: bool) -> bool:
    import rnnzoo.nn as rnn

    torch.manual_seed(0)
    layer = {"peephole_lstm": rnn.PeepholeLSTM, "lstm": rnn.LSTM, "gru": rnn.GRU}[cell](3, 4, batch_first=True)
    x = torch.randn(2, 6, 3)
    x[1, 3:] = float("nan")  # a careless pad: NaN past the second sequence's length
    result = layer(x, lengths=[6, 3], return_gates=gates)
    output = result[0]
    output.sum().backward()
    grads_finite = all(torch.isfinite(p.grad).all() for p in layer.parameters())
    zero_past_length = all(torch.equal(v[:, 1, 3:], torch.zeros_like(v[:, 1, 3:])) for v in result[2].values()) \
        if gates else True
    return bool(grads_finite and zero_past_length and torch.isfinite(output).all())


def _layer(cell: str = "peephole_lstm", **kwargs):
    import rnnzoo.nn as rnn

    return {"peephole_lstm": rnn.PeepholeLSTM, "lstm": rnn.LSTM, "gru": rnn.GRU, "rnn": rnn.RNN}[cell](
        3, 4, batch_first=True, **kwargs)


LAYERS = [
    Case("nan-padding-peephole", "layers", "NaN in the padding past `lengths` (PeepholeLSTM)",
         lambda _: _padding_gradients("peephole_lstm", gates=False), check=bool,
         outcome="padding is zeroed before the time loops: outputs, gradients finite"),
    Case("nan-padding-lstm-gates", "layers", "NaN in the padding, LSTM with `return_gates=True`",
         lambda _: _padding_gradients("lstm", gates=True), check=bool,
         outcome="finite gradients; gate traces are zero past each length, as documented"),
    Case("nan-padding-gru-gates", "layers", "NaN in the padding, GRU with `return_gates=True`",
         lambda _: _padding_gradients("gru", gates=True), check=bool,
         outcome="finite gradients; gate traces are zero past each length"),
    Case("float64-into-float32", "layers", "float64 input into a float32 PeepholeLSTM",
         lambda _: _layer()(torch.randn(2, 5, 3, dtype=torch.float64)), TypeError,
         r"input has dtype torch.float64 but the layer's weights are torch.float32",
         outcome="error naming both dtypes and the two ways to convert"),
    Case("float64-lstm-lengths", "layers", "float64 input into a float32 LSTM with lengths",
         lambda _: _layer("lstm")(torch.randn(2, 5, 3, dtype=torch.float64), lengths=[5, 2]), TypeError,
         r"input has dtype torch.float64"),
    Case("zero-steps", "layers", "a batch with 0 time steps (PeepholeLSTM)",
         lambda _: _layer()(torch.randn(2, 0, 3)), ValueError, r"input has 0 time steps"),
    Case("zero-steps-gates", "layers", "0 time steps with `return_gates=True`",
         lambda _: _layer("gru")(torch.randn(2, 0, 3), return_gates=True), ValueError, r"0 time steps"),
    Case("lengths-string", "layers", 'lengths="623"',
         lambda _: _layer("lstm")(torch.randn(3, 6, 3), lengths="623"), TypeError, r"got the string '623'"),
    Case("lengths-too-long", "layers", "a length beyond the padded length",
         lambda _: _layer("lstm")(torch.randn(2, 5, 3), lengths=[5, 9]), ValueError, r"every length must lie in 1..5"),
    Case("four-dims", "layers", "a 4-D input",
         lambda _: _layer("rnn")(torch.randn(2, 5, 3, 1)), ValueError, r"input must be 3-D"),
    Case("hx-shape", "layers", "an initial state of the wrong shape",
         lambda _: _layer("gru")(torch.randn(2, 5, 3), torch.zeros(1, 3, 4)), ValueError, r"hx must have shape"),
    Case("hx-dtype", "layers", "an initial state of another dtype",
         lambda _: _layer("gru")(torch.randn(2, 5, 3), torch.zeros(1, 2, 4, dtype=torch.float64)), TypeError,
         r"hx has dtype torch.float64 but the input has torch.float32"),
]


# ----------------------------------------------------------------------------------------------------- models
def _forecaster_lengths(_):
    from rnnzoo.tasks import Forecaster

    Forecaster("gru", normalization="last_value", hidden_size=4)(torch.randn(2, 5, 1), lengths=[5, 7])


def _token_out_of_range(_):
    import rnnzoo

    rnnzoo.create_model("charlm-gru-1m")(torch.tensor([[1, 2, 300]]))


MODELS = [
    Case("forecaster-lengths", "models", "Forecaster with a length beyond the window", _forecaster_lengths, ValueError,
         r"lengths must hold one length in 1..5"),
    Case("token-id-range", "models", "a token id >= vocab_size", _token_out_of_range, ValueError,
         r"token ids must lie in 0..255"),
    Case("fit-wrong-task-data", "models", "a piano-roll model trained on CO2 windows",
         lambda _: _fit_pianoroll_on_co2(), ValueError, r"piano_roll model needs preprocessing \{'piano_roll'.*"
                                                         r"got \['timeseries'\]"),
]


def _fit_pianoroll_on_co2():
    import lightning as L

    from rnnzoo.data import TimeSeriesDataModule
    from rnnzoo.training import TrainingModule

    L.Trainer(max_epochs=1, logger=False, enable_checkpointing=False, enable_progress_bar=False,
              enable_model_summary=False).fit(TrainingModule("pianoroll-gru-20k"),
                                              datamodule=TimeSeriesDataModule("co2", input_length=12, horizon=6))


# ----------------------------------------------------------------------------------------------- saved models
def _saved(tmp: Path, name: str = "pianoroll-gru-20k") -> Path:
    import rnnzoo

    return rnnzoo.create_model(name).save_pretrained(tmp / "model")


def _edit_config(tmp: Path, **changes) -> Any:
    import rnnzoo

    folder = _saved(tmp)
    config = json.loads((folder / "config.json").read_text())
    config.update(changes)
    (folder / "config.json").write_text(json.dumps(config))
    return rnnzoo.load(f"local-dir:{folder}")


def _weights_as(tmp: Path, dtype: torch.dtype) -> Any:
    import rnnzoo
    from safetensors.torch import save_file

    folder = _saved(tmp)
    model = rnnzoo.load(f"local-dir:{folder}")
    save_file({k: v.to(dtype) for k, v in model.state_dict().items()}, str(folder / "model.safetensors"))
    return rnnzoo.load(f"local-dir:{folder}")


def _damaged_weights(tmp: Path, keep: int | None) -> Any:
    import rnnzoo

    folder = _saved(tmp)
    data = (folder / "model.safetensors").read_bytes()
    (folder / "model.safetensors").write_bytes(b"" if keep is None else data[:keep])
    return rnnzoo.load(f"local-dir:{folder}")


def _pickle_only(tmp: Path) -> Any:
    import rnnzoo

    folder = _saved(tmp)
    os.remove(folder / "model.safetensors")
    (folder / "pytorch_model.bin").write_bytes(b"\x80\x04K\x01.")
    return rnnzoo.load(f"local-dir:{folder}")


def _failed_save_keeps_the_old_model(tmp: Path) -> bool:
    """A save that dies part-way (here: the weights file hits a size limit) over an existing folder."""

    import rnnzoo
    import rnnzoo.hub

    folder = _saved(tmp)
    before = {name: (folder / name).read_bytes() for name in ("config.json", "model.safetensors")}
    other = rnnzoo.create_model("pianoroll-lstm-20k")

    def dies_part_way(model, filename, **kwargs):
        Path(filename).write_bytes(b"partial")
        raise OSError(27, "File too large")

    with mock.patch.object(rnnzoo.hub, "save_model", dies_part_way):
        try:
            other.save_pretrained(folder)
        except OSError:
            pass
    after = {name: (folder / name).read_bytes() for name in before}
    leftovers = [p.name for p in folder.iterdir() if p.name.startswith(".")]
    return after == before and not leftovers and rnnzoo.load(f"local-dir:{folder}").config["cell"] == "gru"


SAVED = [
    Case("unknown-name", "saved models", "a typo in a zoo name", lambda _: __import__("rnnzoo").load("pianoroll-gur-20k.jsb"),
         ValueError, r"unknown model 'pianoroll-gur-20k.jsb'; did you mean 'pianoroll-gru-20k.jsb'"),
    Case("repo-without-prefix", "saved models", "a Hub repo id without `hf-hub:`",
         lambda _: __import__("rnnzoo").load("me/my-gru"), ValueError, r"looks like a Hugging Face Hub repo id"),
    Case("format-version-string", "saved models", 'config.json `format_version: "2"`',
         lambda tmp: _edit_config(tmp, format_version="2"), ValueError, r"format_version must be a whole number"),
    Case("format-version-null", "saved models", "config.json `format_version: null`",
         lambda tmp: _edit_config(tmp, format_version=None), ValueError, r"format_version must be a whole number"),
    Case("format-version-negative", "saved models", "config.json `format_version: -1`",
         lambda tmp: _edit_config(tmp, format_version=-1), ValueError, r"format_version must be a whole number >= 1"),
    Case("architecture-list", "saved models", "config.json `architecture` a list",
         lambda tmp: _edit_config(tmp, architecture=["pianoroll-gru-20k"]), ValueError,
         r"'architecture' must be a name"),
    Case("int32-weights", "saved models", "int32 tensors in model.safetensors", lambda tmp: _weights_as(tmp, torch.int32),
         ValueError, r"stores .*\(I32\).* as integers or booleans"),
    Case("bool-weights", "saved models", "bool tensors in model.safetensors", lambda tmp: _weights_as(tmp, torch.bool),
         ValueError, r"\(BOOL\).* as integers or booleans"),
    Case("truncated-weights", "saved models", "a truncated model.safetensors", lambda tmp: _damaged_weights(tmp, 100),
         ValueError, r"not a readable safetensors file"),
    Case("zero-byte-weights", "saved models", "a zero-byte model.safetensors", lambda tmp: _damaged_weights(tmp, None),
         ValueError, r"not a readable safetensors file"),
    Case("pickle-only", "saved models", "a folder with pytorch_model.bin and no safetensors", _pickle_only, ValueError,
         r"never loads pickle files"),
    Case("size-override-pretrained", "saved models", "a size override on pretrained weights",
         lambda _: __import__("rnnzoo").load("forecaster-gru-20k.co2", hidden_size=10), ValueError,
         r"the override\(s\) \{'hidden_size': 10\} change the shapes"),
    Case("failed-save", "saved models", "a save that fails part-way over an existing folder",
         _failed_save_keeps_the_old_model, check=bool,
         outcome="written to a staging folder first: the old model stays whole, no staging left behind"),
]


# ------------------------------------------------------------------------------------------------------- data
def _series(source, **kwargs):
    from rnnzoo.data import TimeSeriesDataModule

    data = TimeSeriesDataModule(source, **{"input_length": 8, "horizon": 2, **kwargs})
    data.setup()
    return data


def _csv(tmp: Path, text: str) -> Path:
    (tmp / "series.csv").write_text(text)
    return tmp / "series.csv"


def _wav(path: Path, samples: np.ndarray, width: int = 2, rate: int = 16000) -> Path:
    path.parent.mkdir(parents=True, exist_ok=True)
    with wave.open(str(path), "wb") as w:
        w.setnchannels(1)
        w.setsampwidth(width)
        w.setframerate(rate)
        w.writeframes(samples.tobytes())
    return path


def _tone(n: int = 4000, seed: int = 0) -> np.ndarray:
    rng = np.random.default_rng(seed)
    return (0.3 * np.sin(np.arange(n) * 0.2 + seed) * 32767 + rng.normal(0, 50, n)).astype(np.int16)


def _audio_folder(tmp: Path, short: bool = False, suffix: str = ".wav"):
    from rnnzoo.data import SpeechFeaturesDataModule

    for label in ("yes", "no"):
        for i in range(4):
            _wav(tmp / "audio" / label / f"{i}{suffix}", _tone(seed=i))
    if short:
        _wav(tmp / "audio" / "yes" / "tiny.wav", _tone(20))
    data = SpeechFeaturesDataModule(tmp / "audio", cache_dir=False, proportions=(0.5, 0.25, 0.25))
    data.setup()
    return data


def _text(tmp: Path, content: bytes, **kwargs):
    from rnnzoo.data import TextDataModule

    (tmp / "t.txt").write_bytes(content)
    data = TextDataModule(tmp / "t.txt", **{"level": "char", "batch_size": 2, "bptt": 4, **kwargs})
    data.setup()
    return data


def _wav_folder_data(tmp: Path, samples: np.ndarray, width: int):
    from rnnzoo.data.speech.wav import read_wav

    return read_wav(_wav(tmp / "x.wav", samples, width=width), 16000)


DATA = [
    Case("csv-text-cell", "data", "a CSV `year,co2` where one co2 cell reads `12.3x`",
         lambda tmp: _series(_csv(tmp, "year,co2\n" + "".join(f"{1990 + i},{300 + i}\n" for i in range(40))
                                  .replace("310\n", "12.3x\n"))), ValueError,
         r"column 'co2' is numbers except row 10, '12.3x'; fix that cell \(the column is not dropped\)"),
    Case("dataframe-source", "data", "a pandas DataFrame as a time-series source",
         lambda _: _series(__import__("pandas").DataFrame({"y": np.arange(60.0)})).split_sizes(),
         check=lambda sizes: sizes["train"] > 0, outcome="read like a CSV: its numeric columns"),
    Case("series-source", "data", "a pandas Series as a time-series source",
         lambda _: _series(__import__("pandas").Series(np.arange(60.0), name="y")).split_sizes(),
         check=lambda sizes: sizes["train"] > 0, outcome="one series"),
    Case("list-source", "data", "a list of numbers as a time-series source",
         lambda _: _series(list(np.arange(60.0))).split_sizes(), check=lambda sizes: sizes["train"] > 0,
         outcome="one series, not 60 one-step ones"),
    Case("nan-series", "data", "NaN in a series", lambda _: _series(np.r_[np.arange(30.0), np.nan, np.arange(30.0)]),
         ValueError, r"NaN/inf value\(s\), the first at index \(30, 0\)"),
    Case("empty-series", "data", "an empty array as a series", lambda _: _series(np.zeros(0)), ValueError,
         r"too short for windows|no series|empty"),
    Case("short-series", "data", "a series too short for the windows", lambda _: _series(np.arange(12.0)), ValueError,
         r"too short for windows of input_length=8 \+ horizon=2"),
    Case("bptt-zero", "data", "`bptt=0`", lambda tmp: _text(tmp, b"abc " * 100, bptt=0), ValueError,
         r"bptt must be a whole number of steps >= 1"),
    Case("bptt-negative", "data", "`bptt=-3`", lambda tmp: _text(tmp, b"abc " * 100, bptt=-3), ValueError,
         r"bptt must be a whole number of steps >= 1"),
    Case("empty-text", "data", "an empty text file", lambda tmp: _text(tmp, b""), ValueError, r"the file is empty"),
    Case("binary-text", "data", "a binary file as text", lambda tmp: _text(tmp, bytes(range(256)) * 4), ValueError,
         r"not UTF-8 text"),
    Case("utf16-text", "data", "a UTF-16 text file", lambda tmp: _text(tmp, "hello world\n".encode("utf-16") * 50),
         ValueError, r"not UTF-8 text.*iconv"),
    Case("short-wav", "data", "a 20-sample WAV among the recordings", lambda tmp: _audio_folder(tmp, short=True),
         ValueError, r"tiny.wav: the recording has 20 samples; the front end needs more than n_fft/2 = 256"),
    Case("upper-case-wav", "data", "`*.WAV` files", lambda tmp: _audio_folder(tmp, suffix=".WAV").split_sizes(),
         check=lambda sizes: sum(sizes.values()) == 8, outcome="found like .wav"),
    Case("corrupt-wav", "data", "a corrupt WAV",
         lambda tmp: (tmp.joinpath("x.wav").write_bytes(b"RIFF0000WAVEjunk"), __import__(
             "rnnzoo.data.speech.wav", fromlist=["read_wav"]).read_wav(tmp / "x.wav", 16000)), ValueError,
         r"not a PCM WAV file"),
    Case("24-bit-wav", "data", "a 24-bit WAV", lambda tmp: _wav_folder_data(tmp, np.zeros(3000, dtype=np.uint8), 3),
         ValueError, r"24-bit samples are not supported"),
    Case("zero-frame-wav", "data", "a WAV with no frames", lambda tmp: _wav_folder_data(tmp, np.zeros(0, np.int16), 2),
         ValueError, r"no samples|empty"),
]


# ----------------------------------------------------------------------------------------------- command line
RECIPE = """\
seed_everything: 0
model:
  model: forecaster-gru-20k
data:
  class_path: rnnzoo.data.TimeSeriesDataModule
  init_args: {{source: co2, input_length: 24, horizon: 24, batch_size: 64}}
trainer:
  max_epochs: 1
  enable_progress_bar: false
  enable_model_summary: false
  default_root_dir: {root}
  logger: false
"""


def _recipe(tmp: Path) -> Path:
    path = tmp / "recipe.yaml"
    path.write_text(RECIPE.format(root=tmp / "run"))
    return path


def _cli(*argv: str) -> Any:
    from rnnzoo.cli import main

    return main(list(argv))


def _corrupt_ckpt(tmp: Path) -> Path:
    (tmp / "run.ckpt").write_bytes(b"\x80\x02}q\x00(X\x05\x00truncated")
    return tmp / "run.ckpt"


def _push_unreachable(tmp: Path) -> Any:
    import socket

    with socket.socket() as s:  # a port nobody listens on
        s.bind(("127.0.0.1", 0))
        port = s.getsockname()[1]
    folder = _saved(tmp)
    with mock.patch.dict(os.environ, HF_ENDPOINT=f"http://127.0.0.1:{port}", HF_TOKEN="dummy-token"):
        return _cli("push", str(folder), "me/x")


COMMAND_LINE = [
    Case("push-unreachable", "command line", "`rnnzoo push` to an unreachable Hub endpoint", _push_unreachable,
         SystemExit, r"^2$", outcome="exit 2: 'cannot reach the Hub at http://127.0.0.1:PORT to push me/x "
                                     "(ConnectError ...); check the network or HF_ENDPOINT'"),
    Case("test-without-ckpt", "command line", "`rnnzoo test -c recipe` without `--ckpt_path`",
         lambda tmp: _cli("test", "-c", str(_recipe(tmp))), ValueError,
         r"rnnzoo test needs --ckpt_path .*untrained"),
    Case("fit-corrupt-ckpt", "command line", "`rnnzoo fit --ckpt_path` a corrupt .ckpt",
         lambda tmp: _cli("fit", "-c", str(_recipe(tmp)), "--ckpt_path", str(_corrupt_ckpt(tmp))), ValueError,
         r"is not a readable checkpoint \(corrupt, truncated"),
    Case("resume-nothing", "command line", "`--ckpt_path last` with nothing there",
         lambda tmp: _cli("fit", "-c", str(_recipe(tmp)), "--ckpt_path", "last"), FileNotFoundError,
         r"--ckpt_path last: no checkpoint at"),
    Case("push-corrupt-ckpt", "command line", "`rnnzoo push` a corrupt .ckpt",
         lambda tmp: _cli("push", str(_corrupt_ckpt(tmp)), "me/x"), SystemExit, r"^2$",
         outcome="exit 2: 'is not a readable checkpoint (corrupt, truncated ...)'"),
    Case("compare-budget-text", "command line", "`rnnzoo compare --budget abc`",
         lambda tmp: _cli("compare", "--data", "co2", "--budget", "abc", "--out", str(tmp / "o")), SystemExit,
         r"^2$", outcome="exit 2: '--budget: budget 'abc' is not a parameter count; write it like 20000, 20k'"),
    Case("compare-unknown-data", "command line", "`rnnzoo compare --data mnist`",
         lambda tmp: _cli("compare", "--data", "mnist", "--out", str(tmp / "o")), SystemExit, r"^2$",
         outcome="exit 2: 'neither a built-in dataset (...) nor an existing file or folder'"),
    Case("compare-quantiles-music", "command line", "`rnnzoo compare --data jsb --quantiles 0.1 0.9`",
         lambda tmp: _cli("compare", "--data", "jsb", "--quantiles", "0.1", "0.9", "--out", str(tmp / "o")),
         SystemExit, r"^2$", outcome="exit 2: 'quantiles=[0.1, 0.9] is for forecasting data (co2, sunspots, a CSV of "
                                     "series); these models are 'piano_roll''"),
    Case("compare-es-zeros", "command line", "`rnnzoo compare --data sunspots --normalization es` (years with no spots)",
         lambda tmp: _cli("compare", "--data", "sunspots", "--normalization", "es", "--out", str(tmp / "o"),
                          "--tracking-uri", f"sqlite:///{tmp / 'm.db'}"), SystemExit, r"^2$",
         outcome="exit 2: 'normalization='es' is multiplicative and the series has values <= 0 (minimum 0): use "
                 "normalization='seasonal_difference' or 'last_value' (additive) ...'"),
    Case("compare-sdiff-short-window", "command line",
         "`rnnzoo compare --data sales.csv --season 12 --input-length 12 --normalization seasonal_difference`",
         lambda tmp: _cli("compare", "--data", str(_monthly_csv(tmp)), "--season", "12", "--input-length", "12",
                          "--normalization", "seasonal_difference", "--out", str(tmp / "o"),
                          "--tracking-uri", f"sqlite:///{tmp / 'm.db'}"), SystemExit, r"^2$",
         outcome="exit 2: 'windows of 12 steps leave too few: use --input-length of at least 14 (better two seasons, "
                 "24), or a shorter --season'"),
]


def _monthly_csv(tmp: Path) -> Path:
    t = np.arange(120)
    (tmp / "sales.csv").write_text("y\n" + "\n".join(f"{10 + np.sin(2 * np.pi * i / 12) + 0.01 * i:.4f}" for i in t))
    return tmp / "sales.csv"


# --------------------------------------------------------------------------------------------------- tracking
def _half_migrated(tmp: Path) -> Any:
    import sqlite3

    from rnnzoo.tracking import check_tracking_uri

    with sqlite3.connect(tmp / "mlflow.db") as db:
        db.execute("CREATE TABLE _alembic_tmp_runs (x INTEGER)")
    check_tracking_uri(f"sqlite:///{tmp / 'mlflow.db'}")


def _server_500(_: Path) -> Any:
    import http.server
    import threading

    from rnnzoo.tracking import check_tracking_uri

    class Handler(http.server.BaseHTTPRequestHandler):
        def do_GET(self):  # noqa: N802 - http.server's name
            self.send_response(200 if self.path == "/health" else 500)
            self.end_headers()
            self.wfile.write(b"OK" if self.path == "/health" else b"boom")

        def log_message(self, *args):
            pass

    server = http.server.HTTPServer(("127.0.0.1", 0), Handler)
    threading.Thread(target=server.serve_forever, daemon=True).start()
    try:
        check_tracking_uri(f"http://127.0.0.1:{server.server_address[1]}")
    finally:
        server.shutdown()


def _closed_port(_: Path) -> Any:
    import socket

    from rnnzoo.tracking import check_tracking_uri

    with socket.socket() as s:
        s.bind(("127.0.0.1", 0))
        port = s.getsockname()[1]
    check_tracking_uri(f"http://127.0.0.1:{port}")


TRACKING = [
    Case("half-migrated-store", "tracking", "a SQLite store a crashed migration left half-done", _half_migrated,
         RuntimeError, r"left half-migrated .*_alembic_tmp_runs.*move it aside"),
    Case("server-500", "tracking", "a server that answers /health but fails on its API", _server_500, RuntimeError,
         r"answers /health but its API fails \(HTTP 500"),
    Case("closed-port", "tracking", "a tracking URI on a closed port", _closed_port, RuntimeError, r"is unreachable"),
    Case("file-store", "tracking", "a `file:./mlruns` tracking URI",
         lambda _: __import__("rnnzoo.tracking", fromlist=["x"]).resolve_tracking_uri("file:./mlruns"), RuntimeError,
         r"MLflow's file store"),
]

# ------------------------------------------------------------------------------------- round 2 (issue 26)
def _year_and(tmp: Path, column: str, cells: list[str]) -> Path:
    rows = "".join(f'{1980 + i},"{c}"\n' for i, c in enumerate(cells))
    return _csv(tmp, f"year,{column}\n{rows}")


def _thousands_separators(tmp: Path) -> Any:
    import warnings

    sales = [f"{1234.5 + 1000 * i * i:,.1f}" for i in range(40)]
    with warnings.catch_warnings(record=True) as seen:
        warnings.simplefilter("always")
        data = _series(_year_and(tmp, "sales", sales))
    return data.preprocessing["timeseries"]["scaler"]["mean"][0], [str(w.message) for w in seen]


def _user_series(tmp: Path, path: Path) -> Any:
    from rnnzoo.compare.user_series import read_user_series

    return read_user_series(path)


def _semicolon_csv(tmp: Path) -> Any:
    path = _csv(tmp, "day;price\n" + "".join(f"2024-01-{d:02d};{d * d},5\n" for d in range(1, 29)))
    series = _user_series(tmp, path)
    return series.target_columns, series.arrays[0][:2, 0].tolist()


def _server_fails_writes(_: Path) -> Any:
    from tests.support.mlflow_server import ReadOnlyServer
    from rnnzoo.tracking import check_tracking_uri

    with ReadOnlyServer() as server:  # GETs answer, every POST is an HTTP 500
        check_tracking_uri(server.uri)


def _abandoned_run(tmp: Path) -> Any:
    import subprocess
    import sys

    from mlflow.tracking import MlflowClient
    from rnnzoo.compare.lifecycle import PID_TAG, ROLE_TAG, fail_abandoned_runs, owner_tags
    from rnnzoo.tracking import prepare_sqlite_store

    uri = f"sqlite:///{tmp / 'm.db'}"
    prepare_sqlite_store(uri)
    client, dead = MlflowClient(uri), subprocess.Popen([sys.executable, "-c", "pass"])
    dead.wait()  # its pid is now no process's: the comparison "was killed"
    experiment = client.create_experiment("c")
    run = client.create_run(experiment, tags={ROLE_TAG: "compare", **owner_tags(tmp / "o"), PID_TAG: str(dead.pid)})
    return client.get_run(run.info.run_id).info.status, fail_abandoned_runs(client, experiment, tmp / "o"), \
        client.get_run(run.info.run_id).info.status


def _user_series_time(path: Path) -> Any:
    from rnnzoo.compare.user_series import read_user_series

    return read_user_series(path, time_column="month")


def _mismatched_ensemble(_: Path) -> Any:
    import rnnzoo
    from rnnzoo.tasks.forecaster import ForecastEnsemble

    return ForecastEnsemble([rnnzoo.load("forecaster-gru-20k.co2"), rnnzoo.load("quantile-forecaster-gru-20k.sunspots")])


def _bad_ensemble_json(tmp: Path) -> Any:
    import rnnzoo
    from rnnzoo.tasks.forecaster import ForecastEnsemble

    folder = ForecastEnsemble([rnnzoo.load("forecaster-gru-20k.co2")]).save_pretrained(tmp / "ens")
    (folder / "ensemble.json").write_text("members: [member-0]\n")
    return ForecastEnsemble.from_pretrained(folder)


def _co2_npy(tmp: Path) -> str:
    np.save(tmp / "co2.npy", np.linspace(330.0, 345.0, 60))
    return str(tmp / "co2.npy")


def _silent_hub_load(_: Path) -> Any:
    """``rnnzoo.load("hf-hub:...")`` against an endpoint that accepts connections and never answers."""
    import socket

    import rnnzoo

    server = socket.socket()
    server.bind(("127.0.0.1", 0))
    server.listen(4)  # the kernel accepts the connections; nobody reads or answers
    try:
        with mock.patch.dict(os.environ, HF_ENDPOINT=f"http://127.0.0.1:{server.getsockname()[1]}",
                             HF_TOKEN="dummy-token", RNNZOO_HUB_TIMEOUT="2"):
            return rnnzoo.load("hf-hub:me/x")
    finally:
        server.close()


ROUND_2 = [
    Case("server-fails-writes", "tracking", "a server that answers reads but fails every write (HTTP 500 on POST)",
         _server_fails_writes, RuntimeError, r"answers reads but fails writes \(HTTP 500 on POST experiments/create",
         outcome="refused in about a second, before training (MLflow's client retried ~257 s); names the server, "
                 "the failed write, and --tracking-uri / MLFLOW_TRACKING_URI"),
    Case("study-storage-unknown-scheme", "command line", "`rnnzoo compare --lr-search 2 --study-storage foo://x`",
         lambda tmp: _cli("compare", "--data", "co2", "--lr-search", "2", "--study-storage", "foo://x",
                          "--out", str(tmp / "o"), "--tracking-uri", f"sqlite:///{tmp / 'm.db'}"), SystemExit, r"^2$",
         outcome="exit 2: \"--study-storage 'foo://x' is not a database URL SQLAlchemy knows (...); give "
                 "sqlite:///PATH (e.g. sqlite:///optuna.db) or a database URL such as postgresql://user@host/db\""),
    Case("study-storage-text-file", "command line", "`--study-storage sqlite:///optuna.db`, a text file named optuna.db",
         lambda tmp: (tmp / "optuna.db").write_text("trial,lr\n") and _cli(
             "compare", "--data", "co2", "--lr-search", "2", "--study-storage", f"sqlite:///{tmp / 'optuna.db'}",
             "--out", str(tmp / "o"), "--tracking-uri", f"sqlite:///{tmp / 'm.db'}"), SystemExit, r"^2$",
         outcome="exit 2: 'the study database /abs/optuna.db cannot be read as SQLite (file is not a database): ... "
                 "move it aside (`mv ... .broken`) and run again ..., or give another --study-storage'"),
    Case("compare-killed-run-left-running", "tracking", "a `rnnzoo compare` killed (SIGKILL) left its run RUNNING",
         _abandoned_run, check=lambda r: r[0] == "RUNNING" and r[2] == "FAILED" and "is gone" in r[1][0],
         outcome="the next comparison into that folder marks it (and its RUNNING children) FAILED and says so; "
                 "SIGTERM and Ctrl+C end the runs as KILLED"),
    Case("compare-out-holds-a-comparison", "command line", "a second `rnnzoo compare` into a folder holding one",
         lambda tmp: ((tmp / "o").mkdir(), (tmp / "o" / "results.json").write_text("{}"),
                      _cli("compare", "--data", "co2", "--out", str(tmp / "o"))), SystemExit, r"^2$",
         outcome="exit 2, nothing changed: 'already holds a comparison (results.json); ... another --out (leave it "
                 "out for a new folder per comparison), or --overwrite to replace it'"),
    Case("one-wav-per-label", "data", "a WAV folder with one recording per label",
         lambda tmp: (_wav(tmp / "audio" / "yes" / "0.wav", _tone()), _wav(tmp / "audio" / "no" / "0.wav", _tone(seed=1)),
                      __import__("rnnzoo.data", fromlist=["SpeechFeaturesDataModule"])
                      .SpeechFeaturesDataModule(tmp / "audio", cache_dir=False).setup()), ValueError,
         r"2 recordings \(per label no: 1, yes: 1; .*\) cut 80%/10%/10% .* validation and test splits would be "
         r"empty.*Add recordings: these proportions need at least 7 in all",
         outcome="refused before training: recordings per label, the split's counts, how many it needs"),
    Case("readme-in-wav-folder", "data", "a README.txt beside the label folders (`rnnzoo compare --data FOLDER`)",
         lambda tmp: (_audio_folder(tmp), (tmp / "audio" / "README.txt").write_text("notes\n"),
                      __import__("rnnzoo.compare.user_data", fromlist=["data_kind"]).data_kind(tmp / "audio"))[-1],
         check=lambda kind: kind == "speech",
         outcome="still recordings, not text; README.txt listed as not read (files_left_out, results.md)"),
    Case("truncated-wav", "data", "a truncated WAV (its header counts more frames than the file holds)",
         lambda tmp: (_wav(tmp / "x.wav", _tone()), (tmp / "x.wav").write_bytes((tmp / "x.wav").read_bytes()[:1044]),
                      __import__("rnnzoo.data.speech.wav", fromlist=["read_wav"]).read_wav(tmp / "x.wav", 16000)),
         ValueError, r"x.wav: truncated: its header says 4000 frames \(8000 bytes of samples\) but the file holds "
                     r"1000 bytes.*Re-export or re-record"),
    Case("classify-empty-list", "saved models", "`classify([])`",
         lambda _: __import__("rnnzoo").load("vowels-lstm-20k.japanese-vowels").classify([]), ValueError,
         r"no sequences given: pass one sequence .* or a list of them"),
    Case("predict-proba-batch-zero", "saved models", "`predict_proba(x, batch_size=0)`",
         lambda _: __import__("rnnzoo").load("vowels-lstm-20k.japanese-vowels").predict_proba(
             np.zeros((20, 12)), batch_size=0), ValueError, r"batch_size must be a whole number >= 1, got 0"),
    Case("generate-float-tokens", "saved models", "`generate('the', max_new_tokens=2.5)`",
         lambda _: __import__("rnnzoo").load("wordlm-lstm-4600k.ptb").generate("the", 2.5), ValueError,
         r"max_new_tokens must be a whole number >= 0, got 2.5 \(float\)"),
    Case("weights-link-to-dev-zero", "saved models", "`model.safetensors` a link to /dev/zero",
         lambda tmp: (os.remove(_saved(tmp) / "model.safetensors"),
                      os.symlink("/dev/zero", tmp / "model" / "model.safetensors"),
                      __import__("rnnzoo").load(str(tmp / "model")))[-1], ValueError,
         r"model.safetensors is not a regular file \(a link to /dev/zero\)"),
    Case("time-column-duplicates", "data", "a monthly table with one month twice",
         lambda tmp: _user_series_time(_csv(tmp, "month,y\n" + "".join(
             f"2001-{m:02d}-01,{(7 * m) % 5}\n" for m in [1, 2, 3, 3, 4, 5, 6, 7, 8, 9, 10, 11, 12]))), ValueError,
         r"duplicated timestamps: row 3 repeats 2001-03-01 00:00:00 of row 2"),
    Case("time-column-gap-february", "data", "a monthly table missing one month (after a 28-day February)",
         lambda tmp: _user_series_time(_csv(tmp, "month,y\n" + "".join(
             f"2001-{m:02d}-01,{(7 * m) % 5}\n" for m in [1, 2, 3, 5, 6, 7, 8, 9, 10, 11, 12]))), ValueError,
         r"calendar step 'MS' the first missing timestamp is 2001-04-01 00:00:00.*asfreq\('MS'\)"),
    Case("hub-never-answers", "saved models", "`rnnzoo.load('hf-hub:...')` from an endpoint that never answers",
         _silent_hub_load, OSError, r"no answer within 2 s \(RNNZOO_HUB_TIMEOUT sets it\)"),
    Case("csv-target-bad-cell", "data", "`rnnzoo compare --data` a CSV `year,co2` where one co2 cell reads `12.3x`",
         lambda tmp: _user_series(tmp, _year_and(tmp, "co2", [str(300 + i) for i in range(10)] + ["12.3x"] +
                                                 [str(311 + i) for i in range(30)])), ValueError,
         r"column 'co2' is numbers except row 10, '12.3x'; fix that cell \(the column is not dropped\)"),
    Case("csv-time-only", "data", "a CSV `year,name` (no column of values) for `rnnzoo compare`",
         lambda tmp: _user_series(tmp, _csv(tmp, "year,name\n" + "".join(f"{1990 + i},n{i}\n" for i in range(40)))),
         ValueError, r"no column to forecast.*'year' left out: it counts time.*name it with --target"),
    Case("thousands-separators", "data", 'a CSV `year,sales` with cells like `"1,234.5"`', _thousands_separators,
         check=lambda r: abs(r[0][0] - (1234.5 + 1000 * sum(i * i for i in range(28)) / 28)) < 1 and
         any("left out ['year']" in w for w in r[1]),
         outcome="sales read as 1234.5 ...; year left out with a warning (it counts time)"),
    Case("ambiguous-separators", "data", 'cells like `"1,234"` (1234 or 1.234?)',
         lambda tmp: _series(_year_and(tmp, "sales", [f"{i},{(37 * i) % 1000:03d}" for i in range(1, 41)])),
         ValueError, r"read as numbers in two ways.*thousands=.*decimal="),
    Case("semicolon-csv", "data", "a `;`-separated CSV with decimal commas", _semicolon_csv,
         check=lambda r: r == (["price"], [1.5, 4.5]), outcome="read with ';' and decimal commas: price 1.5, 4.5 ..."),
    Case("beyond-float32", "models", "`forecast(np.full(60, 1e39))` (beyond float32)",
         lambda _: __import__("rnnzoo").load("forecaster-gru-20k.co2").forecast(np.full(60, 1e39)), ValueError,
         r"beyond float32's range .*rescale"),
    Case("ensemble-mismatch", "models", "`ForecastEnsemble([monthly CO2 model, yearly sunspots model])`",
         _mismatched_ensemble, ValueError, r"disagree on series.*strict=False"),
    Case("ensemble-json-bad", "saved models", "a non-JSON `ensemble.json`", _bad_ensemble_json, ValueError,
         r"ensemble.json is not an ensemble description \(JSONDecodeError"),
    Case("max-epochs-zero", "command line", "`rnnzoo compare --max-epochs 0`",
         lambda tmp: _cli("compare", "--data", "co2", "--max-epochs", "0"), SystemExit, r"^2$",
         outcome="exit 2: 'argument --max-epochs: 0 is below the minimum: allowed 1 or more'"),
    Case("horizon-negative", "command line", "`rnnzoo compare --horizon -3` / `--horizon 0`",
         lambda tmp: _cli("compare", "--data", "co2", "--horizon", "-3"), SystemExit, r"^2$",
         outcome="exit 2: 'argument --horizon: -3 is below the minimum: allowed 1 or more'"),
    Case("patience-negative", "command line", "`rnnzoo compare --patience -1`",
         lambda tmp: _cli("compare", "--data", "co2", "--patience", "-1"), SystemExit, r"^2$",
         outcome="exit 2: 'argument --patience: -1 is below the minimum: allowed 0 or more'"),
    Case("max-new-tokens-float", "command line", "`rnnzoo predict WORD_MODEL text --max-new-tokens 2.5`",
         lambda tmp: _cli("predict", "wordlm-lstm-4600k.ptb", "the", "--max-new-tokens", "2.5"), SystemExit, r"^2$",
         outcome="exit 2: \"argument --max-new-tokens: '2.5' is not a whole number\""),
    Case("predict-missing-text-file", "command line", "`rnnzoo predict WORD_MODEL boook.txt --perplexity` (a typo)",
         lambda tmp: __import__("rnnzoo").load("wordlm-lstm-4600k.ptb").predict_from_files(
             ["boook.txt"], __import__("argparse").Namespace(perplexity=True, out=None)), ValueError,
         r"boook.txt: no such file"),
    Case("predict-missing-series-file", "command line", "`rnnzoo predict forecaster-gru-20k.co2 elecc.csv` (a typo)",
         lambda tmp: _cli("predict", "forecaster-gru-20k.co2", "elecc.csv"), SystemExit, r"^2$",
         outcome="exit 2: 'elecc.csv: no such file; give the series as a CSV, Parquet or .npy file'"),
    Case("predict-future-unused", "command line", "`rnnzoo predict --future f.csv` on a model without future inputs",
         lambda tmp: _cli("predict", "forecaster-gru-20k.co2", _co2_npy(tmp), "--future", "f.csv"), SystemExit,
         r"^2$", outcome="exit 2: 'reads no future-known covariates ...; leave --future out'"),
    Case("predict-out-missing-folder", "command line", "`rnnzoo predict ... --out missing/f.csv`",
         lambda tmp: _cli("predict", "forecaster-gru-20k.co2", _co2_npy(tmp), "--out", "missing/f.csv"), SystemExit,
         r"^2$", outcome="exit 2, before forecasting: 'the folder missing does not exist; create it first'"),
]


# ------------------------------------------------------------------------------------ round 3 (issue 25)
def _baseline_folder(tmp: Path, text: str | None = None) -> str:
    """A saved statistical baseline, as compare writes it (or with a baseline.json of ``text``)."""
    from rnnzoo.baselines import save_baseline
    from rnnzoo.baselines.forecast import StatisticalForecaster

    model = StatisticalForecaster("naive", 12, 6, 24)
    folder = save_baseline(tmp / "baselines" / "naive", model.to_spec(), model.card(str(tmp), {}))
    if text is not None:
        (folder / "baseline.json").write_text(text)
    return str(folder)


def _resume_elsewhere(tmp: Path):
    from rnnzoo.compare import compare

    return compare("co2", cells=("rnn",), seeds=(0,), out_dir=tmp / "out", resume=True, max_epochs=1,
                   tracking_uri=f"sqlite:///{tmp / 'mlflow.db'}", classical_baselines=False, save_models=False)


ROUND_3 = [
    Case("baseline-json-cut", "saved models", "a saved baseline whose `baseline.json` was cut short",
         lambda tmp: __import__("rnnzoo").load(_baseline_folder(tmp, '{"format": "rnnzoo-b')), ValueError,
         r"baseline.json is not JSON .*run the comparison again"),
    Case("baseline-overrides", "saved models", "`rnnzoo.load(<out>/baselines/naive, dropout=0.1)`",
         lambda tmp: __import__("rnnzoo").load(_baseline_folder(tmp), dropout=0.1), ValueError,
         r"is a saved baseline, which has no init arguments to override \(\['dropout'\]\)"),
    Case("baseline-quantiles", "command line", "`rnnzoo predict <out>/baselines/naive s.npy --quantiles 0.1 0.9`",
         lambda tmp: _cli("predict", _baseline_folder(tmp), _co2_npy(tmp), "--quantiles", "0.1", "0.9"),
         SystemExit, r"^2$", outcome="exit 2: '--quantiles: the saved naive baseline gives point forecasts only "
                                     "...; leave --quantiles out'"),
    Case("baseline-short-history", "models", "a saved seasonal naive baseline given 5 values (season 12)",
         lambda tmp: __import__("rnnzoo.baselines.forecast", fromlist=["x"]).StatisticalForecaster(
             "seasonal naive (m=12)", 12, 6, 24).forecast(np.arange(5.0)), ValueError,
         r"repeats the last season \(12 values\); the history has 5"),
    Case("jobs-zero", "command line", "`rnnzoo compare --jobs 0`",
         lambda tmp: _cli("compare", "--data", "co2", "--jobs", "0"), SystemExit, r"^2$",
         outcome="exit 2: 'argument --jobs: 0 is below the minimum: allowed 1 or more'"),
    Case("compare-resume-nothing", "command line", "`rnnzoo compare --resume --out new_folder` (nothing to resume)",
         _resume_elsewhere, ValueError, r"holds no interrupted comparison \(comparison.json is missing\); start one "
                                        r"without --resume"),
]

def _compare_with(tmp: Path, **options):
    from rnnzoo.compare import compare

    return compare("co2", out_dir=tmp / "out", tracking_uri=f"sqlite:///{tmp / 'mlflow.db'}", **options)


def _compare_in_a_starting_worker(tmp: Path):
    """What a spawned worker does while it imports an unguarded script (tests/compare/test_compare_parallel.py runs
    the real script): multiprocessing marks the process as still starting."""
    import multiprocessing

    with mock.patch.object(multiprocessing.current_process(), "_inheriting", True, create=True):
        return _compare_with(tmp, jobs=2)


def _history_with_a_typo(tmp: Path) -> str:
    rows = ["month,co2"] + [f"{1990 + i // 12}-{i % 12 + 1:02d}-01,{354 + 0.15 * i:.2f}" for i in range(60)]
    rows[10] = "1990-10-01,abc"
    (tmp / "history.csv").write_text("\n".join(rows) + "\n")
    return str(tmp / "history.csv")


ROUND_4 = [
    Case("predict-typo-cell", "models", "a history CSV for `rnnzoo predict forecaster-gru-20k.co2`, one cell `abc`",
         lambda tmp: __import__("rnnzoo.tasks.forecaster.tables", fromlist=["x"]).read_history_file(
             _history_with_a_typo(tmp), None, __import__("rnnzoo").load("forecaster-gru-20k.co2").preprocessing, 1),
         ValueError, r"column 'co2' is numbers except row 9, 'abc'; fix that cell"),
    Case("compare-unknown-option", "command line", "`compare(\"co2\", max_epoch=3)` (a mistyped option)",
         lambda tmp: _compare_with(tmp, max_epoch=3), ValueError,
         r"compare\(\) got unknown option\(s\) \['max_epoch'\] \(did you mean max_epochs\?\); the options are"),
    Case("dropout-range-above-1", "command line", "`rnnzoo compare --lr-search 4 --dropout-range 0.2 1.5`",
         lambda tmp: _compare_with(tmp, lr_search=4, dropout_range=(0.2, 1.5)), ValueError,
         r"dropout_range \(0.2, 1.5\) must lie in \[0, 1\) with low <= high.*--dropout-range 0.0 0.5"),
    Case("ray-and-jobs", "command line", "`rnnzoo compare --ray auto --jobs 2`",
         lambda tmp: _compare_with(tmp, ray="auto", jobs=2), ValueError,
         r"ray='auto' and jobs=2: give one of them"),
    Case("jobs-without-main-guard", "command line",
         "a script that calls `compare(..., jobs=2)` at its top level, without `if __name__ == \"__main__\":`",
         _compare_in_a_starting_worker, RuntimeError,
         r"called while a worker process was starting; .*put the call under `if __name__ == \"__main__\":`",
         outcome="each spawned worker refuses before planning anything (no second comparison, MLflow run or "
                 "folder); the script's runs fail with the same fix"),
]

CASES: list[Case] = [*LAYERS, *MODELS, *SAVED, *DATA, *COMMAND_LINE, *TRACKING, *ROUND_2, *ROUND_3, *ROUND_4]
