"""RunConfig: the settings of `reluscape run`, from defaults, a TOML file and the command line."""

from __future__ import annotations

import dataclasses
import sys
from dataclasses import dataclass, fields
from pathlib import Path
from typing import Any

from reluscape._validation import check_choice, check_float, check_int
from reluscape.data.synthetic_generator import DATASET_NAMES
from reluscape.experiments.shallow_trainer import OPTIMIZERS
from reluscape.losses import TASKS
from reluscape.models.shallow_relu import INIT_SCHEMES

if sys.version_info >= (3, 11):
    import tomllib
else:  # pragma: no cover - exercised on Python 3.10 only
    import tomli as tomllib

__all__ = ["RunConfig", "load_config_file"]

# Defaults of the full and the --quick run, for settings left unset.
_FULL_DEFAULTS = {"n_samples": 1000, "epochs": 300}
_QUICK_DEFAULTS = {"n_samples": 400, "epochs": 100}


# Meaning of each unset optional setting, for the comments of the written config file.
_UNSET_MEANING = {
    "lr": "the optimizer's default learning rate",
    "batch_size": "full-batch training",
    "dataset": "the data come from the CSV file",
    "csv": "the data set is built in",
    "target": "it is needed only with csv",
    "task": "inferred from the targets",
}


@dataclass(frozen=True)
class RunConfig:
    """Settings of one `reluscape run`.

    ``n_samples`` and ``epochs`` may stay None, which means the default of the
    mode: 1000 samples and 300 epochs, or 400 and 100 with ``quick``.
    ``dataset`` and ``csv`` are alternatives; with neither, the data set is moons.
    """

    dataset: str | None = None
    csv: str | None = None
    target: str | None = None
    task: str | None = None
    n_samples: int | None = None
    noise: float = 0.1
    test_size: float = 0.25
    width: int = 32
    init: str = "kaiming"
    optimizer: str = "adam"
    lr: float | None = None
    momentum: float = 0.9
    weight_decay: float = 0.0
    epochs: int | None = None
    batch_size: int | None = None
    seed: int = 0
    output: str = "reluscape-report"
    quick: bool = False
    progress: bool = False

    def __post_init__(self) -> None:
        # Data source.
        if self.dataset is not None:
            check_choice("dataset", self.dataset, DATASET_NAMES)
            if self.csv is not None:
                raise ValueError(
                    f"dataset={self.dataset!r} and csv={self.csv!r} are alternatives; give a named dataset or a CSV file."
                )
        if self.csv is not None and self.target is None:
            raise ValueError("target must name the target column when csv is given; got none.")
        if self.target is not None and self.csv is None:
            raise ValueError(f"target={self.target!r} needs csv, the path of the CSV file.")
        if self.task is not None:
            check_choice("task", self.task, TASKS)

        # Data size and split.
        if self.n_samples is not None:
            object.__setattr__(self, "n_samples", check_int("n_samples", self.n_samples, minimum=2))
        object.__setattr__(self, "noise", check_float("noise", self.noise, minimum=0.0))
        test_size = check_float("test_size", self.test_size, minimum=0.0, maximum=1.0, exclusive=True)
        object.__setattr__(self, "test_size", test_size)

        # Model and training.
        object.__setattr__(self, "width", check_int("width", self.width, minimum=1))
        check_choice("init", self.init, INIT_SCHEMES)
        check_choice("optimizer", self.optimizer, OPTIMIZERS)
        if self.lr is not None:
            object.__setattr__(self, "lr", check_float("lr", self.lr, minimum=0.0, exclusive=True))
        object.__setattr__(self, "momentum", check_float("momentum", self.momentum, minimum=0.0, maximum=1.0))
        object.__setattr__(self, "weight_decay", check_float("weight_decay", self.weight_decay, minimum=0.0))
        if self.epochs is not None:
            object.__setattr__(self, "epochs", check_int("epochs", self.epochs, minimum=1))
        if self.batch_size is not None:
            object.__setattr__(self, "batch_size", check_int("batch_size", self.batch_size, minimum=1))
        object.__setattr__(self, "seed", check_int("seed", self.seed, minimum=0))

        if not isinstance(self.output, str) or not self.output:
            raise ValueError(f"output must be a folder path; got {self.output!r}.")

    @classmethod
    def option_names(cls) -> tuple[str, ...]:
        return tuple(field.name for field in fields(cls))

    @classmethod
    def from_mapping(cls, values: dict[str, Any], *, source: str = "config") -> RunConfig:
        """Build a config from a mapping whose keys are option names (``-`` or ``_``).

        Raises:
            ValueError: for an unknown key, naming the valid ones.
        """
        known = cls.option_names()
        normalised = {}
        for key, value in values.items():
            name = str(key).replace("-", "_")
            if name not in known:
                raise ValueError(f"unknown key {key!r} in {source}; valid keys are {', '.join(known)}.")
            normalised[name] = value
        return cls(**normalised)

    def replace(self, **changes: Any) -> RunConfig:
        return dataclasses.replace(self, **changes)

    @property
    def resolved_n_samples(self) -> int:
        defaults = _QUICK_DEFAULTS if self.quick else _FULL_DEFAULTS
        return self.n_samples if self.n_samples is not None else defaults["n_samples"]

    @property
    def resolved_epochs(self) -> int:
        defaults = _QUICK_DEFAULTS if self.quick else _FULL_DEFAULTS
        return self.epochs if self.epochs is not None else defaults["epochs"]

    @property
    def resolved_dataset(self) -> str | None:
        """The named data set: ``dataset``, or moons when no CSV file is given."""
        if self.csv is not None:
            return None
        return self.dataset if self.dataset is not None else "moons"

    def resolved(self) -> dict[str, Any]:
        """Return every setting with the mode defaults filled in."""
        values = dataclasses.asdict(self)
        values["dataset"] = self.resolved_dataset
        values["n_samples"] = self.resolved_n_samples
        values["epochs"] = self.resolved_epochs
        return values

    def to_toml(self) -> str:
        """Render the resolved settings as TOML.

        TOML has no null, so an unset optional setting becomes a comment that
        states what applies instead.
        """
        lines = ["# Settings of this reluscape run; pass this file to `reluscape run --config`."]
        for key, value in self.resolved().items():
            if value is None:
                lines.append(f"# {key} is not set: {_UNSET_MEANING.get(key, 'its default applies')}.")
                continue
            if isinstance(value, bool):
                text = "true" if value else "false"
            elif isinstance(value, (int, float)):
                text = repr(value)
            else:
                text = '"' + str(value).replace("\\", "\\\\").replace('"', '\\"') + '"'
            lines.append(f"{key} = {text}")
        return "\n".join(lines) + "\n"


def load_config_file(path: str | Path) -> dict[str, Any]:
    """Read a TOML config file into a mapping of option names to values.

    Raises:
        FileNotFoundError: if the file does not exist.
        ValueError: if the file is not valid TOML or has an unknown key.
    """
    path = Path(path)
    if not path.is_file():
        raise FileNotFoundError(f"config file not found: {str(path)!r}.")
    try:
        values = tomllib.loads(path.read_text())
    except tomllib.TOMLDecodeError as error:
        raise ValueError(f"config file {str(path)!r} is not valid TOML: {error}.") from None
    known = RunConfig.option_names()
    for key in values:
        if str(key).replace("-", "_") not in known:
            raise ValueError(f"unknown key {key!r} in config file {str(path)!r}; valid keys are {', '.join(known)}.")
    return values
