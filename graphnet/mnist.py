"""TF1's tutorial `mnist.py` (Mechanics 101 builders), as a drop-in.

The names users type; `graphnet.nn.mlp` implements them.
"""

from graphnet.nn import mlp as _impl
from graphnet.nn.mlp import IMAGE_PIXELS as IMAGE_PIXELS
from graphnet.nn.mlp import IMAGE_SIZE as IMAGE_SIZE
from graphnet.nn.mlp import NUM_CLASSES as NUM_CLASSES
from graphnet.nn.mlp import OPTIMIZERS as OPTIMIZERS
from graphnet.nn.mlp import check_hidden_units as check_hidden_units
from graphnet.nn.mlp import evaluation as evaluation
from graphnet.nn.mlp import inference as inference
from graphnet.nn.mlp import l2_regularizer as l2_regularizer
from graphnet.nn.mlp import loss as loss
from graphnet.nn.mlp import make_optimizer as make_optimizer
from graphnet.nn.mlp import moving_average_getter as moving_average_getter
from graphnet.nn.mlp import placeholder_inputs as placeholder_inputs
from graphnet.nn.mlp import training as training

__all__ = list(_impl.__all__)
