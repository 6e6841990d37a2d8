"""TF1's tutorial `mnist.py` (Mechanics 101 builders), as a drop-in.

Implemented in `graphnet.nn.mlp`; this module keeps the name users type.
"""

from graphnet.nn.mlp import IMAGE_PIXELS
from graphnet.nn.mlp import IMAGE_SIZE
from graphnet.nn.mlp import NUM_CLASSES
from graphnet.nn.mlp import OPTIMIZERS
from graphnet.nn.mlp import check_hidden_units
from graphnet.nn.mlp import evaluation
from graphnet.nn.mlp import inference
from graphnet.nn.mlp import l2_regularizer
from graphnet.nn.mlp import loss
from graphnet.nn.mlp import make_optimizer
from graphnet.nn.mlp import moving_average_getter
from graphnet.nn.mlp import placeholder_inputs
from graphnet.nn.mlp import training

__all__ = [
  'NUM_CLASSES',
  'IMAGE_SIZE',
  'IMAGE_PIXELS',
  'OPTIMIZERS',
  'placeholder_inputs',
  'inference',
  'loss',
  'training',
  'evaluation',
  'moving_average_getter',
  'make_optimizer',
  'l2_regularizer',
  'check_hidden_units',
]
