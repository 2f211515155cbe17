"""Image I/O, colour utilities and the training data module."""
