"""``--help`` text that keeps examples as written: wrapped prose, verbatim indented lines.

argparse either wraps everything (examples become one run-on line) or nothing
(``RawDescriptionHelpFormatter``: long prose lines never wrap). :class:`ExamplesHelpFormatter`
does both: in a description or epilog, a paragraph (blocks separated by a blank line) whose
lines are indented is printed verbatim, any other paragraph is re-wrapped to the terminal.
Used by ``python -m engine`` and every ``manage.py`` command of the project.
"""

from __future__ import annotations

import argparse
import textwrap

__all__ = ["ExamplesHelpFormatter", "examples"]


class ExamplesHelpFormatter(argparse.HelpFormatter):
    """Wraps prose paragraphs; keeps indented paragraphs (examples) verbatim."""

    def _fill_text(self, text: str, width: int, indent: str) -> str:
        blocks = textwrap.dedent(text).strip("\n").split("\n\n")
        out = []
        for block in blocks:
            lines = block.splitlines()
            if any(line[:1].isspace() for line in lines):
                out.append("\n".join(indent + line for line in lines))
            else:
                prose = " ".join(line.strip() for line in lines)
                out.append(
                    textwrap.fill(prose, width, initial_indent=indent, subsequent_indent=indent)
                )
        return "\n\n".join(out)


def examples(*lines: str, title: str = "examples:") -> str:
    """An epilog: ``title`` then each line indented (kept verbatim by the formatter)."""
    return title + "\n" + "\n".join(f"  {line}" for line in lines)
