"""`Predictor`: restore a checked `.meta` graph and checkpoint, predict.

The names users type; `graphnet.serving.predictor` implements them.
"""

from graphnet.serving import predictor as _impl
from graphnet.serving.predictor import (
  DEFAULT_TIMEOUT_SECS as DEFAULT_TIMEOUT_SECS,
)
from graphnet.serving.predictor import Predictor as Predictor
from graphnet.serving.predictor import load_images as load_images
from graphnet.serving.predictor import to_batch as to_batch

__all__ = list(_impl.__all__)
