"""Chat templates, rendered turn by turn into pieces that know their role, segment and whether they are supervised.

Labels come from the pieces, never from splitting a rendered string on separators (the LLaVA "tokenization
mismatch" trap): each piece is tokenised on its own, so decoding a segment's supervised tokens gives back exactly
the assistant text it came from.

Every template closes an assistant turn with one end-of-turn marker (`end_of_turn`: `</s>`, `<|eot_id|>`,
`<|im_end|>`, `<|end|>`) that is supervised, so the model learns to emit it and generation stops on its token alone
(an export declares it as the tokenizer's end of text). `plain` is LLaVA's plain layout with `</s>` closing the answer
instead of a newline: a newline is an ordinary text token, which no harness stops on.
"""

from __future__ import annotations

from dataclasses import dataclass

from reverie.data.conversation import IMAGE_PLACEHOLDER, Conversation, Segment
from reverie.errors import UnknownKeyError


@dataclass(frozen=True)
class Piece:
    """A span of the rendered sequence."""

    text: str
    role: str  # "system" | "user" | "assistant" | "image"
    segment: Segment = Segment.OTHER
    supervised: bool = False


@dataclass(frozen=True)
class ChatTemplate:
    name: str
    bos: str = ""  # text that opens every sequence
    default_system: str = ""  # system message used when a conversation has none ("" = no system turn)
    system_format: str = "{system}"  # how a system message is wrapped
    user_prefix: str = ""
    user_suffix: str = ""
    assistant_prefix: str = ""  # ends the generation prompt; never supervised
    assistant_suffix: str = ""  # closes an assistant turn; supervised (the model must learn to stop)
    turn_glue: str = ""  # unsupervised text after an assistant turn

    @property
    def end_of_turn(self) -> str:
        """The marker that closes an assistant turn: what generation stops on, and an export's end of text."""
        return self.assistant_suffix.strip() or self.assistant_suffix

    @property
    def stop_strings(self) -> tuple[str, ...]:
        return tuple(s for s in (self.end_of_turn,) if s)

    @property
    def special_strings(self) -> tuple[str, ...]:
        """Marker strings a tokenizer must treat as single tokens for this template."""
        texts = [
            self.bos,
            self.system_format,
            self.user_prefix,
            self.user_suffix,
            self.assistant_prefix,
            self.assistant_suffix,
        ]
        return tuple(sorted({m for t in texts for m in _markers(t)}))

    def pieces(self, conv: Conversation, generation_prompt: bool = False) -> list[Piece]:
        """The whole conversation as pieces; with `generation_prompt`, the final assistant turn is left open."""
        out: list[Piece] = []
        if self.bos:
            out.append(Piece(self.bos, "system"))
        turns = list(conv.turns)
        system = turns.pop(0).text if turns and turns[0].role == "system" else self.default_system
        if system:
            out.append(Piece(self.system_format.format(system=system), "system"))
        if generation_prompt and turns and turns[-1].role == "assistant":
            turns = turns[:-1]
        for turn in turns:
            if turn.role == "user":
                out.append(Piece(self.user_prefix, "user"))
                out.extend(_split_image(turn.text))
                out.append(Piece(self.user_suffix, "user"))
            else:
                out.append(Piece(self.assistant_prefix, "assistant"))
                out.extend(Piece(p.text, "assistant", p.segment, True) for p in turn.parts)
                out.append(Piece(self.assistant_suffix, "assistant", Segment.OTHER, True))
                out.append(Piece(self.turn_glue, "assistant"))
        if generation_prompt:
            out.append(Piece(self.assistant_prefix, "assistant"))
        return [p for p in out if p.text]


def _markers(text: str) -> list[str]:
    """`<...>` markers such as <|im_start|> or </s> inside a template string."""
    found, i = [], text.find("<")
    while i != -1:
        j = text.find(">", i)
        if j == -1:
            break
        found.append(text[i : j + 1])
        i = text.find("<", j)
    return [m for m in found if "{" not in m and " " not in m]


def _split_image(text: str) -> list[Piece]:
    before, sep, after = text.partition(IMAGE_PLACEHOLDER)
    pieces = [Piece(before, "user")]
    if sep:
        pieces += [Piece(IMAGE_PLACEHOLDER, "image"), Piece(after, "user")]
    return pieces


VICUNA_SYSTEM = (
    "A chat between a curious user and an artificial intelligence assistant. "
    "The assistant gives helpful, detailed, and polite answers to the user's questions."
)

