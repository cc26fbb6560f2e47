"""``python -m toolkit completion bash|zsh``: print a shell completion script for the CLI.

Examples::

    python -m toolkit completion bash > ~/.local/share/bash-completion/completions/stripe-sources
    eval "$(python -m toolkit completion zsh)"      # in ~/.zshrc

It completes the commands, each command's options and choices (``plan metadata``), and file
names elsewhere, for the installed ``stripe-sources`` command (the script is made from the
parser itself, so it never lists an option the CLI does not have).
"""

from __future__ import annotations

import argparse
import re
import shlex

__all__ = ["add_arguments", "completion_script", "run"]

_FUNCTION = "_stripe_sources_complete"


def _words(parser: argparse.ArgumentParser) -> list[str]:
    """The options and choices of one command, read from its usage (argparse has no public
    list of its actions)."""
    usage = parser.format_usage()
    words = dict.fromkeys(re.findall(r"(?<![\w-])(--[a-z][a-z0-9-]*)", usage))
    for group in re.findall(r"\{([^}]+)\}", usage):
        words.update(dict.fromkeys(group.split(",")))
    words.update({"--help": None})
    return list(words)


def completion_script(shell: str, program: str = "stripe-sources") -> str:
    """The completion script for ``shell`` (bash or zsh: zsh runs the bash one through
    ``bashcompinit``).

    >>> "complete -o default -F" in completion_script("bash")
    True
    """
    from toolkit.cli.main import build_parser

    parser = build_parser(program)
    commands: dict[str, argparse.ArgumentParser] = parser.get_default("commands")
    top = " ".join([*commands, "--help", "--version"])
    cases = "\n".join(
        f"        {name}) words={shlex.quote(' '.join(_words(command)))} ;;"
        for name, command in commands.items()
    )
    bash = f"""# {program} completion ({shell}): made by `{program} completion {shell}`
{_FUNCTION}() {{
    local cur="${{COMP_WORDS[COMP_CWORD]}}" command="" words="" i
    for ((i = 1; i < COMP_CWORD; i++)); do
        case "${{COMP_WORDS[i]}}" in -*) ;; *) command="${{COMP_WORDS[i]}}"; break ;; esac
    done
    case "$command" in
        "") words={shlex.quote(top)} ;;
{cases}
    esac
    COMPREPLY=($(compgen -W "$words" -- "$cur"))
}}
complete -o default -F {_FUNCTION} {program}
"""
    if shell == "zsh":
        return "autoload -U +X bashcompinit && bashcompinit\n" + bash
    return bash


def add_arguments(parser: argparse.ArgumentParser) -> None:
    """Add the completion options to ``parser``."""
    parser.add_argument("shell", choices=["bash", "zsh"], help="the shell to complete in")


def run(args: argparse.Namespace) -> int:
    """Print the script; 0."""
    print(completion_script(args.shell), end="")
    return 0
