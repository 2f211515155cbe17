"""LightningModules for training feed-forward style networks."""
