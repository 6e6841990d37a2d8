"""Graph-mode layer objects (`Dense`, `Conv2D`, ..., `Sequential`).

The names users type; `graphnet.nn.layers` implements them.
"""

from graphnet.nn import layers as _impl
from graphnet.nn.layers import BatchNorm as BatchNorm
from graphnet.nn.layers import Conv2D as Conv2D
from graphnet.nn.layers import Dense as Dense
from graphnet.nn.layers import Dropout as Dropout
from graphnet.nn.layers import Flatten as Flatten
from graphnet.nn.layers import Layer as Layer
from graphnet.nn.layers import MaxPool2D as MaxPool2D
from graphnet.nn.layers import Reshape as Reshape
from graphnet.nn.layers import Sequential as Sequential
from graphnet.nn.layers import (
  fan_in_truncated_normal as fan_in_truncated_normal,
)

__all__ = list(_impl.__all__)
