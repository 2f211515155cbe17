"""Command-line entry points: one thin Hydra wrapper per verb around a testable ``run(cfg)``."""
