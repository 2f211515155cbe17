"""Inference: stylizers (PyTorch checkpoint or ONNX Runtime) and the image pipeline."""
