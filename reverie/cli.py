"""The entry points' handling of user errors: one line `reverie: error: ...`, exit status 2, nothing left behind.

- `user_errors` wraps a task function (under `@hydra.main`) or an argparse `main`: a user error (`UserError`, a file
  the user named that is missing, a required config value left unset, an unset environment variable) prints one
  line and exits with 2; a bug keeps its traceback. Applying it also routes Hydra's own errors through the same
  line: a config key typo names the key and the nearest valid keys, an unknown group option lists the options.
- `HydraFiles`, a Hydra callback every shipped entry config installs: removes the run folder Hydra made for a command
  that then failed with a user error (when it holds nothing but Hydra's files), and redacts secrets in `.hydra/`.

`HYDRA_FULL_ERROR=1` shows the traceback of user errors too.
"""

from __future__ import annotations

import difflib
import functools
import os
import re
import shutil
import sys
from collections.abc import Callable
from pathlib import Path
from typing import Any, TypeVar

from hydra.experimental.callback import Callback
from omegaconf import DictConfig, ListConfig, OmegaConf
from omegaconf.errors import ConfigKeyError, InterpolationResolutionError, MissingMandatoryValue

from reverie.errors import UserError
from reverie.redact import REDACTED, is_secret_key, redact_override, scrub

T = TypeVar("T")
USER_ERRORS = (UserError, FileNotFoundError)  # every missing file here is one the user named
HYDRA_OWN = {".hydra"}  # what Hydra writes into a run folder before the task starts (plus <job>.log)


def full_error() -> bool:
    return os.environ.get("HYDRA_FULL_ERROR") == "1"


def fail(message: str) -> None:
    """Print the one line and exit with status 2 (after removing the folder Hydra made for this command)."""
    HydraFiles.clean_up()
    print(f"reverie: error: {one_line(message)}", file=sys.stderr)
    sys.exit(2)


def one_line(message: str) -> str:
    lines = [line.strip() for line in str(message).strip().splitlines() if line.strip()]
    return "; ".join(lines)


def user_errors(main: Callable[..., T]) -> Callable[..., T]:
    """Wrap an entry point's task function (under `@hydra.main`) or its argparse `main`."""
    install_hydra_errors()

    @functools.wraps(main)
    def wrapper(*args, **kwargs):
        try:
            if args and isinstance(args[0], DictConfig):
                check_environment(args[0])
            return main(*args, **kwargs)
        except Exception as error:
            message = user_message(error)
            if message is None or full_error():
                raise
            fail(message)

    return wrapper


def check_environment(cfg: DictConfig) -> None:
    """Fail before any work when the config reads an environment variable that is not set and has no default."""
    from reverie.errors import InputError

    def walk(node: Any, key: str) -> None:
        if isinstance(node, dict):
            for k, v in node.items():
                walk(v, f"{key}.{k}" if key else str(k))
        elif isinstance(node, list):
            for i, v in enumerate(node):
                walk(v, f"{key}[{i}]")
        elif isinstance(node, str):
            for name, default in re.findall(r"\$\{oc\.env:\s*([A-Za-z_][A-Za-z0-9_]*)\s*(,)?", node):
                if not default and name not in os.environ:
                    raise InputError(f"{key}: environment variable {name} is not set (export it, or give {key}=...)")

    walk(OmegaConf.to_container(cfg, resolve=False), "")


def user_error_in(error: BaseException | None) -> BaseException | None:
    """The user error itself, or the one behind a wrapper (Hydra's instantiate and OmegaConf's resolvers wrap what
    they call); None for a bug."""
    seen = set()
    while error is not None and id(error) not in seen:
        if isinstance(error, USER_ERRORS):
            return error
        seen.add(id(error))
        error = error.__cause__ or error.__context__
    return None


def user_message(error: BaseException) -> str | None:
    """The one line for a user error (reverie's, a config value left unset, an unset variable, a Hydra config
    mistake); None for a bug."""
    cause = user_error_in(error)
    if cause is not None:
        return str(cause)
    chain, seen = [], set()
    while error is not None and id(error) not in seen:
        seen.add(id(error))
        chain.append(error)
        error = error.__cause__ or error.__context__
    for item in chain:
        missing = re.search(r"Missing mandatory value: (\S+)", str(item))
        if isinstance(item, MissingMandatoryValue) or missing:
            key = missing.group(1) if missing else getattr(item, "full_key", None) or "?"
            return f"{key} is required: give {key}=... on the command line"
        if isinstance(item, InterpolationResolutionError) and "Environment variable" in str(item):
            return f"{_first_line(item)} (needed by {getattr(item, 'full_key', '?')})"
    return hydra_message(chain)


def hydra_message(chain: list[BaseException]) -> str | None:
    """One line for Hydra's composition errors: an unknown key (with the nearest ones), an unknown group option,
    an override that does not parse."""
    from hydra.errors import ConfigCompositionException, MissingConfigException, OverrideParseException

    top = chain[0]
    if isinstance(top, MissingConfigException):
        return _missing_option(top)
    if isinstance(top, OverrideParseException):
        return f"cannot parse override {top.override!r}: {_first_line(top.message)}"
    if not isinstance(top, ConfigCompositionException):
        return None
    for item in chain[1:]:
        if isinstance(item, ConfigKeyError) or "not in struct" in str(item):
            return _unknown_key(item)
    return _first_line(top) + "".join(f": {_first_line(c)}" for c in chain[1:2])


def _first_line(error: BaseException | str) -> str:
    text = str(error).strip()
    return text.splitlines()[0] if text else type(error).__name__


