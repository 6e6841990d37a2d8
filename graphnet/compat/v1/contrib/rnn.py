"""TF1's `tf.contrib.rnn`: the cells, `static_rnn` and bidirectional RNNs.

`from graphnet.compat.v1.contrib import rnn` stands for
`from tensorflow.contrib import rnn`. The cells are
`graphnet.compat.v1.rnn_cell`'s (TF 1.15's names and variables);
`static_rnn`, `static_bidirectional_rnn` and `static_state_saving_rnn` are
TF core's, which TF 2.21 keeps. `stack_bidirectional_dynamic_rnn` runs
one `bidirectional_dynamic_rnn` per layer as TF 1.15's did, with its
variable names (`stack_bidirectional_rnn/cell_0/bidirectional_rnn/fw/...`).

`LayerNormBasicLSTMCell` is TF 1.15's too (its variables: see
`graphnet.compat.v1._rnn_layer_norm`). The rest of contrib.rnn (block and
fused LSTMs, attention and NAS cells, ...) is not provided; asking for it
raises `graphnet.errors.NotProvidedError`.

Example:
    from graphnet.compat.v1.contrib import rnn
    cell = rnn.BasicLSTMCell(128, forget_bias=1.0)
    outputs, states = rnn.static_rnn(cell, tf.unstack(x, 28, 1),
                                     dtype=tf.float32)
"""

import tensorflow.compat.v1 as _tf

from graphnet import compat as _compat
from graphnet import errors
from graphnet.compat.v1 import _rnn_layer_norm
from graphnet.compat.v1 import rnn_cell

__all__ = [
  *_compat.reexport(globals(), [rnn_cell]),
  'LayerNormBasicLSTMCell',
  'static_rnn',
  'static_bidirectional_rnn',
  'static_state_saving_rnn',
  'stack_bidirectional_dynamic_rnn',
]

LayerNormBasicLSTMCell = _rnn_layer_norm.LayerNormBasicLSTMCell

static_rnn = _tf.nn.static_rnn
static_bidirectional_rnn = _tf.nn.static_bidirectional_rnn
static_state_saving_rnn = _tf.nn.static_state_saving_rnn


def stack_bidirectional_dynamic_rnn(
  cells_fw,
  cells_bw,
  inputs,
  initial_states_fw=None,
  initial_states_bw=None,
  dtype=None,
  sequence_length=None,
  parallel_iterations=None,
  time_major=False,
  scope=None,
  swap_memory=False,
):
  """Bidirectional layers stacked: each reads the last one's outputs.

  Layer i runs `tf.nn.bidirectional_dynamic_rnn` in the variable scope
  `<scope or 'stack_bidirectional_rnn'>/cell_<i>`; its input is the
  forward and backward outputs of layer i - 1 concatenated on depth.

  Args:
    cells_fw: a list of cells, one per layer.
    cells_bw: a list of cells as long as `cells_fw`.
    inputs: [batch, time, depth] (or [time, batch, depth] if time_major).
    initial_states_fw: optional list of initial states, one per layer.
    initial_states_bw: the same for the backward cells.
    dtype: the state's dtype, needed without initial states.
    sequence_length: optional int32 [batch], each sequence's length.
    parallel_iterations: as for `tf.nn.dynamic_rnn`.
    time_major: whether `inputs` (and the outputs) are time-major.
    scope: the variable scope; default 'stack_bidirectional_rnn'.
    swap_memory: as for `tf.nn.dynamic_rnn`.

  Returns:
    `(outputs, states_fw, states_bw)`: outputs [batch, time, fw + bw
    output sizes] of the last layer, and tuples of each layer's final
    states.

  Raises:
    ConfigError: cell lists empty, not lists, or of different lengths, or
      initial states not one per layer.
  """
  _check_layers(cells_fw, cells_bw, initial_states_fw, initial_states_bw)
  states_fw = []
  states_bw = []
  layer_input = inputs
  with _tf.variable_scope(scope or 'stack_bidirectional_rnn'):
    for i, (cell_fw, cell_bw) in enumerate(
      zip(cells_fw, cells_bw, strict=True)
    ):
      with _tf.variable_scope(f'cell_{i}'):
        outputs, (state_fw, state_bw) = _tf.nn.bidirectional_dynamic_rnn(
          cell_fw,
          cell_bw,
          layer_input,
          initial_state_fw=initial_states_fw[i] if initial_states_fw else None,
          initial_state_bw=initial_states_bw[i] if initial_states_bw else None,
          sequence_length=sequence_length,
          parallel_iterations=parallel_iterations,
          dtype=dtype,
          swap_memory=swap_memory,
          time_major=time_major,
        )
        layer_input = _tf.concat(outputs, 2)  # [batch, time, fw + bw]
      states_fw.append(state_fw)
      states_bw.append(state_bw)
  return layer_input, tuple(states_fw), tuple(states_bw)


def _check_layers(cells_fw, cells_bw, initial_states_fw, initial_states_bw):
  if not isinstance(cells_fw, list) or not isinstance(cells_bw, list):
    raise errors.ConfigError(
      'stack_bidirectional_dynamic_rnn: cells_fw and cells_bw must be lists '
      f'of cells (one per layer), got {type(cells_fw).__name__} and '
      f'{type(cells_bw).__name__}.',
      field='cells_fw',
    )
  if not cells_fw or len(cells_fw) != len(cells_bw):
    raise errors.ConfigError(
      'stack_bidirectional_dynamic_rnn: cells_fw and cells_bw must be '
      f'non-empty and of one length, got {len(cells_fw)} and '
      f'{len(cells_bw)} cells.',
      field='cells_fw',
    )
  for field, states in (
    ('initial_states_fw', initial_states_fw),
    ('initial_states_bw', initial_states_bw),
  ):
    if states is not None and (
      not isinstance(states, list) or len(states) != len(cells_fw)
    ):
      raise errors.ConfigError(
        f'stack_bidirectional_dynamic_rnn: {field} must be a list of '
        f'{len(cells_fw)} states (one per layer), got {states!r}.',
        field=field,
      )


__getattr__ = _compat.not_provided(
  'tf.contrib.rnn',
  'is not provided: graphnet.compat.v1.contrib.rnn has the core cells and '
  f'RNN functions ({", ".join(__all__)}). Use one of those, or '
  'tf.nn.dynamic_rnn with your own RNNCell subclass.',
)
