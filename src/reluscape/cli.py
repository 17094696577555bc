"""The `reluscape` command line.

``reluscape run`` trains a ShallowReLU on a named data set (moons by default)
or on a CSV file and writes a report folder with every analysis. Settings come
from the defaults, then a TOML file given with ``--config``, then the options;
later sources win.
"""

from __future__ import annotations

import argparse
import logging
import sys
from collections.abc import Sequence

from reluscape import __version__

__all__ = ["main"]

logger = logging.getLogger("reluscape")


def _build_parser() -> argparse.ArgumentParser:
    from reluscape.data.synthetic_generator import DATASET_NAMES
    from reluscape.experiments.shallow_trainer import OPTIMIZERS
    from reluscape.losses import TASKS
    from reluscape.models.shallow_relu import INIT_SCHEMES

    parser = argparse.ArgumentParser(
        prog="reluscape",
        description="Loss-landscape analysis of shallow (one-hidden-layer) ReLU networks.",
    )
    parser.add_argument("--version", action="version", version=f"reluscape {__version__}")
    commands = parser.add_subparsers(dest="command", metavar="COMMAND")
    run = commands.add_parser(
        "run",
        help="train a network and write the analysis report",
        description="Train a ShallowReLU and write a report folder (index.html, PNG figures, JSON/CSV data).",
    )
    # Every option defaults to None so that only options given on the command line override the config file.
    data = run.add_argument_group("data")
    data.add_argument("--dataset", choices=DATASET_NAMES, help="named data set (default: moons)")
    data.add_argument("--csv", metavar="PATH", help="your own CSV file with a header row; needs --target")
    data.add_argument("--target", metavar="COLUMN", help="target column of the CSV file")
    data.add_argument("--task", choices=TASKS, help="task of the CSV data (default: inferred from the target)")
    data.add_argument("--n-samples", type=int, metavar="N",
                      help="samples drawn by the synthetic generators (default: 1000, or 400 with --quick)")
    data.add_argument("--noise", type=float, help="noise of moons and circles (default: 0.1)")
    data.add_argument("--test-size", type=float, help="fraction of samples held out for testing (default: 0.25)")
    model = run.add_argument_group("model and training")
    model.add_argument("--width", type=int, help="hidden neurons (default: 32)")
    model.add_argument("--init", choices=INIT_SCHEMES, help="initialisation scheme (default: kaiming)")
    model.add_argument("--optimizer", choices=OPTIMIZERS, help="optimizer (default: adam)")
    model.add_argument("--lr", type=float, help="learning rate (default: a per-optimizer value, 0.01 for adam)")
    model.add_argument("--momentum", type=float, help="momentum of the momentum and nesterov optimizers (default: 0.9)")
    model.add_argument("--weight-decay", type=float, help="weight decay (default: 0)")
    model.add_argument("--epochs", type=int, help="training epochs (default: 300, or 100 with --quick)")
    model.add_argument("--batch-size", type=int, metavar="N", help="mini-batch size (default: full batch)")
    model.add_argument("--seed", type=int, help="seed of the data, the initialisation and the analyses (default: 0)")
    output = run.add_argument_group("output")
    output.add_argument("--output", "-o", metavar="DIR", help="report folder (default: reluscape-report)")
    output.add_argument("--config", metavar="FILE", help="TOML file whose keys are these options' names")
    output.add_argument("--quick", action="store_const", const=True, help="small, fast run (smaller data, fewer epochs)")
    output.add_argument("--progress", action="store_const", const=True, help="show progress bars")
    output.add_argument("--verbose", "-v", action="store_true", help="log debug messages")
    output.add_argument("--quiet", "-q", action="store_true", help="log warnings and errors only")
    return parser


def _config_from_args(args: argparse.Namespace):
    from reluscape.report.config import RunConfig, load_config_file

    values = load_config_file(args.config) if args.config else {}
    values = {str(key).replace("-", "_"): value for key, value in values.items()}
    for name in RunConfig.option_names():
        option_value = getattr(args, name, None)
        if option_value is not None:
            values[name] = option_value
    return RunConfig.from_mapping(values, source=args.config or "options")


def _name_option(message: str) -> str:
    """Prefix a settings error with the command-line option it concerns, e.g. ``--test-size: test_size ...``."""
    from reluscape.report.config import RunConfig

    first_word = message.split(" ", 1)[0]
    if first_word in RunConfig.option_names():
        return f"--{first_word.replace('_', '-')}: {message}"
    return message


def main(argv: Sequence[str] | None = None) -> int:
    """Run the command line; returns the exit status (0 ok, 1 a section failed, 2 bad input)."""
    parser = _build_parser()
    args = parser.parse_args(argv)
    if args.command is None:
        parser.print_help()
        return 2

    level = logging.INFO
    if args.verbose:
        level = logging.DEBUG
    elif args.quiet:
        level = logging.WARNING
    logging.basicConfig(level=level, format="%(asctime)s %(levelname)s %(name)s: %(message)s", datefmt="%H:%M:%S")

    from reluscape.report.builder import run_report

    try:
        config = _config_from_args(args)
        result = run_report(config)
    except (ValueError, TypeError, FileNotFoundError) as error:
        logger.error("%s", _name_option(str(error)))
        return 2
    except KeyboardInterrupt:
        logger.error("interrupted")
        return 130
    if result.failed_sections:
        logger.error("report written with failed sections: %s", ", ".join(result.failed_sections))
        return 1
    return 0


if __name__ == "__main__":  # pragma: no cover
    sys.exit(main())
