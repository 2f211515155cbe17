"""stylenet: fast neural style transfer — train, optimise, export to ONNX, serve."""

from stylenet.errors import StylenetError

__version__ = "0.1.0"
__all__ = ["StylenetError", "__version__"]
