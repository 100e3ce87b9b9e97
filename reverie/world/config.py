"""WorldConfig: every option of the built-in world, with validation that explains what is wrong."""

from __future__ import annotations

from dataclasses import asdict, dataclass, field
from typing import Any

from reverie.errors import InputError
from reverie.world.vocab import THEME_NAMES, make_vocab

GRID = 3  # the scene grid is GRID x GRID cells
MIN_CELL_PX = 12  # below this a small glyph is only a few pixels and categories blur together
QUESTION_TYPES = ("short_answer", "yes_no", "multiple_choice", "open_ended")
QUESTION_KINDS = ("existence", "count", "color", "position", "relation")  # kinds of the dense single questions
COOCCUR_TYPES = ("yes_no", "multiple_choice", "open_ended")  # question types a co-occurrence REVERIE record can take


def _default_reverie_types() -> dict[str, float]:
    return {"short_answer": 0.4, "yes_no": 0.2, "multiple_choice": 0.2, "open_ended": 0.2}


def _default_cooccur_types() -> dict[str, float]:
    return {"yes_no": 0.5, "multiple_choice": 0.2, "open_ended": 0.3}


def _default_question_kinds() -> dict[str, float]:
    return {"existence": 0.6, "count": 0.1, "color": 0.1, "position": 0.1, "relation": 0.1}


@dataclass
class WorldConfig:
    """Options of the built-in world. Same options (seed included) give byte-identical outputs."""

    num_images: int = 600  # images over all splits
    seed: int = 0  # seeds every random choice (numpy Generator streams, one per stage)
    image_size: int = 48  # side of the square PNG in pixels; 3x3 grid, so 48 gives 16 px cells
    bias_strength: float = 0.8  # chance an object is drawn from the scene's theme instead of from all categories
    themes: list[str] | None = None  # subset of themes by name (kitchen, garden, office, beach); None = all
    popularity_skew: float = 0.5  # within a theme, category weight ~ 1/(rank+1)**skew; 0 = all equally common
    min_objects: int = 1  # fewest objects in a scene
    max_objects: int = 6  # most objects in a scene (at most 9, one per cell)
    val_fraction: float = 0.1  # share of images in the val split
    test_fraction: float = 0.1  # share of images in the test split; train gets the rest
    vqa_turns: int = 3  # questions per LLaVA VQA conversation (one conversation per image)
    reverie_per_image: int = 3  # REVERIE records per image
    reverie_types: dict[str, float] = field(default_factory=_default_reverie_types)  # question-type mix (weights)
    reverie_cooccur_share: float = 0.5  # share of REVERIE records about object hallucination: the confusing answer
    # names an absent theme-mate of the present objects (exact over a split, bar scenes without one); the rest as above
    reverie_cooccur_types: dict[str, float] = field(default_factory=_default_cooccur_types)  # their form (weights):
    # yes_no "Is there a <mate>?" (No), multiple_choice with the mate as the confusing option, open_ended inventory
    questions_per_image: int = 8  # dense single-question samples per image (llava/questions_{split}.json)
    question_kinds: dict[str, float] = field(default_factory=_default_question_kinds)  # their kind mix (weights)
    questions_yes_share: float = 0.5  # share of their existence questions about a present object
    questions_mate_share: float = 0.7  # share of their absent-object questions about a theme-mate (else any absent)
    questions_suffix_share: float = 0.4  # share of dense questions ending "\nAnswer the question using a single word
    # or phrase." (LLaVA-1.5's short-answer instruction, lmms-eval's POPE prompt): the model answers both prompt styles
    mcq_train_per_image: int = 2  # multiple-choice samples per image (llava/mcq_{split}.json), LLaVA-style: options
    # lettered A., B., ..., then "Answer with the option's letter from the given choices directly."; answer = the letter
    mate_questions_per_image: int = 8  # hard existence questions per image (llava/mate_questions_{split}.json):
    # half about a present object, half about an absent theme-mate; the positive control's data (experiments/04)
    pope_per_image: int = 3  # POPE: present objects probed per image, each paired with one absent object
    mcq_per_image: int = 2  # multiple-choice evaluation questions per val/test image

    def to_dict(self) -> dict[str, Any]:
        return asdict(self)

    def split_sizes(self) -> dict[str, int]:
        """Images per split (train, val, test), in that order; each split gets at least one image."""
        n_val = max(1, round(self.num_images * self.val_fraction))
        n_test = max(1, round(self.num_images * self.test_fraction))
        return {"train": self.num_images - n_val - n_test, "val": n_val, "test": n_test}

    def validate(self) -> None:
        """Raise ValueError with a clear message for any option that cannot produce a sensible world."""
        _check_int(self, "num_images", 1)
        if self.num_images < 3:
            raise InputError(f"num_images={self.num_images}: need at least 3 images (one per train/val/test split)")
        _check_int(self, "seed", 0)
        _check_int(self, "image_size", GRID * MIN_CELL_PX)
        _check_int(self, "min_objects", 1)
        _check_int(self, "max_objects", self.min_objects)
        if self.max_objects > GRID * GRID:
            raise InputError(f"max_objects={self.max_objects}: a scene has only {GRID * GRID} cells")
        _check_fraction(self, "bias_strength", 0.0, 1.0)
        _check_fraction(self, "popularity_skew", 0.0, 5.0)
        _check_fraction(self, "val_fraction", 0.0, 0.5)
        _check_fraction(self, "test_fraction", 0.0, 0.5)
        if self.split_sizes()["train"] < 1:
            raise InputError(f"num_images={self.num_images} leaves no training images after val/test splits")
        _check_int(self, "vqa_turns", 1)
        _check_int(self, "reverie_per_image", 0)
        _check_int(self, "questions_per_image", 0)
        _check_int(self, "mate_questions_per_image", 0)
        _check_fraction(self, "questions_yes_share", 0.0, 1.0)
        _check_fraction(self, "questions_mate_share", 0.0, 1.0)
        _check_fraction(self, "questions_suffix_share", 0.0, 1.0)
        _check_int(self, "mcq_train_per_image", 0)
        _check_weights("question_kinds", self.question_kinds, QUESTION_KINDS)
        _check_int(self, "pope_per_image", 1)
        _check_int(self, "mcq_per_image", 1)
        if self.themes is not None:
            if isinstance(self.themes, str):
                raise InputError(f"themes must be a list of names, not the string {self.themes!r}")
            make_vocab(self.themes)  # raises on unknown names
        _check_weights("reverie_types", self.reverie_types, QUESTION_TYPES)
        _check_fraction(self, "reverie_cooccur_share", 0.0, 1.0)
        _check_weights("reverie_cooccur_types", self.reverie_cooccur_types, COOCCUR_TYPES)


