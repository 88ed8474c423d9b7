"""M6-Rec engine: a Django-free recommendation library and CLI.

Stages: data (ids, MS Recommenders split) → EASE / iALS (implicit) → deep fusion reranker
(Keras, listwise) → structured pruning → ONNX (tf2onnx) → int8 (onnxruntime) → bundle.

Public API::

    from engine.data import InteractionData, load_interactions
    from engine.features import FeatureMatrix
    from engine.pipeline import TrainConfig, train_bundle
    from engine.recommender import Recommender
    from engine.bundle import BundleError

Importing ``engine`` (or ``engine.recommender`` / ``engine.bundle``) never imports TensorFlow.
"""

__version__ = "0.1.0"
