"""ReflectionPolicy: how a REVERIE record becomes training conversations (rationale kind x context x position).

The defaults reproduce the paper: the answer first, then each rationale in its own sample ("separate"), with the
paper's prompt wording. The confusing answer only ever appears inside a user prompt, never as a target.

``context="plain"`` is study 01's "more grounded text without reflection" control: the answer sample as in
answers-only, and each rationale's text as the plain reply to ``plain_prompt`` (no question, no confusing answer).
"""

from __future__ import annotations

from dataclasses import dataclass
from typing import Literal

from reverie.data.conversation import IMAGE_PLACEHOLDER, Conversation, Part, Segment, Turn
from reverie.data.preference import pair_conversations
from reverie.data.sources import ReverieRecord

Kinds = Literal["none", "pos", "neg", "both"]
Context = Literal["separate", "joint_pos_first", "joint_neg_first", "plain"]
Position = Literal["post_hoc", "cot"]
Preference = Literal["none", "also", "only"]


@dataclass(frozen=True)
class ReflectionPolicy:
    kinds: Kinds = "both"  # which rationales to train on: none (answers only), pos, neg, both
    context: Context = "separate"  # one rationale per sample, both in one conversation (which first), or plain
    plain_prompt: str = f"{IMAGE_PLACEHOLDER}\nWhat does the image show?"  # plain: the user turn before a rationale
    position: Position = "post_hoc"  # rationale after the answer (paper) or before it in the same turn (cot)
    question_prompt: str = f"{IMAGE_PLACEHOLDER}\n{{question}}"  # first user turn; {question}
    pos_prompt: str = "Explain why. Including any necessary facts or knowledge"  # post-hoc positive follow-up
    neg_prompt: str = (  # post-hoc negative follow-up; {confusing_answer}
        "Explain why this answer is wrong: {confusing_answer}. Including any necessary facts or knowledge."
    )
    cot_pos_suffix: str = ""  # cot: appended to the question when a positive rationale precedes the answer
    cot_neg_suffix: str = "\nA tempting answer is: {confusing_answer}."  # cot: appended when a negative one does
    cot_separator: str = "\nAnswer: "  # cot: text between the rationale(s) and the answer (segment `other`)
    preference: Preference = "none"  # also/only: a record also/only gives a (correct, confusing) answer pair (DPO)

    def __post_init__(self) -> None:
        for name, allowed in (
            ("kinds", Kinds),
            ("context", Context),
            ("position", Position),
            ("preference", Preference),
        ):
            if getattr(self, name) not in allowed.__args__:
                raise ValueError(f"reflection.{name}={getattr(self, name)!r}; expected one of {allowed.__args__}")

    def rationale_orders(self) -> list[tuple[str, ...]]:
        """Which rationales go into each sample made from one record, in order."""
        if self.kinds == "none":
            return [()]
        if self.kinds in ("pos", "neg"):
            return [(self.kinds,)]
        if self.context in ("separate", "plain"):
            return [("pos",), ("neg",)]
        return [("pos", "neg")] if self.context == "joint_pos_first" else [("neg", "pos")]

    def conversations(self, record: ReverieRecord) -> list[Conversation]:
        pairs = pair_conversations(record, self.question_prompt) if self.preference != "none" else []
        return (self._reflective(record) if self.preference != "only" else []) + pairs

    def _reflective(self, record: ReverieRecord) -> list[Conversation]:
        if self.context == "plain" and self.kinds != "none":
            return self._plain(record)
        out = []
        for order in self.rationale_orders():
            build = self._cot if self.position == "cot" and order else self._post_hoc
            suffix = "-".join(order) or "answer"
            conv = Conversation(
                id=f"{record.id}:{suffix}", turns=build(record, order), image=record.image, origin=record.origin
            )
            if record.image is None:  # text-only record: no placeholder to show
                conv.turns[0] = Turn.user(conv.turns[0].text.replace(IMAGE_PLACEHOLDER, "").lstrip("\n"))
            conv.validate()
            out.append(conv)
        return out

    def _plain(self, record: ReverieRecord) -> list[Conversation]:
        """The answer sample, then each rationale as the reply to ``plain_prompt``: a sample of its own (own origin,
        so no shared-prefix tree joins it to the question)."""
        (answer,) = ReflectionPolicy(kinds="none", question_prompt=self.question_prompt)._reflective(record)
        out = [answer]
        for (kind,) in self.rationale_orders():
            text, segment = (
                (record.correct_rationale, Segment.POS_RATIONALE)
                if kind == "pos"
                else (record.incorrect_rationale, Segment.NEG_RATIONALE)
            )
            prompt = self.plain_prompt if record.image is not None else self.plain_prompt.replace(IMAGE_PLACEHOLDER, "")
            conv = Conversation(
                id=f"{record.id}:plain-{kind}",
                turns=[Turn.user(prompt.lstrip("\n")), Turn.assistant(Part(text, segment))],
                image=record.image,
                origin=f"{record.origin}:plain-{kind}",
            )
            conv.validate()
            out.append(conv)
        return out

    def place_image(self, conv: Conversation) -> Conversation:
        """LLaVA data puts the image first (`<image>\\n{question}`); re-lay its first user turn out as
        `question_prompt` says, so every image sample, and evaluation, share one layout (e.g. question first)."""
        first = next((i for i, t in enumerate(conv.turns) if t.role == "user"), None)
        head = f"{IMAGE_PLACEHOLDER}\n"
        if first is None or conv.image is None or not conv.turns[first].text.startswith(head):
            return conv
        turns = list(conv.turns)
        turns[first] = Turn.user(self.question_prompt.format(question=turns[first].text[len(head) :]))
        return Conversation(id=conv.id, turns=turns, image=conv.image, origin=conv.origin, meta=conv.meta)

    def _question(self, record: ReverieRecord) -> str:
        return self.question_prompt.format(question=record.question)

    def _post_hoc(self, record: ReverieRecord, order: tuple[str, ...]) -> list[Turn]:
        turns = [Turn.user(self._question(record)), Turn.assistant(Part(record.correct_answer, Segment.ANSWER))]
        for kind in order:
            if kind == "pos":
                turns += [
                    Turn.user(self.pos_prompt),
                    Turn.assistant(Part(record.correct_rationale, Segment.POS_RATIONALE)),
                ]
            else:
                prompt = fill_confusing(self.neg_prompt, record.confusing_answer)
                turns += [Turn.user(prompt), Turn.assistant(Part(record.incorrect_rationale, Segment.NEG_RATIONALE))]
        return turns

    def _cot(self, record: ReverieRecord, order: tuple[str, ...]) -> list[Turn]:
        question = self._question(record)
        parts: list[Part] = []
        for i, kind in enumerate(order):
            if i:
                parts.append(Part(" "))
            if kind == "pos":
                question += self.cot_pos_suffix
                parts.append(Part(record.correct_rationale, Segment.POS_RATIONALE))
            else:
                question += fill_confusing(self.cot_neg_suffix, record.confusing_answer)
                parts.append(Part(record.incorrect_rationale, Segment.NEG_RATIONALE))
        parts += [Part(self.cot_separator), Part(record.correct_answer, Segment.ANSWER)]
        return [Turn.user(question), Turn.assistant(*parts)]


def fill_confusing(text: str, answer: str) -> str:
    """`text` with its {confusing_answer} filled in; an answer that ends a sentence itself (". ! ?") takes the place of
    the full stop after the placeholder, so the prompt never reads "wrong: A dog.."."""
    answer = answer.strip()
    if answer.endswith((".", "!", "?")):
        text = text.replace("{confusing_answer}.", "{confusing_answer}")
    return text.format(confusing_answer=answer)
