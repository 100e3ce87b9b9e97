"""Triples extracted by an LLM behind any OpenAI-compatible chat-completions server (vLLM, llama.cpp, Ollama,
OpenAI, ...).

The server's base URL and model come from the config; the API key is read from the environment variable the config
names (``api_key_env``) at request time and is never stored on the object, in a config or in any output file. The
model is asked for a JSON list of ``{"object", "attributes", "count", "negated"}``; object names are mapped to
categories through the same CHAIR vocabulary as the rules extractor (names outside it are counted in
``unmapped``, not silently dropped), attribute values through the configured attribute words.
"""

from __future__ import annotations

import json
import os
import re
import urllib.error
import urllib.request
from collections import Counter
from collections.abc import Mapping, Sequence
from pathlib import Path

from reverie.dftg.extract import Extractor, Triple, check_description, load_vocabulary
from reverie.eval.chair import ObjectVocabulary, words

SYSTEM_PROMPT = (
    "You extract the objects a description of an image claims. Answer with a JSON list only, one item per object "
    'mention: {"object": noun, "attributes": {kind: value}, "count": integer or null, "negated": true if the text '
    "says it is NOT there}. Attribute kinds: {kinds}. Use null for a count the text does not state."
)
_FENCE = re.compile(r"^```(?:json)?\s*|\s*```$", re.MULTILINE)


class LLMExtractor(Extractor):
    """See the module docstring. ``attributes`` as for ``RulesExtractor`` (kind -> value -> surface words)."""

    def __init__(
        self,
        base_url: str,
        model: str,
        api_key_env: str | None = "OPENAI_API_KEY",
        synonyms: str | Path | ObjectVocabulary | None = None,
        attributes: Mapping[str, Mapping[str, Sequence[str]]] | None = None,
        temperature: float = 0.0,
        timeout_s: float = 60.0,
        system_prompt: str = SYSTEM_PROMPT,
    ) -> None:
        self.url = base_url.rstrip("/") + "/chat/completions"
        self.model, self.api_key_env, self.temperature, self.timeout_s = model, api_key_env, temperature, timeout_s
        self.vocabulary = load_vocabulary(synonyms)
        self.attribute_values = {
            (kind, " ".join(words(surface))): value
            for kind, values in (attributes or {}).items()
            for value, surfaces in values.items()
            for surface in (value, *surfaces)
        }
        kinds = sorted({kind for kind, _ in self.attribute_values})
        self.system_prompt = system_prompt.replace("{kinds}", ", ".join(kinds) or "none")
        self.unmapped: Counter[str] = Counter()  # object names the vocabulary does not know, for the report

    def describe(self) -> dict:
        return {
            "kind": "llm",
            "url": self.url,
            "model": self.model,
            "api_key_env": self.api_key_env,  # the variable's name, never its value
            "vocabulary": self.vocabulary.source,
            "unmapped": dict(self.unmapped.most_common(20)),
        }

    def _headers(self) -> dict[str, str]:
        headers = {"Content-Type": "application/json"}
        if self.api_key_env:
            key = os.environ.get(self.api_key_env)
            if not key:
                raise RuntimeError(
                    f"LLM extractor: environment variable {self.api_key_env} is not set (it holds the API key; set "
                    "extractor.api_key_env=null for a server without authentication)"
                )
            headers["Authorization"] = f"Bearer {key}"
        return headers

    def complete(self, description: str) -> str:
        """The model's raw reply for one description."""
        body = {
            "model": self.model,
            "temperature": self.temperature,
            "messages": [
                {"role": "system", "content": self.system_prompt},
                {"role": "user", "content": description},
            ],
        }
        request = urllib.request.Request(self.url, json.dumps(body).encode(), self._headers(), method="POST")
        try:
            with urllib.request.urlopen(request, timeout=self.timeout_s) as response:
                reply = json.loads(response.read().decode("utf-8"))
        except urllib.error.HTTPError as error:
            raise RuntimeError(f"LLM extractor: {self.url} answered HTTP {error.code}: {error.reason}") from error
        except urllib.error.URLError as error:
            raise RuntimeError(f"LLM extractor: cannot reach {self.url}: {error.reason}") from error
        try:
            return reply["choices"][0]["message"]["content"]
        except (KeyError, IndexError, TypeError) as error:
            raise RuntimeError(f"LLM extractor: {self.url} sent no choices[0].message.content") from error

    def extract(self, description: str) -> list[Triple]:
        content = self.complete(check_description(description))
        try:
            items = json.loads(_FENCE.sub("", content.strip()))
        except json.JSONDecodeError as error:
            raise ValueError(f"LLM extractor: the reply is not a JSON list: {content[:200]!r}") from error
        if not isinstance(items, list):
            raise ValueError(f"LLM extractor: the reply is not a JSON list: {content[:200]!r}")
        triples = []
        for item in items:
            if not isinstance(item, dict) or not isinstance(item.get("object"), str):
                raise ValueError(f"LLM extractor: item without an 'object' name: {item!r:.200}")
            category = self.vocabulary.canonical(item["object"])
            if category is None:
                self.unmapped[item["object"].lower()] += 1
                continue
            attributes = {}
            for kind, value in (item.get("attributes") or {}).items():
                canonical = self.attribute_values.get((kind, " ".join(words(str(value)))))
                if canonical is not None:
                    attributes[kind] = canonical
            count = item.get("count")
            count = count if isinstance(count, int) and not isinstance(count, bool) else None
            triples.append(Triple(category, item["object"], attributes, count, bool(item.get("negated", False))))
        return triples
