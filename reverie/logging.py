"""Sends evaluation results to the run's loggers: metrics to all, sample generations as a table where supported."""

from __future__ import annotations

from collections.abc import Mapping, Sequence

TABLE_ROWS = 50  # sample generations per task in a logger table
TABLE_COLUMNS = ("question_id", "image", "prompt", "output", "parsed", "label", "correct")


def log_eval(loggers: Sequence, metrics: Mapping[str, float], samples: Mapping[str, list], step: int) -> None:
    numeric = {f"eval/{k}": float(v) for k, v in metrics.items() if isinstance(v, int | float)}
    for logger in loggers:
        logger.log_metrics(numeric, step=step)
        if hasattr(logger, "log_table"):  # W&B
            for task, records in samples.items():
                rows = [[str(getattr(r, c)) for c in TABLE_COLUMNS] for r in records[:TABLE_ROWS]]
                logger.log_table(key=f"samples/{task}", columns=list(TABLE_COLUMNS), data=rows, step=step)
        logger.save()
