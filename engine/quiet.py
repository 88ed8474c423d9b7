"""A quiet first run: third-party start-up and conversion noise off, unless asked for.

TensorFlow (C++ and Python logs, oneDNN notices), absl, CUDA probing (``E0000 … failed call to
cuInit`` on a machine without a GPU reads like a failure), the tf2onnx optimiser and
onnxruntime's quantization hints all write to stderr between our progress bars. Every entry
point that may train (``manage.py demo``, ``manage.py train_tenant``, Celery workers,
``python -m engine train``) calls :func:`quiet_third_party` before TensorFlow is imported.

Verbose mode keeps everything: ``M6REC_VERBOSE=1`` in the environment, or the entry point's own
switch (``manage.py … -v 2``, ``python -m engine --verbose``). Errors are never hidden: Python
loggers are lowered to ERROR, not switched off, and our own loggers are left alone.

Django-free, and cheap to import: it imports no third-party package.
"""

from __future__ import annotations

import contextlib
import logging
import os
import re
import sys
import tempfile
import warnings
from collections.abc import Iterator

__all__ = [
    "NOISY_LOGGERS",
    "VERBOSE_ENV",
    "ThirdPartyRootFilter",
    "is_quiet",
    "is_verbose",
    "native_stderr_filtered",
    "quiet_third_party",
    "tensorflow_import_guard",
]

#: Set to 1 / true / yes to keep all third-party output.
VERBOSE_ENV = "M6REC_VERBOSE"

#: Environment set (unless already set) before TensorFlow loads its C++ runtime.
#: TF_CPP_MIN_LOG_LEVEL=3 drops TensorFlow's and XLA's INFO, WARNING and ERROR start-up lines
#: (the CUDA probe logs at ERROR); genuine failures still raise Python exceptions.
QUIET_ENV = {
    "TF_CPP_MIN_LOG_LEVEL": "3",
    "TF_ENABLE_ONEDNN_OPTS": "0",
    "GRPC_VERBOSITY": "ERROR",
    "AUTOGRAPH_VERBOSITY": "0",
}

#: Python loggers lowered to ERROR.
NOISY_LOGGERS = (
    "tensorflow",
    "absl",
    "keras",
    "tf2onnx",
    "onnx",
    "onnxruntime",
    "h5py",
    "numexpr",
)

#: Packages whose Python warnings (deprecations, "compiled the loaded model …") are ignored.
NOISY_WARNING_MODULES = r"(tensorflow|keras|tf2onnx|onnx|onnxruntime|absl|google\.protobuf)(\.|$)"

#: Native (C++) stderr lines dropped while TensorFlow loads: absl's pre-initialisation notice,
#: INFO / WARNING lines in absl's format (``I0000 00:00:… file.cc:31] …``), and CUDA probing
#: errors on machines without a GPU. Anything else written meanwhile is passed on.
NATIVE_NOISE = re.compile(
    r"^(WARNING: All log messages before absl::InitializeLog\(\) is called"
    r"|[IW]\d{4} \d\d:\d\d:\d+\.\d+\s+\d+ \S+:\d+\]"
    r"|E\d{4} \d\d:\d\d:\d+\.\d+\s+\d+ \S+:\d+\] .*"
    r"(cuInit|CUDA|cuda|cuDNN|cuFFT|cuBLAS|TensorRT|GPU))"
)

_TRUE = {"1", "true", "yes", "on"}
_FILTER_NAME = "m6rec-quiet-third-party"
_state = {"quiet": False}


def is_verbose(flag: bool | None = None) -> bool:
    """``flag`` when given (a command-line switch), else ``M6REC_VERBOSE`` from the environment."""
    if flag is not None:
        return bool(flag)
    return os.environ.get(VERBOSE_ENV, "").strip().lower() in _TRUE


