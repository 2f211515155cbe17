"""Networks: the frozen VGG feature extractor, the transformer network and its norms."""
