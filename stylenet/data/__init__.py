"""Image I/O, colour utilities and the training photos' crops."""
