"""Optimisation methods on image pixels (Gatys, texture synthesis, inversion, ...): functions of
tensors and modules that never see a config."""
