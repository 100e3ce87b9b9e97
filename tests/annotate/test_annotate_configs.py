"""annotate.yaml composes with every shipped annotator, and everything in it builds; typos fail loudly."""

from __future__ import annotations

from pathlib import Path

import pytest
from hydra import compose, initialize_config_dir
from hydra.errors import ConfigCompositionException
from hydra.utils import instantiate
from omegaconf import OmegaConf
from tiny_vlm import save_tiny_llava

from reverie.annotate.pipeline import PipelineSettings
from reverie.annotate.prompts import Prompts
from reverie.world import WorldConfig, build_world

CONF = Path(__file__).resolve().parents[2] / "reverie" / "conf"
ANNOTATORS = sorted(p.stem for p in (CONF / "annotator").glob("*.yaml"))


def make_cfg(*overrides: str):
    with initialize_config_dir(str(CONF), version_base="1.3"):
        return compose("annotate", ["images=/some/images", "out=/some/out", *overrides])


def backend_classes() -> set[str]:
    """Every annotator backend in the package: a class in `reverie.annotate.backends.*` with the `Backend` methods."""
    import importlib
    import inspect
    import pkgutil

    import reverie.annotate.backends as package

    found = set()
    for info in pkgutil.iter_modules(package.__path__):
        module = importlib.import_module(f"{package.__name__}.{info.name}")
        for name, cls in inspect.getmembers(module, inspect.isclass):
            methods = all(callable(getattr(cls, m, None)) for m in ("model_for", "complete", "close"))
            if cls.__module__ == module.__name__ and methods and not getattr(cls, "_is_protocol", False):
                found.add(f"{module.__name__}.{name}")
    return found


def test_every_backend_has_exactly_one_shipped_annotator_config() -> None:
    targets = [OmegaConf.load(CONF / "annotator" / f"{name}.yaml")._target_ for name in ANNOTATORS]
    assert len(targets) == len(set(targets)), targets
    assert set(targets) == backend_classes()
    assert len(targets) >= 3  # openai_chat, hf_local, world


@pytest.mark.parametrize("annotator", ANNOTATORS)
def test_every_annotator_composes_and_builds(annotator: str, tmp_path: Path) -> None:
    needs = {
        "openai": ["annotator.model=some-vlm", "annotator.api_key_env=null"],
        "hf_local": [f"annotator.path={save_tiny_llava(tmp_path / 'model')}", "annotator.device=cpu"],
        "world": [f"annotator.world={tmp_path / 'world'}"],
    }
    if annotator == "world":
        build_world(tmp_path / "world", WorldConfig(num_images=6, seed=0))
    cfg = make_cfg(f"annotator={annotator}", *needs[annotator])
    assert not OmegaConf.missing_keys(cfg.annotator)
    backend = instantiate(cfg.annotator)
    assert backend.model_for("qa") and backend.batch_size >= 1 and backend.concurrency >= 1
    assert isinstance(instantiate(cfg.pipeline), PipelineSettings)
    prompts = instantiate(cfg.prompts)
    assert isinstance(prompts, Prompts) and prompts == Prompts.default()
    backend.close()


def test_the_defaults_are_the_paper_settings() -> None:
    cfg = make_cfg()
    assert cfg.annotator._target_.endswith("OpenAIChat") and cfg.pipeline.questions_per_image == 3
    assert cfg.pipeline.judge is True
    assert OmegaConf.missing_keys(cfg) == {"annotator.model"}


@pytest.mark.parametrize("typo", ["annotator.modle=x", "pipeline.judeg=false", "prompts.qaa=x", "imags=/x"])
def test_a_typo_fails_at_composition(typo: str) -> None:
    with pytest.raises(ConfigCompositionException):
        make_cfg(typo)


def test_an_unknown_key_inside_an_annotator_fails_when_built() -> None:
    cfg = make_cfg("annotator.model=m", "annotator.api_key_env=null", "+annotator.colour=red")
    with pytest.raises(Exception, match="colour"):
        instantiate(cfg.annotator)


def test_the_shipped_prompts_are_the_papers_as_the_pipeline_sends_them() -> None:
    # Expected text written out here (the paper's official prompts), not read from the config under test.
    prompts = instantiate(make_cfg().prompts)
    qa = prompts.render("qa", num_questions=3)
    assert qa.startswith("As an image-based question-answer generator, your task is to create 3 challenging questions")
    assert (
        "[{question1, correct answer1, confusing answer1}, {question2, correct answer2, confusing answer2}, ...]" in qa
    )
    positive = prompts.render("positive", question="Q?", answer="A.")
    assert positive.startswith("You are an image-based question-answer analyst.")
    assert positive.endswith("\n\nQuestion: Q?\nAnswer: A.\nRationale:")
    negative = prompts.render("negative", question="Q?", answer="B.")
    assert negative.startswith("You are tasked with analyzing an image in relation to a specific question and an")
    assert negative.endswith("\n\nQuestion: Q?\nIncorrect Answer: B.\nRationale:")
    judge = prompts.render(
        "judge",
        question="Q?",
        correct_answer="A.",
        correct_rationale="because a",
        confusing_answer="B.",
        incorrect_rationale="not b",
    )
    assert "Respond 'No' if there is no contradiction. Respond 'Yes' if there is a contradiction" in judge
    for value in ("Q?", "A.", "because a", "B.", "not b"):
        assert value in judge
