#!/usr/bin/env python
"""Django's command-line utility for M6-Rec."""

import os
import sys
from pathlib import Path


def main() -> None:
    # platform/ is a source root, not a package: `import platform` must stay the stdlib module.
    sys.path.append(str(Path(__file__).resolve().parent / "platform"))
    os.environ.setdefault("DJANGO_SETTINGS_MODULE", "m6rec.settings.local")
    from django.core.management import execute_from_command_line

    execute_from_command_line(sys.argv)


if __name__ == "__main__":
    main()