def _check_weights(name: str, weights: dict[str, float], known: tuple[str, ...]) -> None:
    unknown = sorted(set(weights) - set(known))
    if unknown:
        raise InputError(f"{name}: unknown key(s) {unknown}; known: {', '.join(known)}")
    values = list(weights.values())
    if any(isinstance(w, bool) or not isinstance(w, int | float) or w < 0 for w in values) or sum(values) <= 0:
        raise InputError(f"{name} weights must be >= 0 and not all zero, got {weights}")


def _check_int(cfg: WorldConfig, name: str, minimum: int) -> None:
    value = getattr(cfg, name)
    if isinstance(value, bool) or not isinstance(value, int):
        raise InputError(f"{name} must be an integer, got {value!r}")
    if value < minimum:
        hint = ""
        if name == "image_size":
            hint = f" (a {GRID}x{GRID} grid needs cells of at least {MIN_CELL_PX} px to keep glyphs recognisable)"
        raise InputError(f"{name}={value} is too small: it must be at least {minimum}{hint}")


def _check_fraction(cfg: WorldConfig, name: str, low: float, high: float) -> None:
    value = getattr(cfg, name)
    if isinstance(value, bool) or not isinstance(value, int | float) or not low <= value <= high:
        raise InputError(f"{name} must be a number in [{low}, {high}], got {value!r}")


__all__ = ["GRID", "QUESTION_KINDS", "QUESTION_TYPES", "THEME_NAMES", "WorldConfig"]
