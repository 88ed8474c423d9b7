"""Deep fusion stage (TensorFlow/Keras), structured pruning, ONNX export and int8 quantisation.

TensorFlow is imported lazily inside these functions: importing this module is cheap, and the
serving side (engine.recommender) never imports it.

The scorer is a per-candidate MLP  f: R^D -> R  (standardisation baked in as its first layer).
It is trained listwise by default: for each user, softmax over the C candidates, cross-entropy
against the user's held-out items among them (multi-positive: targets normalised to sum to 1).
For explicit ratings (``loss="mse"``) it regresses each candidate's target instead — the
user's rating for a held-out item, 0 for the candidates the user did not rate — with
``keras.losses.MeanSquaredError`` over the valid candidates: L = 1/N Σ (y − ŷ)².
"""

from __future__ import annotations

import os
import time
from collections.abc import Callable
from dataclasses import dataclass

import numpy as np

__all__ = [
    "LOSSES",
    "FusionResult",
    "configure_tensorflow",
    "export_onnx",
    "onnx_scores",
    "prune_scorer",
    "quantize_int8",
    "scorer_scores",
    "train_fusion",
]

_CONFIGURED = False

# train_fusion(loss=...) -> the name recorded in the manifest
LOSSES = {"listwise": "listwise softmax cross-entropy", "mse": "mse"}


def configure_tensorflow(threads: int | None = None) -> None:
    """Quiet logs and a thread count sized for the machine (call before importing TF).

    In a process silenced by :func:`engine.quiet.quiet_third_party` (training entry points),
    TensorFlow's native start-up lines are dropped too."""
    global _CONFIGURED
    from engine.quiet import tensorflow_import_guard

    os.environ.setdefault("TF_CPP_MIN_LOG_LEVEL", "2")
    os.environ.setdefault("TF_ENABLE_ONEDNN_OPTS", "0")
    os.environ.setdefault("KERAS_BACKEND", "tensorflow")
    if _CONFIGURED:
        return
    with tensorflow_import_guard():  # a quiet process: native start-up lines dropped
        import tensorflow as tf

    n = threads or min(os.cpu_count() or 1, 4)
    try:
        tf.config.threading.set_intra_op_parallelism_threads(n)
        tf.config.threading.set_inter_op_parallelism_threads(min(n, 2))
    except RuntimeError:  # already initialised
        pass
    # the same data and seed give the same weights, however busy the machine (reproducible
    # training; on the CPU this costs next to nothing)
    tf.config.experimental.enable_op_determinism()
    tf.get_logger().setLevel("ERROR")
    _CONFIGURED = True


@dataclass
class FusionResult:
    scorer: object  # keras.Model (n, D) -> (n, 1)
    best_ndcg: float
    epochs: int
    history: list[float]
    cut_short: bool = False  # stopped by the ``deadline`` safety stop, not by early stopping


def _standardize_layer():
    import keras

    class Standardize(keras.layers.Layer):
        """(x - mean) / std with constants (not variables), so ONNX export embeds them."""

        def __init__(self, mean, std, **kw):
            super().__init__(**kw)
            self.mean = np.asarray(mean, np.float32).reshape(-1)
            self.std = np.asarray(std, np.float32).reshape(-1)

        def call(self, x):
            m = keras.ops.convert_to_tensor(self.mean)
            s = keras.ops.convert_to_tensor(self.std)
            return (x - m) / s

    return Standardize


def build_scorer(n_features: int, hidden: tuple[int, ...], dropout: float, mean, std, seed=42):
    """Keras model (None, D) -> (None, 1): standardise, MLP with ReLU, linear output."""
    configure_tensorflow()
    import keras

    keras.utils.set_random_seed(seed)
    inp = keras.Input(shape=(n_features,), name="features")
    x = _standardize_layer()(mean, std, name="norm")(inp)
    for j, h in enumerate(hidden):
        x = keras.layers.Dense(h, activation="relu", name=f"hidden{j}")(x)
        if dropout > 0:
            x = keras.layers.Dropout(dropout, name=f"dropout{j}")(x)
    out = keras.layers.Dense(1, name="score")(x)
    return keras.Model(inp, out, name="fusion")


