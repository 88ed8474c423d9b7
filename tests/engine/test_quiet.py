"""A quiet first run (engine.quiet): training prints progress and our messages, not
TensorFlow / absl / CUDA / tf2onnx / onnxruntime noise, unless verbose; and the CLI's help."""

import json
import logging
import os
import re
import subprocess
import sys
import warnings
from pathlib import Path

import pytest

from engine import quiet
from engine.cli import build_parser

ROOT = Path(__file__).resolve().parents[2]

#: What a quiet ``python -m engine train`` may print on stderr: our summary line and the bar.
OURS = (
    re.compile(r"^loaded \d+ interactions: \d+ users x \d+ items$"),
    re.compile(r"^train( \[[\w:.-]+\])?: +\d+%\|.*\| [\d:]+$"),
)
#: Third-party noise seen on a first run before it was silenced (for a clear failure message).
NOISE = re.compile(
    r"cuInit|cudart|absl|InitializeLog|tf2onnx|Using opset|Optimizing ONNX|constant folding|"
    r"pre-processing before quantization|Quantization parameters|oneDNN|tensorflow|"
    r"^[IWE]\d{4} "
)


@pytest.fixture
def restore_logging():
    """quiet_third_party changes process-wide state: put it back after the test."""
    names = ("", *quiet.NOISY_LOGGERS)
    levels = {n: logging.getLogger(n).level for n in names}
    filters = list(logging.getLogger().filters)
    env = {k: os.environ.get(k) for k in quiet.QUIET_ENV}
    state = dict(quiet._state)
    with warnings.catch_warnings():
        yield
    for n, level in levels.items():
        logging.getLogger(n).setLevel(level)
    logging.getLogger().filters[:] = filters
    for k, v in env.items():
        if v is None:
            os.environ.pop(k, None)
        else:
            os.environ[k] = v
    quiet._state.update(state)


def test_quiet_sets_the_environment_and_lowers_loggers(monkeypatch, restore_logging):
    monkeypatch.delenv(quiet.VERBOSE_ENV, raising=False)
    for name in quiet.QUIET_ENV:
        monkeypatch.delenv(name, raising=False)
    assert quiet.quiet_third_party() is True and quiet.is_quiet()
    assert os.environ["TF_CPP_MIN_LOG_LEVEL"] == "3"
    assert logging.getLogger("tf2onnx").level == logging.ERROR
    assert logging.getLogger("absl").getEffectiveLevel() == logging.ERROR
    quiet.quiet_third_party()  # idempotent: one root filter
    names = [f.name for f in logging.getLogger().filters]
    assert names.count("m6rec-quiet-third-party") == 1


def test_root_filter_drops_onnxruntime_hints_but_keeps_ours_and_errors():
    flt = quiet.ThirdPartyRootFilter()

    def record(path, level=logging.WARNING):
        return logging.LogRecord("root", level, path, 1, "msg", None, None)

    ort = "/venv/site-packages/onnxruntime/quantization/quantize.py"
    assert not flt.filter(record(ort))
    assert not flt.filter(record(ort, logging.INFO))
    assert flt.filter(record(ort, logging.ERROR))
    assert flt.filter(record("/work/main/platform/m6rec/training/tasks.py"))


def test_verbose_keeps_everything(monkeypatch, restore_logging):
    monkeypatch.delenv("TF_CPP_MIN_LOG_LEVEL", raising=False)
    monkeypatch.setenv(quiet.VERBOSE_ENV, "1")
    assert quiet.is_verbose() and not quiet.is_verbose(False)
    assert quiet.quiet_third_party() is False and not quiet.is_quiet()
    assert "TF_CPP_MIN_LOG_LEVEL" not in os.environ
    monkeypatch.setenv(quiet.VERBOSE_ENV, "0")
    assert not quiet.is_verbose() and quiet.is_verbose(True)


