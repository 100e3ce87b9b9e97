"""Models: vision encoder, projector and LLM with small contracts, composed into an LVLM."""
