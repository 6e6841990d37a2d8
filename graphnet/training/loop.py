"""The in-graph training loop that both input paths build on.

`steps_loop` runs a training step N times inside one `session.run`
(a `tf.while_loop`); `isolated_collections` gives its body empty
collections (penalties, batch-norm updates, summaries) so that it uses only
its own ops; `reuse_only_getter` makes the body reuse the variables made
before it. `input_pipeline.FedBatches` and `input_pipeline.ResidentInputs`
supply the batches.

Example:
    with loop.isolated_collections(loop.STEP_COLLECTIONS):
      loss = step_fn(images, labels)
"""

import contextlib

import numpy as np
import tensorflow.compat.v1 as tf

from graphnet import errors

__all__ = [
  'STEP_COLLECTIONS',
  'local_variable',
  'isolated_collections',
  'reuse_only_getter',
  'all_variables',
  'check_batches',
  'loop_outputs',
  'pixel_scale',
  'steps_loop',
]

# Collections a training step both appends to and reads back (penalties,
# batch-norm updates, summaries). The loop body starts them empty so it
# uses only its own ops, and the outer graph gets back what it had.
STEP_COLLECTIONS = (
  tf.GraphKeys.REGULARIZATION_LOSSES,
  'losses',
  tf.GraphKeys.UPDATE_OPS,
  tf.GraphKeys.SUMMARIES,
)


def local_variable(initial_value, name):
  """A non-trainable LOCAL variable (filled per session, never saved)."""
  return tf.Variable(
    initial_value,
    trainable=False,
    collections=[tf.GraphKeys.LOCAL_VARIABLES],
    name=name,
  )


@contextlib.contextmanager
def isolated_collections(keys):
  """Empties the collections `keys` inside the block, restores them after."""
  saved = {}
  for key in keys:
    ref = tf.get_collection_ref(key)
    saved[key] = list(ref)
    del ref[:]
  try:
    yield
  finally:
    for key, values in saved.items():
      tf.get_collection_ref(key)[:] = values


def reuse_only_getter(variables):
  """A custom getter returning existing variables; creating one raises."""
  by_name = {v.op.name: v for v in variables}

  def _getter(getter, name, *args, **kwargs):
    del getter, args, kwargs  # Never create: only look up.
    if name not in by_name:
      raise errors.ConfigError(
        f'The in-graph training loop (steps_per_run > 1 or input_pipeline '
        f'resident) would create variable {name!r} inside the loop body; '
        'every variable must exist before the loop. Build the step once on '
        'the placeholders first, or train with input_pipeline feed and '
        'steps_per_run 1.'
      )
    return by_name[name]

  return _getter


def all_variables():
  """Every global and local variable of the default graph."""
  return tf.global_variables() + tf.local_variables()


def check_batches(data_set, batch_size, pipeline):
  """Raises DataError unless `data_set` gives int-labelled batches."""
  num = data_set.num_examples
  if not 1 <= batch_size <= num:
    raise errors.DataError(
      f'batch_size {batch_size}: the {pipeline} input pipeline needs a '
      f'batch size in [1, {num}] (the training set has {num} examples).'
    )
  shape = np.shape(data_set.labels)
  if len(shape) != 1:
    raise errors.DataError(
      f'The {pipeline} input pipeline needs int labels [N], found shape '
      f'{list(shape)}; read the data with one_hot=False.'
    )


def loop_outputs(inputs, first_loss, last_loss):
  """(loss, train_op) of a loop; sets `inputs.last_loss`."""
  loss = tf.identity(first_loss, name='train_loop_loss')
  inputs.last_loss = tf.identity(last_loss, name='train_loop_last_loss')
  return loss, tf.group(loss, inputs.last_loss, name='train_loop_op')


def pixel_scale():
  """float32 scalar 255 for `pixels / scale`, exactly as `DataSet.images`.

  A placeholder with a default rather than a constant: TF turns division
  by a constant into multiplication by its reciprocal, one rounding away
  from NumPy's division, and the fed loop promises the very batches of
  `next_batch`.
  """
  return tf.placeholder_with_default(np.float32(255.0), [], name='pixel_scale')


def steps_loop(step_fn, num_steps, draw, state):
  """`num_steps` steps of `step_fn` in a `tf.while_loop`.

  Args:
    step_fn: as in `ResidentInputs.train_loop`.
    num_steps: int32 scalar tensor (or int), >= 0.
    draw: function (i, *state) -> (images, labels, *new_state): the batch
      of iteration `i` (int32 scalar tensor).
    state: tuple of tensors threaded through the iterations.

  Returns:
    ((first step's loss, last step's loss), float32 scalars, 0.0 when no
    step ran; final state).

  Raises:
    ConfigError: `step_fn` creates a variable inside the loop.
  """
  before = set(v.ref() for v in all_variables())
  getter = reuse_only_getter(all_variables())

  def _cond(i, *unused):
    del unused
    return i < num_steps

  def _body(i, first_loss, unused_last, *carried):
    del unused_last
    images, labels, *carried = draw(i, *carried)
    with (
      tf.variable_scope(tf.get_variable_scope(), custom_getter=getter),
      isolated_collections(STEP_COLLECTIONS),
    ):
      loss, step_op = step_fn(images, labels)
    # The step's loss is read before its update: the loss of step `start`,
    # as one step per run reports it.
    loss = tf.cast(loss, tf.float32)
    first_loss = tf.where(tf.equal(i, 0), loss, first_loss)
    # The next iteration must read the weights this one wrote.
    with tf.control_dependencies([step_op]):
      return (
        i + 1,
        tf.identity(first_loss),
        tf.identity(loss),
        *map(tf.identity, carried),
      )

  outputs = tf.while_loop(
    _cond,
    _body,
    (tf.constant(0), tf.constant(0.0), tf.constant(0.0), *state),
    parallel_iterations=1,
    back_prop=False,
    name='train_loop',
  )
  created = [v for v in all_variables() if v.ref() not in before]
  if created:
    raise errors.ConfigError(
      'The in-graph training loop created variables inside its body: '
      f'{[v.op.name for v in created]}. Build the step once before the '
      'loop so they exist, or train with input_pipeline feed and '
      'steps_per_run 1.'
    )
  return (outputs[1], outputs[2]), tuple(outputs[3:])
