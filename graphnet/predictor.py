"""`Predictor`: restore a checked `.meta` graph and checkpoint, predict.

Implemented in `graphnet.serving.predictor`; this module keeps the name
users type.
"""

from graphnet.serving.predictor import DEFAULT_TIMEOUT_SECS
from graphnet.serving.predictor import IMAGE_PIXELS
from graphnet.serving.predictor import IMAGE_SIZE
from graphnet.serving.predictor import INPUT_NAME
from graphnet.serving.predictor import NUM_CLASSES
from graphnet.serving.predictor import OUTPUT_NAMES
from graphnet.serving.predictor import Predictor
from graphnet.serving.predictor import frozen_graph_def
from graphnet.serving.predictor import load_images
from graphnet.serving.predictor import read_meta_graph
from graphnet.serving.predictor import resolve_checkpoint
from graphnet.serving.predictor import to_batch

__all__ = [
  'resolve_checkpoint',
  'read_meta_graph',
  'frozen_graph_def',
  'IMAGE_SIZE',
  'IMAGE_PIXELS',
  'NUM_CLASSES',
  'INPUT_NAME',
  'OUTPUT_NAMES',
  'DEFAULT_TIMEOUT_SECS',
  'Predictor',
  'to_batch',
  'load_images',
]
