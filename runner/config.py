"""Where the runner keeps its state, and the settings that say how it behaves.

Precedence: command-line flag > environment (`RUNNER_...`) > `$RUNNER_HOME/config.toml` > packaged default.
The settings are read into a frozen `Settings`; keys the runner does not know are reported, never fatal.
"""

from __future__ import annotations

import math
import os
import tempfile
from collections.abc import Mapping
from dataclasses import dataclass, field, fields
from pathlib import Path
from typing import Any

from runner.errors import RunnerError

APP_DIR_NAME = "applet-runner"
CONFIG_FILE = "config.toml"
ENV_PREFIX = "RUNNER_"
TRUE_WORDS = ("true", "yes", "on", "1")
FALSE_WORDS = ("false", "no", "off", "0")


def runner_home() -> Path:
    """The runner's state folder: `$RUNNER_HOME`, else `$XDG_DATA_HOME/applet-runner`, else `~/.local/share/applet-runner`."""
    explicit = os.environ.get("RUNNER_HOME")
    if explicit:
        return Path(explicit).expanduser()
    xdg = os.environ.get("XDG_DATA_HOME")
    base = Path(xdg).expanduser() if xdg else Path.home() / ".local" / "share"
    return base / APP_DIR_NAME


def ensure_runner_home() -> Path:
    """Create the state folder (mode 0700: it will hold credentials) and return it."""
    home = runner_home()
    home.mkdir(parents=True, exist_ok=True, mode=0o700)
    return home


class SettingError(RunnerError):
    """A setting's key is unknown or its value is not one the key accepts."""


@dataclass(frozen=True, slots=True)
class Settings:
    """The runner's settings; each field is a key of config.toml and a `RUNNER_<KEY>` variable."""

    # Reuse the output of an equal done job instead of running a job again (DNAnexus job reuse).
    reuse: bool = False
    # An open file of the user with no activity (creation, a part, a change) for this long is removed with its
    # parts: an upload abandoned by its client (or cut by an engine crash) would otherwise stay open for ever.
    open_file_ttl_hours: float = 24.0
    # Retention of the event stream's store (GET /runner/events): the newest events kept, and for how long.
    events_max_count: int = 200_000
    events_max_age_days: float = 7.0
    # An applet of a release the platform no longer runs (14.04, 16.04...): `refuse` it at build, or run it on
    # the `nearest` supported release with a warning (docs/execution-environment.md).
    legacy_release: str = "refuse"
    # An instance type larger than the host: `cap` runs it with the cores and memory the host has (and says so),
    # `strict` refuses the run as the platform refuses an unavailable instance type.
    instance_policy: str = "cap"
    # A GPU instance type on a host without (enough) usable GPUs: `refuse` the run, or `ignore` the GPUs and run
    # it without them (saying so).
    gpu_policy: str = "refuse"
    # A browser session of an HTTPS app ends after this long without a request through the proxy (the platform's 15).
    https_session_idle_minutes: float = 15.0
    # How often the engine samples each running job's CPU, memory and GPUs, in seconds (read when the engine
    # starts); 0 turns sampling off. runner/engine/usage.py says how many events that makes.
    usage_interval_s: float = 2.0
    # The scheduler (runner.engine.scheduler): at most this many tries at once (0: no limit), and what it leaves
    # free for the desktop. No cores are reserved by default, so that a 2-core machine still runs a 2-core
    # instance type uncapped (the kernel shares CPUs with the desktop); memory, which it cannot share, is.
    max_parallel: int = 0
    reserve_cores: float = 0.0
    reserve_memory_gib: float = 1.0
    # Ready containers the Docker backend keeps per applet image and mounts, started ahead of their jobs so
    # that a job starts with no container start on its path (each used by one job only); 0: none.
    container_pool: int = 1

    # Where jobs run: `docker` containers, or `local` host processes with no isolation (for machines without
    # Docker and for fast tests; docs/execution-environment.md). Read when the engine starts.
    backend: str = "docker"


# The settings whose value is one of a few words, and those words (the first is the default).
CHOICES: Mapping[str, tuple[str, ...]] = {
    "legacy_release": ("refuse", "nearest"),
    "instance_policy": ("cap", "strict"),
    "gpu_policy": ("refuse", "ignore"),
    "backend": ("docker", "local"),
}
# The number settings for which 0 means off (for max_parallel: no limit; for the reserve: none).
ZERO_MEANS_OFF = frozenset({"usage_interval_s", "max_parallel", "reserve_cores", "reserve_memory_gib",
                            "container_pool"})


@dataclass(frozen=True, slots=True)
class LoadedSettings:
    """Settings with where each value came from (`default`, `config.toml`, `RUNNER_...`) and any warnings."""

    settings: Settings
    sources: Mapping[str, str] = field(default_factory=dict)
    warnings: tuple[str, ...] = ()


def setting_keys() -> tuple[str, ...]:
    """The keys `Settings` knows."""
    return tuple(f.name for f in fields(Settings))


def canonical_key(key: str) -> str:
    """A key as `Settings` names it: `legacy-release` is `legacy_release`."""
    return key.strip().replace("-", "_")


