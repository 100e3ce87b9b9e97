"""DFTG (Hu, Tu, Sang 2024, "diagnose first, then generate"): find the objects, attributes and counts a model
hallucinates in its own descriptions (`reverie.diagnose`), then build yes/no instructions aimed at them
(`reverie.targeted`) to mix into fine-tuning.

Parts: `extract` (description -> object/attribute/count triples), `truth` and `detectors` (what is really in an
image), `judge` (triples against truth), `profile` (aggregated hallucination profile), `generate` and `verify`
(targeted data checked against the truth), `data` (mixing the data into training), `specificity` (comparing
two profiles).
"""