def _unknown_key(error: BaseException) -> str:
    key = getattr(error, "full_key", None) or getattr(error, "key", None) or "?"
    parent = getattr(error, "parent_node", None)
    known = [str(k) for k in parent] if isinstance(parent, DictConfig) else []
    name = str(key).rsplit(".", 1)[-1]
    near = difflib.get_close_matches(name, known, n=3, cutoff=0.5)
    prefix = str(key)[: -len(name)]
    hint = (
        f"; did you mean {', '.join(prefix + k for k in near)}?"
        if near
        else (f"; valid keys here: {', '.join(prefix + k for k in sorted(known)[:12])}" if known else "")
    )
    return f"unknown config key {key}{hint} (to add a new key use +{key}=...)"


def _missing_option(error: BaseException) -> str:
    text = str(error)
    options = getattr(error, "options", None) or []
    missing = getattr(error, "missing_cfg_file", None) or ""
    group, _, name = str(missing).rpartition("/")
    if group and options:
        near = difflib.get_close_matches(name, options, n=1, cutoff=0.5)
        hint = f"; did you mean {group}={near[0]}?" if near else ""
        return f"{group}={name}: no such config; {group} is one of {', '.join(sorted(options))}{hint}"
    return one_line(text)


_installed = False


def install_hydra_errors() -> None:
    """Route errors raised by Hydra itself (while composing the config, before the task runs) through `fail`."""
    global _installed
    if _installed:
        return
    import hydra._internal.utils as hydra_utils

    original = hydra_utils.run_and_report

    def run_and_report(func: Callable[[], Any]) -> Any:
        def guarded() -> Any:
            try:
                return func()
            except Exception as error:
                message = user_message(error)
                if message is None or full_error():
                    raise
                fail(message)

        return original(guarded)

    hydra_utils.run_and_report = run_and_report
    _installed = True


class HydraFiles(Callback):
    """Hydra callback: keep no stray run folder after a user error, and no secret in `.hydra/`."""

    existing: Path | None = None  # the deepest folder above the run folder that existed before Hydra made it
    before: frozenset[str] = frozenset()  # what that folder held, when it is the run folder itself
    output: Path | None = None

    def on_run_start(self, config: DictConfig, **kwargs: Any) -> None:
        HydraFiles.existing = HydraFiles.output = None
        HydraFiles.before = frozenset()
        try:
            path = Path(os.path.abspath(str(OmegaConf.select(config, "hydra.run.dir"))))
        except Exception:  # e.g. run_dir left unset: Hydra fails on it next, before making any folder
            return
        HydraFiles.output = None
        while not path.exists() and path != path.parent:
            path = path.parent
        HydraFiles.existing = path
        HydraFiles.before = frozenset(p.name for p in path.iterdir()) if path.is_dir() else frozenset()

    def on_job_start(self, config: DictConfig, **kwargs: Any) -> None:
        HydraFiles.output = Path(config.hydra.runtime.output_dir)
        if config.hydra.output_subdir is not None:
            redact_hydra_folder(HydraFiles.output / str(config.hydra.output_subdir), list(config.hydra.overrides.task))

    @staticmethod
    def clean_up() -> None:
        """Remove the folder Hydra made for this command (the part of the path that did not exist before), if it
        holds nothing but Hydra's own files."""
        existing, output = HydraFiles.existing, HydraFiles.output
        if existing is None or output is None or not output.is_relative_to(existing):
            return
        if output == existing:  # an existing folder (annotate's out): remove only the Hydra files it did not hold
            for path in output.iterdir():
                if path.name not in HydraFiles.before and (path.name in HYDRA_OWN or path.suffix == ".log"):
                    shutil.rmtree(path) if path.is_dir() else path.unlink()
            return
        made = existing / output.relative_to(existing).parts[0]
        if made.is_dir() and only_hydra_files(made):
            shutil.rmtree(made, ignore_errors=True)


def only_hydra_files(folder: Path) -> bool:
    for path in folder.rglob("*"):
        if path.is_dir() or path.suffix == ".log":
            continue
        if not any(part in HYDRA_OWN for part in path.relative_to(folder).parts):
            return False
    return True


def redact_hydra_folder(folder: Path, overrides: list[str]) -> None:
    """Rewrite Hydra's saved config, hydra config and overrides without the values of secret-named keys."""
    secrets = {o.partition("=")[2] for o in overrides if redact_override(o) != o}
    for name in ("config.yaml", "hydra.yaml", "overrides.yaml"):
        path = folder / name
        if not path.is_file():
            continue
        if name == "config.yaml":
            cfg = OmegaConf.load(path)
            found = _redact_literals(cfg)
            secrets |= found
            if found:
                OmegaConf.save(cfg, path)
        text = path.read_text()
        clean = scrub(text, {s for s in secrets if s})
        if clean != text:
            path.write_text(clean)


def _redact_literals(node: Any) -> set[str]:
    """Replace, in place, literal string values of secret-named keys (interpolations stay: they hold no value)."""
    found: set[str] = set()
    keys = list(node.keys()) if isinstance(node, DictConfig) else range(len(node))
    for key in keys:
        child = node._get_node(key)
        if isinstance(child, (DictConfig, ListConfig)):
            found |= _redact_literals(child)
        elif is_secret_key(key) and not OmegaConf.is_interpolation(node, key):
            value = child._value() if child is not None else None
            if isinstance(value, str) and value and value != "???":
                found.add(value)
                node[key] = REDACTED
    return found
