"""Shared pieces of the project's ``manage.py`` commands.

- :class:`ProjectCommand`: a ``BaseCommand`` whose ``--help`` ends with an ``epilog`` of
  examples, kept as written (:class:`engine.helpfmt.ExamplesHelpFormatter`).
- :func:`tenant_by_slug`: the tenant, or a :class:`CommandError` that names the slug, the
  tenants there are and the command that lists them.
- :func:`cli_actor`: the audit-log actor of a command (``cli:<os user>``).
- :func:`quiet_for`: third-party log noise off for a command that may train, unless verbose.
"""

from __future__ import annotations

import argparse
import getpass
import os

from django.core.management.base import BaseCommand, CommandError, DjangoHelpFormatter

from engine.helpfmt import ExamplesHelpFormatter, examples

__all__ = [
    "HelpFormatter",
    "ProjectCommand",
    "cli_actor",
    "examples",
    "quiet_for",
    "table",
    "tenant_by_slug",
    "when",
]

LIST_TENANTS = "manage.py list_tenants"
CREATE_TENANT = "manage.py create_tenant SLUG --name NAME --domain DOMAIN"


class HelpFormatter(DjangoHelpFormatter, ExamplesHelpFormatter):
    """Django's ordering (command options first) with verbatim example paragraphs."""


class ProjectCommand(BaseCommand):
    """Base of the project's commands: ``help`` (prose) plus ``epilog`` (examples)."""

    epilog: str = ""

    def create_parser(self, prog_name, subcommand, **kwargs):
        kwargs.setdefault("formatter_class", HelpFormatter)
        if self.epilog:
            kwargs.setdefault("epilog", self.epilog)
        return super().create_parser(prog_name, subcommand, **kwargs)

    def add_subcommands(self, parser: argparse.ArgumentParser, *, dest: str = "action"):
        """A required sub-command group whose parsers format help like this command's."""
        sub = parser.add_subparsers(dest=dest, required=True, metavar=dest.upper())
        original = sub.add_parser

        def add_parser(name, **kwargs):
            kwargs.setdefault("formatter_class", HelpFormatter)
            return original(name, **kwargs)

        sub.add_parser = add_parser
        return sub


def tenant_by_slug(slug: str):
    """The tenant with ``slug``; else a :class:`CommandError` saying what to do next."""
    from m6rec.tenants.models import Tenant

    tenant = Tenant.objects.filter(slug=slug).first()
    if tenant is not None:
        return tenant
    known = list(Tenant.objects.order_by("slug").values_list("slug", flat=True)[:11])
    if not known:
        raise CommandError(
            f'No tenant "{slug}": there are no tenants yet. Create one with: {CREATE_TENANT}'
        )
    listed = ", ".join(known[:10]) + (", …" if len(known) > 10 else "")
    raise CommandError(
        f'No tenant "{slug}". Tenants here: {listed}. List them with: {LIST_TENANTS}'
    )


def cli_actor() -> str:
    """``cli:<os user>``: who ran the command, as the audit log records it."""
    try:
        user = getpass.getuser()
    except (KeyError, OSError):  # no passwd entry and no LOGNAME/USER (some containers)
        user = f"uid{os.getuid()}" if hasattr(os, "getuid") else "unknown"
    return f"cli:{user}"


def quiet_for(verbosity: int) -> bool:
    """Silence TensorFlow / absl / CUDA / tf2onnx / onnxruntime noise unless ``-v 2`` or
    ``M6REC_VERBOSE=1``; returns whether it did. Call before anything imports TensorFlow."""
    from engine.quiet import is_verbose, quiet_third_party

    return quiet_third_party(verbose=True if verbosity >= 2 else is_verbose())


def table(header: list[str], rows: list[list]) -> str:
    """A plain-text table: columns padded to their widest cell, two spaces apart."""
    cells = [header, *[["" if c is None else str(c) for c in row] for row in rows]]
    widths = [max(len(r[i]) for r in cells) for i in range(len(header))]
    return "\n".join(
        "  ".join(c.ljust(w) for c, w in zip(r, widths, strict=True)).rstrip() for r in cells
    )


def when(value) -> str:
    """A timestamp as ``YYYY-MM-DD HH:MM`` UTC, or ``-``."""
    return value.strftime("%Y-%m-%d %H:%M") if value else "-"
