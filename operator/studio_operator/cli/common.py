"""What every command group shares: option sets, durations, printing, and --wait."""

from __future__ import annotations

import argparse
import os
import re
import sys
import time
from collections.abc import Callable
from typing import Any

from .. import durations
from ..api.common import OPERATOR_NAMESPACE
from ..client import Client, Operation
from . import output

Handler = Callable[[argparse.Namespace, Client], int]


def parse_duration(text: str) -> float:
    """Seconds from `90`, or a duration as Go, kubectl and the API write it: `90s`, `5m`, `1h30m`."""
    text = text.strip()
    if re.fullmatch(r"\d+(\.\d+)?", text):
        return float(text)
    try:
        return durations.seconds(text)
    except ValueError as exc:
        raise argparse.ArgumentTypeError(str(exc)) from None


def connection_options(suppress: bool) -> argparse.ArgumentParser:
    """Options accepted before and after the subcommand, as kubectl's global flags are.

    On subcommands their default is SUPPRESS, so a value given before the subcommand is not
    overwritten by the subcommand's default.
    """
    default = (lambda value: argparse.SUPPRESS) if suppress else (lambda value: value)
    p = argparse.ArgumentParser(add_help=False)
    g = p.add_argument_group("connection and output")
    g.add_argument("--kubeconfig", default=default(None), help="kubeconfig file (default: $KUBECONFIG, ~/.kube/config)")
    g.add_argument("--context", default=default(None), help="kubeconfig context")
    g.add_argument("-n", "--namespace", default=default(None), help="namespace (default: the context's, else default)")
    g.add_argument("-o", "--output", choices=output.FORMATS, default=default("table"), help="output format")
    g.add_argument("--operator-namespace", metavar="NS",
                   default=default(os.environ.get("STUDIO_OPERATOR_NAMESPACE") or OPERATOR_NAMESPACE),
                   help="namespace of the operator's Deployment and build jobs "
                        f"(default: $STUDIO_OPERATOR_NAMESPACE, else {OPERATOR_NAMESPACE})")
    return p


def wait_options() -> argparse.ArgumentParser:
    p = argparse.ArgumentParser(add_help=False)
    g = p.add_argument_group("waiting")
    g.add_argument("--wait", action="store_true", help="return once the operator has carried out the change")
    g.add_argument("--timeout", type=parse_duration, default=300.0, metavar="DURATION",
                   help="give up waiting after this long, e.g. 90s or 5m (default 5m); exit code 1")
    return p


def say(text: str) -> None:
    print(text, flush=True)


def emit(args: argparse.Namespace, data: Any, render: Callable[[], str]) -> None:
    """data as JSON/YAML for -o json|yaml, else the human rendering."""
    say(output.dump(data, args.output) if args.output != "table" else render())


def wait(args: argparse.Namespace, operation: Operation) -> Any:
    """With --wait: blocks until done, showing each change of progress on stderr with the time
    taken, so stdout stays clean for -o json. Without: returns None at once."""
    if not args.wait:
        return None
    started = time.monotonic()

    def show(text: str) -> None:
        print(f"  {time.monotonic() - started:5.1f}s  {text}", file=sys.stderr, flush=True)

    print(f"waiting for {operation.what} (timeout {args.timeout:g}s)", file=sys.stderr, flush=True)
    return operation.wait_for_result(timeout=args.timeout, on_progress=show)


def request(args: argparse.Namespace, label: str, requested: str, operation: Operation, handle: Any,
            outcome: Callable[[Any], str]) -> int:
    """Reports a spec change; with --wait waits for it and reports the outcome. For -o json|yaml
    prints the object as it is afterwards instead."""
    if args.output == "table":
        say(f"{label} {requested}")
    result = wait(args, operation)
    if args.output != "table":
        emit(args, output.clean(handle.raw), str)
    elif result is not None:
        say(f"{label} {outcome(result)}")
    return 0


def command_group(groups: argparse._SubParsersAction, common: argparse.ArgumentParser, name: str, alias: str,
                  help: str) -> Callable[..., argparse.ArgumentParser]:
    """Adds `studioctl NAME` and returns add(command, handler, help, waits=False) for its commands."""
    group = groups.add_parser(name, aliases=[alias], help=help, parents=[common])
    sub = group.add_subparsers(dest="command", required=True, metavar="COMMAND")
    waiting = wait_options()

    def add(command: str, handler: Handler, help: str, *, waits: bool = False) -> argparse.ArgumentParser:
        p = sub.add_parser(command, help=help, description=help, parents=[common, *([waiting] if waits else [])])
        p.set_defaults(handler=handler)
        return p

    return add
