"""Annotator backends: ``openai_chat`` (any OpenAI-compatible server), ``hf_local`` (a local transformers model) and
``world`` (the built-in world's exact oracle). Each is built from ``conf/annotator/*.yaml``."""

from reverie.annotate.backends.base import STEPS, Backend, Reply, Request, TransientError

__all__ = ["STEPS", "Backend", "Reply", "Request", "TransientError"]
