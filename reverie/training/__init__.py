"""Training: objective, stages (what is frozen), optimiser, and the LightningModule."""