def test_native_stderr_filter_drops_absl_lines_and_passes_the_rest(capfd):
    lines = (
        "WARNING: All log messages before absl::InitializeLog() is called are written to STDERR\n"
        "I0000 00:00:1795954688.082574   10137 cudart_stub.cc:31] Could not find cuda drivers\n"
        "E0000 00:00:1795954691.674306   10137 cuda_platform.cc:52] failed call to cuInit: x\n"
        "E0000 00:00:1795954691.674306   10137 kernel.cc:7] a real problem\n"
        "something of ours\n"
    )
    with quiet.native_stderr_filtered():
        os.write(2, lines.encode())
    err = capfd.readouterr().err
    assert err == "E0000 00:00:1795954691.674306   10137 kernel.cc:7] a real problem\n" \
        "something of ours\n"  # fmt: skip


def test_engine_help_has_examples_help_on_every_argument_and_no_rst():
    parser = build_parser()
    subs = next(a for a in parser._actions if a.choices and "train" in a.choices).choices
    for name, sub in [("", parser), *subs.items()]:
        text = sub.format_help()
        assert "``" not in text and "examples:\n  python -m engine" in text, name
        for action in sub._actions:
            if action.dest not in ("help", "command"):
                assert (action.help or "").strip(), f"{name} {action.dest}"


def _train(tmp_path, planted_data, *extra, env_extra=None):
    data = planted_data[0]
    csv = tmp_path / "interactions.csv"
    csv.write_text("\n".join(
        ["user_id,item_id,value,timestamp"]
        + [f"{data.user_ids[u]},{data.item_ids[i]},{w},{t}"
           for u, i, w, t in zip(data.users, data.items, data.weights, data.timestamps,
                                 strict=True)]
    ) + "\n")  # fmt: skip
    env = {k: v for k, v in os.environ.items()
           if k not in ("TF_CPP_MIN_LOG_LEVEL", quiet.VERBOSE_ENV, "PYTHONWARNINGS")}  # fmt: skip
    env.update({"OMP_NUM_THREADS": "2", **(env_extra or {})})
    out = tmp_path / "bundle"
    res = subprocess.run(
        [sys.executable, "-c", LOGGING_AT_INFO, *extra, "train", "--interactions", str(csv),
         "--out", str(out), "--time-budget", "60"],
        cwd=ROOT, env=env, capture_output=True, text=True, timeout=400,
    )  # fmt: skip
    assert res.returncode == 0, res.stderr[-3000:]
    return res, out


#: ``python -m engine`` with the root logger at INFO on stderr, as Django's settings and Celery
#: configure it: tf2onnx's and onnxruntime's INFO / WARNING records would show there.
LOGGING_AT_INFO = (
    "import logging, sys; logging.basicConfig(level=logging.INFO, format='%(name)s: "
    "%(message)s'); from engine.cli import main; sys.exit(main(sys.argv[1:]))"
)


def test_training_in_a_fresh_process_prints_no_third_party_noise(tmp_path, planted_data):
    res, out = _train(tmp_path, planted_data)
    manifest = json.loads((out / "manifest.json").read_text())
    onnx = [f for f in manifest.get("files", {}) if str(f).endswith(".onnx")] or list(
        out.glob("*.onnx")
    )
    assert onnx, "the fusion model was not exported: the test would not exercise TF/tf2onnx"
    lines = [ln.strip() for ln in re.split(r"[\r\n]+", res.stderr) if ln.strip()]
    strange = [ln for ln in lines if not any(p.match(ln) for p in OURS)]
    assert not strange, "unexpected stderr lines:\n" + "\n".join(dict.fromkeys(strange))
    assert not [ln for ln in lines if NOISE.search(ln)]
    json.loads(res.stdout.strip().splitlines()[-1])  # stdout: the JSON summary only


def test_verbose_training_keeps_the_third_party_output(tmp_path, planted_data):
    res, _ = _train(tmp_path, planted_data, "--verbose")
    assert "tf2onnx" in res.stderr and "Quantization parameters" in res.stderr
