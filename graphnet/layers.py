"""Graph-mode layer objects (`Dense`, `Conv2D`, ..., `Sequential`).

Implemented in `graphnet.nn.layers`; this module keeps the name users type.
"""

from graphnet.nn.layers import BatchNorm
from graphnet.nn.layers import Conv2D
from graphnet.nn.layers import Dense
from graphnet.nn.layers import Dropout
from graphnet.nn.layers import Flatten
from graphnet.nn.layers import Layer
from graphnet.nn.layers import MaxPool2D
from graphnet.nn.layers import Reshape
from graphnet.nn.layers import Sequential
from graphnet.nn.layers import fan_in_truncated_normal

__all__ = [
  'fan_in_truncated_normal',
  'Layer',
  'Dense',
  'Conv2D',
  'MaxPool2D',
  'Flatten',
  'Reshape',
  'Dropout',
  'BatchNorm',
  'Sequential',
]
