"""In a notebook the toolkit's own errors show as their message, without a traceback."""

from __future__ import annotations

import pytest
from IPython.core.interactiveshell import InteractiveShell

import toolkit
from toolkit.display import notebook_errors


@pytest.fixture
def shell():
    shell = InteractiveShell.instance()
    yield shell
    shell.set_custom_exc((), None)
    InteractiveShell.clear_instance()


def test_toolkit_errors_show_their_message_only(shell, capsys):
    assert notebook_errors(shell)
    result = shell.run_cell(
        "import toolkit\n"
        "def deep():\n    raise toolkit.InvalidInputError('No sources selected: select rows.')\n"
        "deep()"
    )
    assert isinstance(result.error_in_exec, toolkit.InvalidInputError)  # the cell still fails
    out = capsys.readouterr()
    text = out.out + out.err
    assert "No sources selected: select rows." in text and "InvalidInputError" in text
    assert "Traceback" not in text and "deep()" not in text


def test_other_errors_keep_their_traceback(shell, capsys):
    notebook_errors(shell)
    result = shell.run_cell("def deep():\n    raise KeyError('x')\ndeep()")
    assert isinstance(result.error_in_exec, KeyError)
    out = capsys.readouterr()
    assert "deep" in out.out + out.err and "Traceback" in out.out + out.err


def test_secrets_stay_masked(shell, capsys):
    notebook_errors(shell)
    shell.run_cell("import toolkit\nraise toolkit.ToolkitError('key sk_live_abcdefghijklmnop1234')")
    out = capsys.readouterr()
    assert "sk_live_abcdefghijklmnop1234" not in out.out + out.err


def test_outside_ipython_it_does_nothing():
    assert notebook_errors() is False
