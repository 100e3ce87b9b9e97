"""Secrets never reach disk: redact what a config resolved from environment variables, and secret-named keys.

A value is a secret when its key's name has a word `key`, `token`, `secret`, `password`, `passwd`, `credential(s)`
or `auth` (`api_key`, `hf_token`, `wandb-password`; not `max_new_tokens`, `tokenizer` or `api_key_env`, which holds
a variable's name), or when it was resolved from an environment variable (`${oc.env:NAME}`), other than the public
settings reverie's own configs read (`PUBLIC_ENV`). Values derived from a secret (an interpolation of it, a string
that contains it) are redacted too. Used for summary.json, the loggers' config (W&B, CSV), Hydra's `.hydra/` files
and annotate's summary.
"""

from __future__ import annotations

import os
import re
from collections.abc import Iterable
from typing import Any

from omegaconf import DictConfig, ListConfig, OmegaConf

REDACTED = "<redacted>"
SECRET_WORDS = frozenset(
    {"key", "apikey", "token", "secret", "password", "passwd", "credential", "credentials", "auth"}
)
PUBLIC_ENV = frozenset({"REVERIE_CACHE_DIR", "REVERIE_WANDB_OFFLINE", "WANDB_PROJECT"})  # settings, not secrets
MIN_SECRET_LENGTH = 4  # shorter environment values ("1", "on") are not searched for inside other strings
_ENV = re.compile(r"\$\{oc\.env:\s*['\"]?([A-Za-z_][A-Za-z0-9_]*)")


def is_secret_key(name: Any) -> bool:
    """Whether a key's name says its value is a secret (`api_key`, `hfToken`); `*_env` names hold a variable name."""
    if not isinstance(name, str):
        return False
    words = [w.lower() for w in re.split(r"[_\-.\s]+|(?<=[a-z0-9])(?=[A-Z])", name) if w]
    return bool(words) and words[-1] != "env" and any(w in SECRET_WORDS for w in words)


def env_variables(text: str) -> list[str]:
    """Names of the environment variables an interpolation string reads."""
    return _ENV.findall(text)


def secret_values(unresolved: Any, extra: Iterable[str] = ()) -> set[str]:
    """The current values of the non-public environment variables that `unresolved` (a container or string) reads,
    plus `extra`; each at least MIN_SECRET_LENGTH characters (shorter ones are redacted only where they stand)."""
    names: set[str] = set()

    def walk(node: Any) -> None:
        if isinstance(node, dict):
            for value in node.values():
                walk(value)
        elif isinstance(node, (list, tuple)):
            for value in node:
                walk(value)
        elif isinstance(node, str):
            names.update(env_variables(node))

    walk(unresolved)
    values = {os.environ[n] for n in names - PUBLIC_ENV if n in os.environ} | set(extra)
    return {v for v in values if len(v) >= MIN_SECRET_LENGTH}


def scrub(text: str, secrets: set[str]) -> str:
    """`text` with every secret in it replaced (longest first)."""
    for secret in sorted(secrets, key=len, reverse=True):
        text = text.replace(secret, REDACTED)
    return text


def redact(resolved: Any, unresolved: Any = None, secrets: set[str] | None = None) -> Any:
    """A copy of `resolved` (plain containers) with secrets replaced by "<redacted>".

    `unresolved` is the same tree before interpolation (`OmegaConf.to_container(cfg, resolve=False)`): its
    `${oc.env:...}` strings say which values came from the environment. `secrets`: strings to remove wherever they
    occur (default: the values of the variables `unresolved` reads).
    """
    secrets = secret_values(unresolved) if secrets is None else secrets

    def walk(node: Any, raw: Any, key: Any = None) -> Any:
        if is_secret_key(key) and isinstance(node, str):  # numbers (num_key_value_heads) are not secrets
            return REDACTED
        if isinstance(raw, str) and any(n not in PUBLIC_ENV for n in env_variables(raw)):
            return REDACTED
        if isinstance(node, dict):
            raw = raw if isinstance(raw, dict) else {}
            return {k: walk(v, raw.get(k), k) for k, v in node.items()}
        if isinstance(node, (list, tuple)):
            raw = raw if isinstance(raw, (list, tuple)) and len(raw) == len(node) else [None] * len(node)
            return [walk(v, r) for v, r in zip(node, raw, strict=True)]
        if isinstance(node, str):
            return scrub(node, secrets)
        return node

    return walk(resolved, unresolved)


def config_secrets(cfg: DictConfig | ListConfig) -> set[str]:
    """The secrets of a config: the values of the variables it reads and of its secret-named keys."""
    found = set(secret_values(OmegaConf.to_container(cfg, resolve=False)))

    def walk(node: Any, key: Any = None) -> None:
        if isinstance(node, dict):
            for k, v in node.items():
                walk(v, k)
        elif isinstance(node, list):
            for v in node:
                walk(v)
        elif is_secret_key(key) and isinstance(node, str) and len(node) >= MIN_SECRET_LENGTH:
            found.add(node)

    walk(OmegaConf.to_container(cfg, resolve=True))
    return found


def redacted_config(cfg: DictConfig | ListConfig, tree: Any = None) -> Any:
    """`OmegaConf.to_container(cfg, resolve=True)` (or `tree`, e.g. it plus provenance) with the config's secrets
    redacted, also where they occur inside other strings (a recorded command line)."""
    resolved = OmegaConf.to_container(cfg, resolve=True) if tree is None else tree
    return redact(resolved, OmegaConf.to_container(cfg, resolve=False), config_secrets(cfg))


def redact_override(override: str) -> str:
    """A command-line override (`+api_key=abc`, `a.b_token=x`) with a secret key's value hidden."""
    key, sep, _ = override.partition("=")
    name = key.lstrip("+~").split(".")[-1].split("/")[-1]
    return f"{key}={REDACTED}" if sep and is_secret_key(name) else override
