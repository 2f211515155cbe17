"""stylenet: fast neural style transfer — train, optimise, export to ONNX, serve.

    import stylenet
    stylenet.stylize("photo.jpg", model="starry_night").save("starry.jpg")
    stylenet.stylize("photo.jpg", painting="any_painting.jpg").save("mine.jpg")

``stylize``, ``load`` and ``models`` (:mod:`stylenet.api`) are imported on first use, so
``import stylenet`` stays light; none of them needs torch.
"""

from __future__ import annotations

from typing import TYPE_CHECKING, Any

from stylenet.errors import StylenetError

if TYPE_CHECKING:
    from stylenet.api import ShippedModel, load, models, stylize

__version__ = "0.1.0"
__all__ = ["ShippedModel", "StylenetError", "__version__", "load", "models", "stylize"]
_API = ("ShippedModel", "load", "models", "stylize")


def __getattr__(name: str) -> Any:
    if name in _API:
        from stylenet import api

        return getattr(api, name)
    raise AttributeError(f"module 'stylenet' has no attribute {name!r}")
