"""`python -m reverie.plan`: what a run will cost before it starts (parameters, memory per GPU, activations, FLOPs,
steps and wall time), computed from the run's own config with the model on the meta device."""