def scorer_scores(scorer, feats: np.ndarray, batch: int = 65536) -> np.ndarray:
    """Scores (n, C) for features (n, C, D) with the Keras scorer."""
    n, c, d = feats.shape
    flat = feats.reshape(-1, d)
    out = [
        np.asarray(scorer(flat[s : s + batch], training=False)).reshape(-1)
        for s in range(0, len(flat), batch)
    ]
    return np.concatenate(out).reshape(n, c) if out else np.zeros((n, c), np.float32)


def train_fusion(
    feats: np.ndarray,
    labels: np.ndarray,
    valid: np.ndarray,
    val_feats: np.ndarray,
    evaluate: Callable[[np.ndarray], float],
    *,
    hidden: tuple[int, ...] = (128, 64),
    dropout: float = 0.1,
    learning_rate: float = 2e-3,
    epochs: int = 30,
    patience: int = 4,
    batch_users: int = 32,
    scorer=None,
    seed: int = 42,
    deadline: float | None = None,
    min_epochs: int = 1,
    progress: Callable[[int, float], None] | None = None,
    loss: str = "listwise",
) -> FusionResult:
    """Listwise (or MSE) training with early stopping on ``evaluate`` (validation nDCG@10).

    Args:
        feats: (n, C, D) training users' candidate features.
        labels: (n, C) 1 where the candidate is a held-out item of the user; with
            ``loss="mse"`` the regression target (the user's rating, 0 when not rated).
        valid: (n, C) bool, False on padding.
        val_feats: (m, C, D) early-stopping users' features.
        evaluate: maps (m, C) scores to the metric (higher is better).
        scorer: continue training this model (fine-tune) instead of building a new one.
        deadline: ``time.time()`` after which training stops after the current epoch
            (but not before ``min_epochs`` epochs).
        loss: "listwise" (softmax cross-entropy per user) or "mse" (explicit ratings:
            ``keras.losses.MeanSquaredError`` over the valid candidates; the model is
            compiled with it, so ``scorer.loss`` names it).
    """
    if loss not in LOSSES:
        raise ValueError(f"unknown fusion loss {loss!r}; expected one of {sorted(LOSSES)}")
    configure_tensorflow()
    import keras
    import tensorflow as tf

    n, c, d = feats.shape
    keep = labels.sum(axis=1) > 0
    feats, labels, valid = feats[keep], labels[keep], valid[keep]
    if scorer is None:
        flat = feats[valid]
        mean = flat.mean(axis=0)
        std = flat.std(axis=0)
        std[std < 1e-6] = 1.0
        scorer = build_scorer(d, hidden, dropout, mean, std, seed=seed)
    opt = keras.optimizers.Adam(learning_rate)
    x_all = tf.constant(feats)
    m_all = tf.constant(valid)
    if loss == "mse":
        mse = keras.losses.MeanSquaredError()
        scorer.compile(optimizer=opt, loss=mse)
        y_all = tf.constant(labels.astype(np.float32))
    else:
        y_all = tf.constant((labels / labels.sum(axis=1, keepdims=True)).astype(np.float32))

    @tf.function(reduce_retracing=True)
    def step(x, y, m):
        with tf.GradientTape() as tape:
            b = tf.shape(x)[0]
            s = tf.reshape(scorer(tf.reshape(x, (-1, d)), training=True), (b, c))
            if loss == "mse":
                # mean over the valid (non-padding) candidates of (y - ŷ)²
                value = mse(tf.boolean_mask(y, m)[:, None], tf.boolean_mask(s, m)[:, None])
            else:
                s = tf.where(m, s, tf.fill(tf.shape(s), -1e9))
                value = -tf.reduce_mean(tf.reduce_sum(y * tf.nn.log_softmax(s, axis=1), axis=1))
        grads = tape.gradient(value, scorer.trainable_variables)
        opt.apply_gradients(zip(grads, scorer.trainable_variables, strict=True))
        return value

    rng = np.random.default_rng(seed)
    best, best_w, best_ep, hist, bad = -1.0, scorer.get_weights(), 0, [], 0
    nk = len(feats)
    for ep in range(epochs):
        perm = rng.permutation(nk)
        for s in range(0, nk, batch_users):
            idx = tf.constant(perm[s : s + batch_users])
            step(tf.gather(x_all, idx), tf.gather(y_all, idx), tf.gather(m_all, idx))
        score = float(evaluate(scorer_scores(scorer, val_feats)))
        hist.append(score)
        if progress:
            progress(ep + 1, score)
        if score > best + 1e-5:
            best, best_w, best_ep, bad = score, scorer.get_weights(), ep + 1, 0
        else:
            bad += 1
        late = deadline is not None and time.time() > deadline and ep + 1 >= min_epochs
        if bad >= patience or late:
            break
    scorer.set_weights(best_w)
    cut = bool(late) and bad < patience and len(hist) < epochs
    return FusionResult(scorer, best, best_ep, hist, cut)