def parse_value(key: str, value: Any) -> Any:
    """`value` (a TOML value or a command-line word) as the type of `key`; SettingError if it is not one."""
    key = canonical_key(key)
    if key not in setting_keys():
        raise SettingError(f"unknown setting {key!r} (known: {', '.join(setting_keys())})")
    if key in CHOICES:
        return _choice(key, value)
    default = getattr(Settings(), key)
    if isinstance(default, float):
        return _positive_number(key, value, zero=key in ZERO_MEANS_OFF)
    if isinstance(default, int) and not isinstance(default, bool):
        return _positive_integer(key, value, zero=key in ZERO_MEANS_OFF)
    if isinstance(value, bool):
        return value
    if isinstance(value, str) and value.strip().lower() in TRUE_WORDS + FALSE_WORDS:
        return value.strip().lower() in TRUE_WORDS
    raise SettingError(f"{key} must be true or false, not {value!r}")


def _choice(key: str, value: Any) -> str:
    words = CHOICES[key]
    if isinstance(value, str) and value.strip().lower() in words:
        return value.strip().lower()
    raise SettingError(f"{key} must be one of {', '.join(words)}, not {value!r}")


def _positive_number(key: str, value: Any, zero: bool = False) -> float:
    number: float | None = None
    if isinstance(value, (int, float)) and not isinstance(value, bool):
        number = float(value)
    elif isinstance(value, str):
        try:
            number = float(value.strip())
        except ValueError:
            number = None
    if zero and number == 0:
        return 0.0
    if number is None or not math.isfinite(number) or number <= 0:
        least = "0 or more (0: off)" if zero else "greater than 0"
        raise SettingError(f"{key} must be a number {least}, not {value!r}")
    return number


def _positive_integer(key: str, value: Any, zero: bool = False) -> int:
    number = _positive_number(key, value, zero=zero)
    if not number.is_integer():
        least = "0 or more (0: off)" if zero else "greater than 0"
        raise SettingError(f"{key} must be a whole number {least}, not {value!r}")
    return int(number)


def config_path(home: Path | None = None) -> Path:
    """The settings file: `$RUNNER_HOME/config.toml`."""
    return (home if home is not None else runner_home()) / CONFIG_FILE


def read_config_file(path: Path) -> dict[str, Any]:
    """The key/values of a config.toml (empty when there is none); SettingError when it is not valid TOML."""
    import tomllib  # here, as logging below: every command imports this module, few read a config.toml

    try:
        with path.open("rb") as stream:
            return tomllib.load(stream)
    except FileNotFoundError:
        return {}
    except (OSError, tomllib.TOMLDecodeError) as exc:
        raise SettingError(f"{path} cannot be read: {exc}") from None


def load_settings(home: Path | None = None, environ: Mapping[str, str] | None = None) -> LoadedSettings:
    """The settings of `home` (default `$RUNNER_HOME`): environment over config.toml over defaults."""
    environ = os.environ if environ is None else environ
    path = config_path(home)
    values: dict[str, Any] = {}
    sources = {key: "default" for key in setting_keys()}
    warnings: list[str] = []
    try:
        document = read_config_file(path)
    except SettingError as exc:
        document = {}
        warnings.append(str(exc))
    for key, value in document.items():
        try:
            values[canonical_key(key)] = parse_value(key, value)
            sources[canonical_key(key)] = str(path)
        except SettingError as exc:
            warnings.append(f"{path}: {exc}")
    for key in setting_keys():
        variable = ENV_PREFIX + key.upper()
        if variable in environ:
            try:
                values[key] = parse_value(key, environ[variable])
                sources[key] = variable
            except SettingError as exc:
                warnings.append(f"{variable}: {exc}")
    return LoadedSettings(Settings(**values), sources, tuple(warnings))


def current_settings(home: Path | None = None) -> Settings:
    """The settings in force now (read afresh at each call), with problems logged as warnings."""
    loaded = load_settings(home)
    if loaded.warnings:
        import logging

        for warning in loaded.warnings:
            logging.getLogger(__name__).warning("settings: %s", warning)
    return loaded.settings


def _toml_value(value: Any) -> str:
    if isinstance(value, bool):
        return "true" if value else "false"
    if isinstance(value, (int, float)):
        return repr(value)
    if isinstance(value, str):
        return '"' + value.replace("\\", "\\\\").replace('"', '\\"').replace("\n", "\\n") + '"'
    if isinstance(value, list):
        return "[" + ", ".join(_toml_value(v) for v in value) + "]"
    raise SettingError(f"cannot write {value!r} to config.toml")


def _toml_text(document: Mapping[str, Any]) -> str:
    scalars = [f"{k} = {_toml_value(v)}" for k, v in document.items() if not isinstance(v, Mapping)]
    tables = [f"\n[{k}]\n" + _toml_text(v) for k, v in document.items() if isinstance(v, Mapping)]
    return "".join(line + "\n" for line in scalars) + "".join(tables)


def write_setting(key: str, value: str, home: Path | None = None) -> Any:
    """Set `key` to `value` in config.toml (written atomically, other keys kept); the parsed value."""
    parsed = parse_value(key, value)
    path = config_path(home)
    document = read_config_file(path)
    document[canonical_key(key)] = parsed
    path.parent.mkdir(parents=True, exist_ok=True, mode=0o700)
    handle, temporary = tempfile.mkstemp(prefix=f".{CONFIG_FILE}.", dir=path.parent)
    try:
        with os.fdopen(handle, "w", encoding="utf-8") as stream:
            stream.write(_toml_text(document))
        os.replace(temporary, path)
    except BaseException:
        Path(temporary).unlink(missing_ok=True)
        raise
    return parsed
