"""``--help`` for every command, written from the command's own config file.

The config is the one place where an option is documented: its header comment is the
command's summary and usage, each top-level ``key: default  # comment`` line is one option,
and its ``defaults`` list names the config groups the command uses (all commands share one
config root, so only these are listed, not every group of ``conf/``). Hydra's help template
(``hydra.help.template: ${stylenet_help:<command>}`` in each command's config) prints this
text instead of the bare config and every group of the config tree.
"""

from __future__ import annotations

import re
from pathlib import Path

from stylenet.errors import ConfigError
from stylenet.resources import config_dir

# the commands whose config file, conf/<command>.yaml, writes their --help
COMMANDS = (
    "dream",
    "export",
    "fool",
    "gatys",
    "inspect",
    "invert",
    "saliency",
    "serve",
    "stylize",
    "train",
    "visualize",
    "webcam",
)
_OPTION = re.compile(
    r"^(?P<key>[A-Za-z_][\w]*):[ \t]*(?P<value>[^#]*?)[ \t]*(?:#[ \t]*(?P<doc>.*))?$"
)
_GROUP = re.compile(
    r"^[ \t]+-[ \t]+(?:override[ \t]+)?(?P<group>[\w/]+):[ \t]*(?P<choice>[^#\s]*)[ \t]*(?:#[ \t]*(?P<doc>.*))?$"
)
_SKIP = {"defaults", "hydra"}


def config_file(command: str) -> Path:
    """The config file of ``command`` (``gatys`` → ``conf/gatys.yaml``)."""
    if command not in COMMANDS:
        raise ConfigError(f"no help for unknown command {command!r}")
    return Path(config_dir()) / f"{command}.yaml"


def command_help(command: str) -> str:
    """The ``--help`` text of ``stylenet-<command>``: summary, usage, groups, one line per option."""
    path = config_file(command)
    lines = path.read_text(encoding="utf-8").splitlines()
    header, body = _split_header(lines)
    usage = [line.strip() for line in header if line.startswith("  ")]  # indented: examples
    summary = [line.strip() for line in header if not line.startswith("  ")]
    out = [
        f"stylenet-{command}: "
        + " ".join(summary).strip().removeprefix(f"stylenet-{command}:").strip()
    ]
    if usage:
        out += ["", "Usage:", *(f"  {line}" for line in usage)]
    groups = _groups(body, path.parent)
    if groups:
        out += ["", "Config groups (group=option):"]
        out += [f"  {name:<22} {doc}" for name, doc in groups]
    options = _options(body)
    out += ["", "Options (key=value; default after =):"]
    out += [f"  {key + '=' + value:<22} {doc}" for key, value, doc in options]
    out += ["", "Any key can be overridden as key=value; --cfg job prints the full config."]
    return "\n".join(out)


def _split_header(lines: list[str]) -> tuple[list[str], list[str]]:
    """The leading comment block (without ``# ``) and the rest of the file."""
    header: list[str] = []
    for index, line in enumerate(lines):
        if not line.startswith("#"):
            return header, lines[index:]
        header.append(line[2:] if line.startswith("# ") else line[1:])
    return header, []


def _groups(body: list[str], root: Path) -> list[tuple[str, str]]:
    """``(group, "default (choices) - comment")`` for each group in the defaults list."""
    groups = []
    in_defaults = False
    for line in body:
        if line.startswith("defaults:"):
            in_defaults = True
            continue
        if in_defaults and line and not line[0].isspace():
            break
        match = _GROUP.match(line) if in_defaults else None
        if match is None or match["group"] == "_self_" or match["group"].startswith("hydra/"):
            continue
        name = match["group"]
        choices = sorted(p.stem for p in (root / name).glob("*.yaml"))
        text = f"default {match['choice'] or 'none'}"
        if choices:
            text += f"; one of {', '.join(choices)}"
        if match["doc"]:
            text += f" - {match['doc']}"
        groups.append((name, text))
    return groups


def _options(body: list[str]) -> list[tuple[str, str, str]]:
    """``(key, default, comment)`` for each option of the config (``block.key`` for the keys of
    a nested block); an option without a comment of its own gets the comment line above it."""
    options: list[tuple[str, str, str]] = []
    section, block = "", ""
    for line in body:
        continued = re.match(r"^\s{2,}#\s*(.*)$", line)
        if continued and options:  # a comment carried on below its option
            key, value, doc = options[-1]
            options[-1] = (key, value, f"{doc} {continued[1]}".strip())
            continue
        if line.startswith("#"):
            section = line.lstrip("#").strip()
        elif not line.strip():
            section = ""
        nested = line.startswith("  ") and not line.lstrip().startswith(("#", "-"))
        match = _OPTION.match(line.strip() if nested and block else line)
        if match is not None and not nested and match["key"] in _SKIP:
            block = ""  # nor its keys
            continue
        if match is None or (nested and not block):
            continue
        if not nested:
            block = "" if match["value"] else match["key"]
            if block:
                continue  # its keys follow
        key = f"{block}.{match['key']}" if nested else match["key"]
        options.append((key, match["value"], match["doc"] or section))
        if match["doc"]:
            section = ""
    return options


def help_template(command: str) -> str:
    """:func:`command_help` for Hydra's help template (``$`` escaped for ``string.Template``)."""
    return command_help(command).replace("$", "$$")