def prune_scorer(scorer, keep_fraction: float):
    """Structured magnitude pruning: drop the hidden units with the smallest
    |incoming weights|·|outgoing weights| (L2), rebuilding a smaller dense model.

    Returns a new Keras model with the same input/output and fewer hidden units.
    """
    configure_tensorflow()
    import keras

    dense = [ly for ly in scorer.layers if isinstance(ly, keras.layers.Dense)]
    norm = scorer.get_layer("norm")
    weights = [ly.get_weights() for ly in dense]  # [W (in, out), b (out,)]
    keep_idx = []
    for j in range(len(dense) - 1):
        w_in, _ = weights[j]
        w_out, _ = weights[j + 1]
        importance = np.linalg.norm(w_in, axis=0) * np.linalg.norm(w_out, axis=1)
        k = max(1, int(round(keep_fraction * w_in.shape[1])))
        keep_idx.append(np.sort(np.argsort(-importance)[:k]))
    new_w = []
    prev = None
    for j, (w, b) in enumerate(weights):
        if prev is not None:
            w = w[prev]
        if j < len(keep_idx):
            w, b = w[:, keep_idx[j]], b[keep_idx[j]]
            prev = keep_idx[j]
        new_w.append((w, b))
    hidden = tuple(int(w.shape[1]) for w, _ in new_w[:-1])
    mean, std = norm.mean, norm.std
    dropout = next(
        (float(ly.rate) for ly in scorer.layers if isinstance(ly, keras.layers.Dropout)), 0.0
    )
    small = build_scorer(new_w[0][0].shape[0], hidden, dropout, mean, std)
    for ly, (w, b) in zip(
        [ly for ly in small.layers if isinstance(ly, keras.layers.Dense)], new_w, strict=True
    ):
        ly.set_weights([w, b])
    return small


def export_onnx(scorer, path: str, n_features: int) -> None:
    """Export the scorer to ONNX (opset 17) with input ``features`` (None, D) float32."""
    configure_tensorflow()
    import tensorflow as tf
    import tf2onnx

    spec = (tf.TensorSpec((None, n_features), tf.float32, name="features"),)

    @tf.function(input_signature=spec)
    def serve(features):
        return {"score": scorer(features, training=False)}

    model_proto, _ = tf2onnx.convert.from_function(serve, input_signature=spec, opset=17)
    with open(path, "wb") as fh:
        fh.write(model_proto.SerializeToString())


def quantize_int8(float_path: str, int8_path: str) -> None:
    """Dynamic int8 quantisation of the MatMul weights (onnxruntime.quantization)."""
    from onnxruntime.quantization import QuantType, quantize_dynamic

    quantize_dynamic(float_path, int8_path, weight_type=QuantType.QInt8)


def onnx_scores(path: str, feats: np.ndarray) -> np.ndarray:
    """Scores (n, C) for features (n, C, D) with an ONNX file (onnxruntime, 1 thread)."""
    import onnxruntime as ort

    so = ort.SessionOptions()
    so.intra_op_num_threads = 1
    so.inter_op_num_threads = 1
    sess = ort.InferenceSession(path, so, providers=["CPUExecutionProvider"])
    n, c, d = feats.shape
    name = sess.get_inputs()[0].name
    out = sess.run(None, {name: feats.reshape(-1, d).astype(np.float32)})[0]
    return np.asarray(out, np.float32).reshape(n, c)
