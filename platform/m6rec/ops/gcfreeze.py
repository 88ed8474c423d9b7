"""Keep a web worker's long-lived objects out of the cyclic garbage collector's full passes.

A full collection walks every tracked object. A worker that has imported Django, DRF, numpy
and onnxruntime and loaded a model holds about 130,000 of them; on the 2-core benchmark machine
one full pass took 50-170 ms under load, and every request queued on that worker waited for it
(they were the p99 at 200 requests/s). :func:`gc.freeze` moves the objects alive now into a
permanent generation that collections skip; garbage made by later requests is collected as
before. Called once the worker has loaded the application and after each model load; objects
of requests in flight on other threads at that moment are frozen too (with one thread per
process, the default, there are none).
"""

from __future__ import annotations

import gc


def freeze_long_lived() -> None:
    """Collect what is garbage now, then exempt every surviving object from future passes."""
    gc.collect()
    gc.freeze()
