"""Collect the books tests only when the plugin is installed (CI must install it: a missing
install under ``M6REC_REQUIRE_SERVICES=1`` is an import error, not a silent skip)."""

import importlib.util
import os

collect_ignore: list[str] = []
if (
    importlib.util.find_spec("m6rec_books") is None
    and os.environ.get("M6REC_REQUIRE_SERVICES") != "1"
):
    collect_ignore.append("test_books.py")
