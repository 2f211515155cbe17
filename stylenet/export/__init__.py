"""Export trained networks to ONNX (fp32, fp16, INT8), check them against PyTorch, write cards.

Modules: ``contract`` (names, metadata, opset), ``onnx`` (export, parity), ``variants``
(fp16, INT8), ``calibration`` (INT8 calibration images), ``card`` (model cards) and
``bundle`` (all of it for one network).
"""
