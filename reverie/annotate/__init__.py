"""REVERIE annotation: the paper's three-step pipeline (questions with a correct and a confusing answer, a rationale
for each, a consistency judge) for any images, with pluggable annotators, a resumable cache and counted failures.

    python -m reverie.annotate images=/data/images out=/data/reverie annotator.model=MODEL   # OpenAI-compatible
    python -m reverie.annotate ... annotator=hf_local annotator.path=/models/llava-1.5-7b-hf
    python -m reverie.annotate ... annotator=world annotator.world=WORLD_DIR images=WORLD_DIR/images
"""

from reverie.annotate.pipeline import AnnotateResult, PipelineSettings, annotate
from reverie.annotate.prompts import Prompts

__all__ = ["AnnotateResult", "PipelineSettings", "Prompts", "annotate"]
