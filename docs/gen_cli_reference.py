"""Write docs/cli.md from the command line itself, so the reference cannot drift.

Walks the click command tree that typer builds for ``latentcheck.checkers.cli:app``
(``typer.main.get_command``) and renders every command's usage, help text,
arguments and options, exactly as ``--help`` knows them.

Usage:
    python docs/gen_cli_reference.py           # rewrite docs/cli.md
    python docs/gen_cli_reference.py --check   # exit 1 when docs/cli.md is stale
"""

from __future__ import annotations

import argparse
import difflib
import inspect
import sys
from pathlib import Path
from typing import Any

ROOT = Path(__file__).resolve().parents[1]
TARGET = ROOT / "docs" / "cli.md"
PROG = "latentcheck"


def _cell(text: Any) -> str:
    return " ".join(str(text).split()).replace("|", "\\|")


def _help_text(cmd: Any) -> str:
    return inspect.cleandoc(cmd.help or "") if getattr(cmd, "help", None) else ""


def _param_rows(cmd: Any, ctx: Any) -> list[tuple[str, str, str]]:
    rows = []
    for param in cmd.params:
        if getattr(param, "hidden", False):
            continue
        record = None
        try:
            record = param.get_help_record(ctx)
        except Exception:
            record = None
        is_argument = getattr(param, "param_type_name", "") == "argument"
        if record is None:
            name = (param.name or "").upper() if is_argument else ", ".join(getattr(param, "opts", []))
            record = (name, getattr(param, "help", "") or "")
        decl, help_text = record
        if is_argument:
            help_text = help_text or (getattr(param, "help", "") or "")
            if getattr(param, "required", False) and "[required]" not in help_text:
                help_text = f"{help_text}  [required]".strip()
        rows.append(("argument" if is_argument else "option", decl, help_text))
    return rows


def _render_command(cmd: Any, ctx: Any, path: list[str], out: list[str]) -> None:
    import typer._click as click

    title = " ".join(path)
    out.append(f"{'#' * min(len(path) + 1, 4)} `{title}`")
    out.append("")
    usage = " ".join([title, *cmd.collect_usage_pieces(ctx)])
    out.append(f"```text\nUsage: {usage}\n```")
    out.append("")
    text = _help_text(cmd)
    if text:
        out.append(text)
        out.append("")
    rows = _param_rows(cmd, ctx)
    if rows:
        out.append("| kind | name | description |")
        out.append("|---|---|---|")
        for kind, decl, help_text in rows:
            out.append(f"| {kind} | `{_cell(decl)}` | {_cell(help_text)} |")
        out.append("")
    subcommands = getattr(cmd, "commands", None)
    if subcommands:
        if len(path) == 1:
            out.append("| command | summary |")
            out.append("|---|---|")
            for name, sub in subcommands.items():
                if getattr(sub, "hidden", False):
                    continue
                out.append(f"| [`{name}`](#{PROG}-{name}) | {_cell(sub.get_short_help_str(limit=300))} |")
            out.append("")
        for name, sub in subcommands.items():
            if getattr(sub, "hidden", False):
                continue
            sub_ctx = click.Context(sub, info_name=name, parent=ctx)
            _render_command(sub, sub_ctx, [*path, name], out)


def render() -> str:
    """The Markdown reference of the live command line."""
    import typer._click as click
    import typer.main

    from latentcheck.checkers.cli import app as cli

    root = typer.main.get_command(cli.app)
    ctx = click.Context(root, info_name=PROG)
    out = [
        "# Command-line reference",
        "",
        "Generated from the command line itself by `python docs/gen_cli_reference.py`; do not edit by hand.",
        "A test fails when this page and `latentcheck --help` disagree.",
        "",
    ]
    module_doc = inspect.cleandoc(cli.__doc__ or "")
    if module_doc:
        out += [module_doc, ""]
    _render_command(root, ctx, [PROG], out)
    return "\n".join(out).rstrip() + "\n"


def main(argv: list[str] | None = None) -> int:
    parser = argparse.ArgumentParser(description="Regenerate docs/cli.md from the latentcheck command line.")
    parser.add_argument("--check", action="store_true", help="exit 1 when docs/cli.md is stale instead of rewriting it")
    parser.add_argument("--output", type=Path, default=TARGET, help="where to write (default: docs/cli.md)")
    args = parser.parse_args(argv)
    text = render()
    if args.check:
        current = args.output.read_text() if args.output.exists() else ""
        if current == text:
            print(f"{args.output} is up to date")
            return 0
        diff = difflib.unified_diff(current.splitlines(), text.splitlines(), str(args.output), "live CLI", lineterm="", n=1)
        print("\n".join(list(diff)[:60]))
        print(f"{args.output} is stale: run `python docs/gen_cli_reference.py` and commit the result", file=sys.stderr)
        return 1
    args.output.write_text(text)
    print(f"wrote {args.output}")
    return 0


if __name__ == "__main__":
    sys.exit(main())
