"""Data: sources on disk -> conversations -> tokenised, segment-tagged samples -> batches."""
