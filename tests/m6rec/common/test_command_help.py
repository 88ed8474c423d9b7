"""Every ``manage.py`` command of the project explains itself: help on every argument, an
epilog of examples kept as written, and no reStructuredText markup."""

import argparse

import pytest
from django.core.management import get_commands, load_command_class

from m6rec.common.commands import ProjectCommand

PROJECT_COMMANDS = sorted(name for name, app in get_commands().items() if app.startswith("m6rec"))
REQUIRED = {"create_tenant", "import_interactions", "train_tenant", "demo", "api_keys",
            "versions", "list_tenants"}  # fmt: skip


def _parsers(parser: argparse.ArgumentParser, path: str):
    yield path, parser
    for action in parser._actions:
        if isinstance(action, argparse._SubParsersAction):
            for name, sub in action.choices.items():
                yield from _parsers(sub, f"{path} {name}")


def _command(name: str):
    return load_command_class(get_commands()[name], name)


def test_the_project_commands_are_all_found():
    assert set(PROJECT_COMMANDS) >= REQUIRED


@pytest.mark.parametrize("name", PROJECT_COMMANDS)
def test_every_argument_has_help_and_the_command_has_examples(name):
    command = _command(name)
    assert isinstance(command, ProjectCommand), f"{name}: subclass ProjectCommand"
    parser = command.create_parser("manage.py", name)
    for path, sub in _parsers(parser, name):
        missing = [
            a.dest
            for a in sub._actions
            if not isinstance(a, argparse._HelpAction | argparse._SubParsersAction)
            and not (a.help or "").strip()
        ]
        assert not missing, f"{path}: arguments without help: {missing}"
        text = sub.format_help()
        assert "examples:\n  " in text, path
        assert "``" not in text and ":func:" not in text, path
    assert parser.epilog and "python manage.py" in parser.epilog


def test_examples_stay_verbatim_and_prose_wraps():
    text = _command("import_interactions").create_parser("manage.py", "x").format_help()
    assert "  python manage.py import_interactions events.csv --tenant shop --unknown-refs " \
        "reject \\\n      --chunk-size 5000 --no-progress" in text  # fmt: skip
    description = text.split("\n\n")[1]
    assert all(len(line) <= 100 for line in description.splitlines())
