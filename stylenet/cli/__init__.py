"""Command-line entry points: one thin Hydra wrapper per verb around a testable ``run(cfg)``."""

import os

# FFmpeg inside OpenCV logs its own diagnostics ("moov atom not found") to stderr before our
# one-line error; OpenCV reads this once, when it is imported (after this package).
os.environ.setdefault("OPENCV_FFMPEG_LOGLEVEL", "-8")
