"""Several training steps per `session.run`: the model_fn in a while loop.

TF1's TPUEstimator ran `iterations_per_loop` steps per `session.run`; an
Estimator here does the same on the CPU when nothing watches single steps:
the input_fn gives a `tf.data.Dataset` (its own, or `numpy_input_fn`'s and
`pandas_input_fn`'s), the hooks given to `train` are ones a loop serves
(`loop_hooks`) and the `model_fn` returns none (nor a scaffold of its
own). Every run then costs one Python round trip for up to N steps
instead of N.

The `model_fn` is called once, inside the body of a `tf.while_loop` that
takes the next batch, runs the `train_op` and returns the loss; variables
(and optimizer slots) made there are created in the outer graph (TF makes
resource variables in an init scope), with the names a plain call gives.
What the body adds to graph collections (its summaries, losses, update
ops) belongs to the loop body and is dropped from the outer graph's
collections. The model_fn's summaries are merged in the body and leave
the loop as one serialized `Summary` of the run's last step, put in the
outer graph's `SUMMARIES`: the Estimator's summary hook writes it, with
the `loss` summary, at the global step the run ended at.

Example:
    built = build(graph, dataset, call_model_fn, steps_per_run=100)
    if built is None:
      ...  # build one step per run instead
"""

import tensorflow.compat.v1 as tf

from graphnet.compat.v1.estimator import model_fn as model_fn_lib

__all__ = ['LoopSpec', 'build', 'steps_per_run']

# Upper bound of steps per run: a run's wall time stays short enough for
# SIGINT, logging and time-based checkpoints to act promptly.
MAX_STEPS_PER_RUN = 100


class LoopSpec:
  """What `build` made: the spec to train with and the count to feed."""

  def __init__(self, spec, count, steps_per_run, first_loss):
    # EstimatorSpec whose `train_op` runs the loop and whose `loss` is the
    # last step's loss.
    self.spec = spec
    # float32 scalar: the loss of the run's first step (TF1's log lines).
    self.first_loss = first_loss
    # int32 scalar placeholder: steps the next run makes.
    self.count = count
    self.steps_per_run = steps_per_run


def steps_per_run(config, intervals=()):
  """Steps per run that keep every step-based interval of `config` exact.

  Args:
    config: the `RunConfig`.
    intervals: other intervals in steps to keep (the hooks' logging).

  Returns:
    the greatest common divisor of the logging, summary and checkpoint
    intervals given in steps, at most `MAX_STEPS_PER_RUN`.
  """
  n = 0
  for interval in (
    config.log_step_count_steps,
    config.save_summary_steps,
    config.save_checkpoints_steps,
    *intervals,
  ):
    if interval:
      n = _gcd(n, interval)
  n = n or MAX_STEPS_PER_RUN
  while n > MAX_STEPS_PER_RUN:
    # The largest divisor of n within the bound keeps the intervals exact.
    n = max(d for d in range(1, MAX_STEPS_PER_RUN + 1) if n % d == 0)
  return n


def _gcd(a, b):
  while b:
    a, b = b, a % b
  return a


def _plain_scaffold(scaffold):
  return (
    all(
      getattr(scaffold, name) is None
      for name in (
        'saver',
        'init_op',
        'ready_op',
        'ready_for_local_init_op',
        'local_init_op',
        'summary_op',
      )
    )
    and scaffold._init_fn is None
  )  # noqa: SLF001 (no public getter)


def _drop_body_items(graph):
  """Removes what the loop body added to `graph`'s collections."""
  for key in graph.get_all_collection_keys():
    items = graph.get_collection_ref(key)
    items[:] = [x for x in items if getattr(x, 'graph', graph) is graph]


def _split(batch):
  if isinstance(batch, (tuple, list)) and len(batch) == 2:
    return batch[0], batch[1]
  return batch, None


def build(graph, iterator, call_model_fn, n, logged_names=()):
  """Builds the loop in `graph` (the default graph); None if it cannot.

  Args:
    graph: the training graph, default.
    iterator: the input dataset's initializable iterator.
    call_model_fn: function (features, labels) -> EstimatorSpec.
    n: steps per full run (> 1).
    logged_names: names of ops the model_fn makes whose (first) output a
      hook fetches by name: the loop hands out the run's last value under
      the same name in `graph`.

  Returns:
    a `LoopSpec`, or None when the model_fn's spec has hooks or a scaffold
    of its own, its loss is not a float32 scalar or a logged name is not
    in the body (then build the graph again with one step per run).
  """
  count = tf.placeholder_with_default(
    tf.constant(n, tf.int32), [], name='steps_per_run'
  )
  specs = []
  summaries = []
  dtypes = {}

  def body(i, unused_loss, first_loss, unused_summary, *unused_logged):
    features, labels = _split(iterator.get_next())
    before = tf.get_collection(tf.GraphKeys.SUMMARIES)
    spec = call_model_fn(features, labels)
    specs.append(spec)
    if spec.loss.dtype.base_dtype != tf.float32:
      raise _NoLoopError()
    made = _added(tf.GraphKeys.SUMMARIES, before)
    summaries.extend(made)
    summary = tf.summary.merge(made) if made else tf.constant('')
    logged = [_serialized(name, dtypes) for name in logged_names]
    with tf.control_dependencies([spec.train_op]):
      loss = tf.identity(spec.loss)
      return (
        i + 1,
        loss,
        tf.where(tf.equal(i, 0), loss, first_loss),
        tf.identity(summary),
        *[tf.identity(x) for x in logged],
      )

  start = [tf.constant(0), tf.constant(0.0), tf.constant(0.0)]
  strings = [tf.constant('') for _ in range(1 + len(logged_names))]
  try:
    _, loss, first_loss, summary, *logged = tf.while_loop(
      lambda i, *unused: i < count,
      body,
      [*start, *strings],
      name='train_loop',
    )
  except _NoLoopError:
    return None
  if not _named_in_graph(logged_names, logged, dtypes):
    return None
  spec = specs[0]
  if (
    spec.training_hooks
    or spec.training_chief_hooks
    or not _plain_scaffold(spec.scaffold)
  ):
    return None
  _drop_body_items(graph)
  if summaries:
    tf.add_to_collection(tf.GraphKeys.SUMMARIES, summary)
  loop_spec = model_fn_lib.EstimatorSpec(
    model_fn_lib.ModeKeys.TRAIN, loss=loss, train_op=loss.op
  )
  return LoopSpec(loop_spec, count, n, first_loss)


def _added(key, before):
  """What the default graph's collection `key` holds beyond `before`."""
  return [x for x in tf.get_collection(key) if not any(x is b for b in before)]


def _named_in_graph(names, values, dtypes):
  """Parses each serialized value under its name; False if one is taken.

  A hook then finds the run's last value of the body's tensor `name` as
  `name` in the outer graph.
  """
  for name, value in zip(names, values, strict=True):
    parsed = tf.io.parse_tensor(value, dtypes[name])
    if tf.identity(parsed, name=name).op.name != name:
      return False
  return True


def _serialized(name, dtypes):
  """The body's tensor `name`:0 as a string scalar; its dtype noted."""
  try:
    tensor = tf.get_default_graph().get_tensor_by_name(f'{name}:0')
  except (KeyError, ValueError):
    raise _NoLoopError() from None
  dtypes[name] = tensor.dtype
  return tf.io.serialize_tensor(tensor)


class _NoLoopError(Exception):
  """The model_fn's spec cannot run in the loop."""