TEMPLATES: dict[str, ChatTemplate] = {
    t.name: t
    for t in (
        ChatTemplate(
            "vicuna_v1",
            bos="<s>",
            default_system=VICUNA_SYSTEM,
            system_format="{system} ",
            user_prefix="USER: ",
            user_suffix=" ",
            assistant_prefix="ASSISTANT: ",
            assistant_suffix="</s>",
        ),
        ChatTemplate(
            "llama3",
            bos="<|begin_of_text|>",
            system_format="<|start_header_id|>system<|end_header_id|>\n\n{system}<|eot_id|>",
            user_prefix="<|start_header_id|>user<|end_header_id|>\n\n",
            user_suffix="<|eot_id|>",
            assistant_prefix="<|start_header_id|>assistant<|end_header_id|>\n\n",
            assistant_suffix="<|eot_id|>",
        ),
        ChatTemplate(
            "chatml",
            default_system="You are a helpful assistant.",
            system_format="<|im_start|>system\n{system}<|im_end|>\n",
            user_prefix="<|im_start|>user\n",
            user_suffix="<|im_end|>\n",
            assistant_prefix="<|im_start|>assistant\n",
            assistant_suffix="<|im_end|>",
            turn_glue="\n",
        ),
        ChatTemplate(
            "phi3",
            system_format="<|system|>\n{system}<|end|>\n",
            user_prefix="<|user|>\n",
            user_suffix="<|end|>\n",
            assistant_prefix="<|assistant|>\n",
            assistant_suffix="<|end|>",
            turn_glue="\n",
        ),
        ChatTemplate("plain", user_suffix="\n", assistant_suffix="</s>"),
    )
}


def get_template(name: str) -> ChatTemplate:
    if name not in TEMPLATES:
        raise UnknownKeyError(f"unknown chat template {name!r}; available: {sorted(TEMPLATES)}")
    return TEMPLATES[name]


def _raw(text: str) -> str:
    """Literal text inside a Jinja template."""
    return "{% raw %}" + text + "{% endraw %}" if text else ""


def to_jinja(template: ChatTemplate, question_prompt: str = f"{IMAGE_PLACEHOLDER}\n{{question}}") -> str:
    """A Hugging Face chat template (Jinja) that renders transformers' message lists exactly as `template` renders
    reverie's conversations: a user turn with an image item is `question_prompt` around its text, the way reverie
    lays out every image question. Content may be a string or a list of {"type": "image"|"text"} items."""
    before, _, after = question_prompt.partition("{question}")
    sys_before, _, sys_after = template.system_format.partition("{system}")
    text_of = (
        "{%- set ns = namespace(text='', image=false) -%}"
        "{%- if message['content'] is string -%}{%- set ns.text = message['content'] -%}"
        "{%- else -%}{%- for item in message['content'] -%}"
        "{%- if item['type'] == 'image' -%}{%- set ns.image = true -%}"
        "{%- elif item['type'] == 'text' -%}{%- set ns.text = ns.text + item['text'] -%}{%- endif -%}"
        "{%- endfor -%}{%- endif -%}"
    )
    user = (
        _raw(template.user_prefix)
        + "{%- if ns.image -%}"
        + _raw(before)
        + "{{ ns.text }}"
        + _raw(after)
        + "{%- else -%}{{ ns.text }}{%- endif -%}"
        + _raw(template.user_suffix)
    )
    assistant = (
        _raw(template.assistant_prefix) + "{{ ns.text }}" + _raw(template.assistant_suffix) + _raw(template.turn_glue)
    )
    default_system = (
        _raw(sys_before) + _raw(template.default_system) + _raw(sys_after) if template.default_system else ""
    )
    return (
        _raw(template.bos)
        + "{%- if messages and messages[0]['role'] == 'system' -%}"
        + "{%- set message = messages[0] -%}"
        + text_of
        + _raw(sys_before)
        + "{{ ns.text }}"
        + _raw(sys_after)
        + "{%- set turns = messages[1:] -%}"
        + "{%- else -%}"
        + default_system
        + "{%- set turns = messages -%}"
        + "{%- endif -%}"
        + "{%- for message in turns -%}"
        + text_of
        + "{%- if message['role'] == 'user' -%}"
        + user
        + "{%- else -%}"
        + assistant
        + "{%- endif -%}"
        + "{%- endfor -%}"
        + "{%- if add_generation_prompt -%}"
        + _raw(template.assistant_prefix)
        + "{%- endif -%}"
    )
