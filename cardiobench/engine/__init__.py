"""Training and evaluation machinery: loops, checkpoints, seeds, devices, optimizers."""
