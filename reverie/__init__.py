"""reverie: train and evaluate vision-language models so that they hallucinate less."""

__version__ = "0.1.0"