class ThirdPartyRootFilter(logging.Filter):
    """Drops records below ERROR that third-party code logs on the *root* logger.

    onnxruntime's quantization calls ``logging.warning(...)`` and ``logging.info(...)`` directly
    (no named logger to lower), so this filter sits on the root logger and looks at the file
    the record came from. Records of named loggers never pass through a logger's own filters
    when they propagate, so our loggers are untouched.
    """

    PATH_MARKERS = ("onnxruntime", "tf2onnx", "tensorflow", "keras", "absl")

    def __init__(self) -> None:
        super().__init__(_FILTER_NAME)

    def filter(self, record: logging.LogRecord) -> bool:
        if record.levelno >= logging.ERROR:
            return True
        path = (record.pathname or "").replace("\\", "/")
        return not any(f"/{marker}/" in path for marker in self.PATH_MARKERS)


def quiet_third_party(*, verbose: bool | None = None) -> bool:
    """Silence third-party noise for this process and its children; returns whether it did.

    Call before TensorFlow is imported (the C++ log level is read when its library loads).
    Idempotent. With verbose mode on (see :func:`is_verbose`) nothing changes.
    """
    if is_verbose(verbose):
        _state["quiet"] = False
        return False
    _state["quiet"] = True
    for name, value in QUIET_ENV.items():
        os.environ.setdefault(name, value)
    for name in NOISY_LOGGERS:
        logger = logging.getLogger(name)
        if logger.level == logging.NOTSET or logger.level < logging.ERROR:
            logger.setLevel(logging.ERROR)
    root = logging.getLogger()
    if not any(getattr(f, "name", None) == _FILTER_NAME for f in root.filters):
        root.addFilter(ThirdPartyRootFilter())
    warnings.filterwarnings("ignore", module=NOISY_WARNING_MODULES)
    _quiet_loaded_libraries()
    return True


def is_quiet() -> bool:
    """Whether :func:`quiet_third_party` silenced this process."""
    return _state["quiet"]


@contextlib.contextmanager
def native_stderr_filtered() -> Iterator[None]:
    """Capture file descriptor 2 for the block, then pass on what is not :data:`NATIVE_NOISE`.

    TensorFlow's native libraries log through absl before absl is initialised; such lines
    ignore ``TF_CPP_MIN_LOG_LEVEL`` and go straight to the process's stderr, so only the file
    descriptor can catch them. Python exceptions propagate as usual.
    """
    try:
        sys.stderr.flush()
        saved = os.dup(2)
    except (AttributeError, OSError, ValueError):  # no real fd 2 (embedded interpreters)
        yield
        return
    with tempfile.TemporaryFile() as capture:
        os.dup2(capture.fileno(), 2)
        try:
            yield
        finally:
            with contextlib.suppress(Exception):
                sys.stderr.flush()
            os.dup2(saved, 2)
            os.close(saved)
            capture.seek(0)
            kept = [
                line
                for line in capture.read().decode("utf-8", "replace").splitlines(keepends=True)
                if not NATIVE_NOISE.match(line)
            ]
            if kept:
                sys.stderr.write("".join(kept))
                sys.stderr.flush()


def tensorflow_import_guard():
    """The context to import TensorFlow in: :func:`native_stderr_filtered` in a quiet process
    that has not imported TensorFlow yet, else a no-op."""
    if _state["quiet"] and "tensorflow" not in sys.modules:
        return native_stderr_filtered()
    return contextlib.nullcontext()


def _quiet_loaded_libraries() -> None:
    """Lower the native loggers of libraries that are already imported (never imports one)."""
    ort = sys.modules.get("onnxruntime")
    if ort is not None and hasattr(ort, "set_default_logger_severity"):
        ort.set_default_logger_severity(3)  # 3 = ERROR
    absl_logging = sys.modules.get("absl.logging")
    if absl_logging is not None:
        # absl's flags may be unparsed here; its Python logger's level is set above anyway
        with contextlib.suppress(Exception):
            absl_logging.set_verbosity(absl_logging.ERROR)
    tf = sys.modules.get("tensorflow")
    get_logger = getattr(tf, "get_logger", None)
    if callable(get_logger):
        get_logger().setLevel(logging.ERROR)
