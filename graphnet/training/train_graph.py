"""Builds the training graph: model towers, optimizer, input path, outputs.

`build_train_graph(config, data_sets)` assembles, in a new `tf.Graph`, what
`trainer.run_training` runs; it knows nothing of sessions or hooks' timing.
The network comes from `models` (by `config.model.model`); the train tower
reads its batches through an `InputPath`:

* `FeedInputs` (`input_pipeline='feed'`, `steps_per_run` 1): TF1's
  feed_dict of each batch into the `images` / `labels` placeholders;
* `FeedLoopInputs` (`'feed'`, `steps_per_run` N > 1): N batches in
  `next_batch` order fed per `session.run`, N steps in an in-graph loop;
* `ResidentLoopInputs` (`'resident'`): the training set in graph variables and
  `steps_per_run` steps per `session.run` in an in-graph loop.

The graph takes the data's shape: `images` is `[None, *feature_shape]`
and the logits are `num_classes` wide (MNIST: 784 and 10).

The saved graph is a contract for notebooks and services (names from
`contract`): `images:0` (float32 `[None, *feature_shape]`), `labels:0` (int32
`[None]`), `logits:0`, `probabilities:0` and `predictions:0` (int64), the
last three computed with the weights the model evaluates with (the moving
averages when enabled).

Example:
    tg = build_train_graph(config, data_sets)
    with tg.graph.as_default(), tf.Session() as sess:
      sess.run(tf.global_variables_initializer())
      sess.run(tg.train_op, tg.inputs.feed_dict())
"""

import dataclasses
from typing import Protocol

import tensorflow.compat.v1 as tf

from graphnet import contract
from graphnet import errors
from graphnet import options
from graphnet.checkpoints import saver as saver_lib
from graphnet.distributed import cluster as cluster_lib
from graphnet.distributed import partitioned
from graphnet.nn import mlp as mnist
from graphnet.training import evaluation
from graphnet.training import input_pipeline
from graphnet.training import loop
from graphnet.training import schedules
from graphnet.training import session_config

__all__ = [
  'InputPath',
  'FeedInputs',
  'FeedLoopInputs',
  'ResidentLoopInputs',
  'TrainGraph',
  'fill_feed_dict',
  'build_train_graph',
]


class InputPath(Protocol):
  """How the train tower gets its batches.

  Attributes:
    images: float32 `[None, *feature_shape]` placeholder the step is first
      built on (also the evaluation tower's input and the contract's
      `images`).
    labels: int32 `[None]` placeholder.
    local_init_feed_dict: feed of the local-variable initializer (for
      `tf.train.Scaffold(local_init_feed_dict=...)`), or None.
  """

  images: tf.Tensor
  labels: tf.Tensor
  local_init_feed_dict: dict | None

  def build(self, step_fn, rate):
    """Builds the training op of one `session.run`.

    Args:
      step_fn: function (images, labels) -> (float32 scalar loss, train op),
        building one training step; it makes the variables on first call.
      rate: float32 scalar learning rate (for the summaries).

    Returns:
      (loss, train_op) of one run.
    """

  def feed_dict(self):
    """The feed of the next training run, or None."""


def fill_feed_dict(data_set, images_pl, labels_pl, batch_size):
  """Feeds the next `batch_size` examples of `data_set` (TF1's helper).

  Returns:
    {images_pl: float32 [batch_size, *feature_shape], labels_pl: int
    [batch_size]}.
  """
  images, labels = data_set.next_batch(batch_size)
  return {images_pl: images, labels_pl: labels}


class FeedInputs:
  """TF1's input path: batches fed into the placeholders by feed_dict."""

  # Nothing to feed when the local variables are initialised.
  local_init_feed_dict = None

  def __init__(self, data_set, images, labels, batch_size):
    """Feeds `batch_size` examples of `data_set` per run to the placeholders."""
    self.images, self.labels = images, labels
    self._data_set = data_set
    self._batch_size = batch_size

  def build(self, step_fn, rate):
    """(loss, train_op) of one step on the placeholders."""
    del rate  # mnist.training already summarises it.
    return step_fn(self.images, self.labels)

  def feed_dict(self):
    """The feed of the next training run."""
    return fill_feed_dict(
      self._data_set, self.images, self.labels, self._batch_size
    )


def _build_loop(inputs, step_fn, rate, max_steps, steps_per_run):
  """(first step's loss, train_op) of one in-graph loop of up to N steps.

  The first step's loss is what the Step lines print (the loss of the
  step the run starts at); the `loss` summary is the last step's.

  The step built on the placeholders makes the variables, slots and moving
  averages; its summaries would need a feed, so they are dropped and
  remade on the loop's loss.
  """
  with loop.isolated_collections([tf.GraphKeys.SUMMARIES]):
    step_fn(inputs.images, inputs.labels)
  global_step = tf.train.get_global_step()
  # The very tensor hooks fetch as the global step, so they read it
  # before the loop starts (the step the run started at).
  start = tf.get_default_graph().as_graph_element(global_step)
  remaining = tf.cast(max_steps - start, tf.int32)
  num_steps = tf.clip_by_value(remaining, 0, steps_per_run)
  loss, train_op = inputs.train_loop(step_fn, num_steps)
  # Written with the step the run ends at, as TF's summary saver does: the
  # loss of the step just before it.
  for tag, value in (('loss', inputs.last_loss), ('learning_rate', rate)):
    tf.add_to_collection(
      tf.GraphKeys.SUMMARIES,
      tf.raw_ops.ScalarSummary(tags=tag, values=value, name=f'{tag}_loop'),
    )
  return loss, train_op


class _LoopPath:
  """`build` of an in-graph loop of up to `config.steps_per_run` steps."""

  def _loop_config(self, config):
    self._steps_per_run = config.steps_per_run
    self._max_steps = config.max_steps

  def build(self, step_fn, rate):
    """(first step's loss, train_op) of one loop of up to N steps."""
    return _build_loop(
      self, step_fn, rate, self._max_steps, self._steps_per_run
    )


class ResidentLoopInputs(_LoopPath, input_pipeline.ResidentInputs):
  """The training set in the graph; up to `steps_per_run` steps per run."""

  def __init__(self, config, data_set, images, labels):
    """Puts `data_set` in the graph for `config` (batch size, seed, steps)."""
    super().__init__(
      data_set, images, labels, config.batch_size, seed=config.seed
    )
    self._loop_config(config)


class FeedLoopInputs(_LoopPath, input_pipeline.FedBatches):
  """`steps_per_run` batches of `next_batch` fed per run, looped in-graph."""

  def __init__(self, config, data_set, images, labels):
    """Feeds batches of `data_set` for `config` (batch size, steps)."""
    super().__init__(
      data_set, images, labels, config.batch_size, config.steps_per_run
    )
    self._loop_config(config)


@dataclasses.dataclass
class TrainGraph:
  """The parts of the training graph the loop and hooks need."""

  graph: tf.Graph
  global_step: tf.Variable
  images: tf.Tensor
  labels: tf.Tensor
  loss: tf.Tensor
  train_op: tf.Operation
  eval_tower: evaluation.EvalTower
  saver: tf.train.Saver
  # Hooks the graph needs to run: the learning-rate setter of a fed
  # schedule, the sync-replicas hook.
  hooks: list
  # The train tower's input path; its feed_dict() feeds each training run.
  inputs: InputPath


def _eval_note(config):
  if not config.moving_average_decay:
    return ''
  return (
    'Evaluating with the moving averages of the weights '
    f'(decay {config.moving_average_decay}).'
  )


def _rate_fn(schedule, rate, global_step):
  """The optimizer's learning rate, built in the graph that asks for it.

  In-graph schedules are rebuilt inside a training loop's body so each step
  reads the global step it is at; a fed rate (`piecewise_hook`) stays the
  placeholder, fed once per run.
  """
  outer = tf.get_default_graph()

  def _rate():
    if tf.get_default_graph() is outer or schedule.kind == 'piecewise_hook':
      return rate
    return schedules.learning_rate(schedule, global_step)[0]

  return _rate


def _build_towers(config, inputs, sync, num_classes):
  """Builds the train tower (through `inputs`) and the evaluation tower.

  Args:
    config: the `TrainConfig`.
    inputs: the train tower's `InputPath`.
    sync: a `cluster.SyncReplicas` to wrap the optimizer in, or None.
    num_classes: the data's class count, the logits' width.

  Returns:
    (loss, train_op, eval_logits, lr_hook or None).
  """
  spec, params = config.model.spec, config.model.params
  rate_l2 = config.model.regularization_rate
  regularizer = mnist.l2_regularizer(rate_l2) if rate_l2 else None
  global_step = tf.train.get_or_create_global_step()
  rate, lr_hook = schedules.learning_rate(
    config.schedule, global_step, steps_per_run=config.steps_per_run
  )
  ema = None
  if config.moving_average_decay:
    ema = tf.train.ExponentialMovingAverage(
      config.moving_average_decay, num_updates=global_step
    )
  # One optimizer object: a second step built with it (an in-graph loop's
  # body) reuses its slots instead of making new ones.
  optimizer = mnist.make_optimizer(
    config.optimizer,
    _rate_fn(config.schedule, rate, global_step),
    config.momentum,
  )
  train_ema = ema
  if sync is not None:
    # The chief applies the averages once per aggregated update instead.
    optimizer, train_ema = sync(optimizer, ema), None

  def step_fn(images, labels):
    logits = spec.logits(params, images, True, regularizer, num_classes)
    step_loss = mnist.loss(logits, labels)
    return step_loss, mnist.training(
      step_loss, rate, optimizer, config.momentum, train_ema, global_step
    )

  total_loss, train_op = inputs.build(step_fn, rate)
  getter = mnist.moving_average_getter(ema) if ema else None
  with (
    tf.variable_scope(
      tf.get_variable_scope(), reuse=True, custom_getter=getter
    ),
    tf.name_scope('eval'),
  ):
    eval_logits = spec.logits(params, inputs.images, False, None, num_classes)
  return total_loss, train_op, eval_logits, lr_hook


def _input_path(config, data_sets, images, labels):
  """The `InputPath` of `config.input_pipeline`."""
  if config.input_pipeline == 'resident':
    return ResidentLoopInputs(config, data_sets.train, images, labels)
  if config.steps_per_run > 1:
    return FeedLoopInputs(config, data_sets.train, images, labels)
  return FeedInputs(data_sets.train, images, labels, config.batch_size)


def _contract_outputs(eval_logits, model_name):
  """Names the restore contract's outputs at the root of the graph.

  TF would silently call them `logits_1`, ... when the model already used
  a name (a layer called `logits`), leaving a checkpoint that Predictor,
  export and mnist_eval cannot read; that is refused here instead.

  Returns:
    the float32 `logits` tensor `[batch, num_classes]`.

  Raises:
    ConfigError: the model took one of the contract's names.
  """
  logits = tf.identity(eval_logits, name=contract.LOGITS)
  outputs = (
    logits,
    tf.nn.softmax(logits, name=contract.PROBABILITIES),
    tf.argmax(logits, 1, name=contract.PREDICTIONS),
  )
  for wanted, tensor in zip(contract.OUTPUTS, outputs, strict=True):
    if tensor.op.name != wanted:
      raise errors.ConfigError(
        f'model {model_name!r}: a layer or variable scope of the model is '
        f"named {wanted!r}, which graphnet keeps for the saved graph's "
        f'output (it would have become {tensor.op.name!r}, and Predictor, '
        f'export and mnist_eval could not find it); rename that layer, '
        f'e.g. name={wanted + "_layer"!r}. Reserved names: '
        f'{", ".join(contract.OUTPUTS)}.',
        field='model',
      )
  return logits


def build_train_graph(config, data_sets, names=options.as_argument):
  """Builds the whole training graph of `config` in a new `tf.Graph`.

  Creates the global step, the placeholders `images` (`[None,
  *data_sets.feature_shape]`) and `labels`, the
  network's variables (e.g. `hidden1/`, `hidden2/`, `softmax_linear/`),
  optimizer slots, moving averages when enabled, and the named outputs
  `logits`, `probabilities`, `predictions` of the evaluation tower.

  Args:
    config: a `config.TrainConfig`.
    data_sets: the `input_data.Datasets` to train on.
    names: how messages name a config field (`options.as_argument`, or
      `options.as_flag` on the command line).

  Returns:
    a `TrainGraph`.

  Raises:
    ConfigError: the network's logits are not `data_sets.num_classes`
      wide, or it cannot take the data's feature shape.
    DataError: the resident pipeline cannot hold the training set.
  """
  graph = tf.Graph()
  device = session_config.resolve_device(config.session.device, names=names)
  sync = cluster_lib.SyncReplicas.for_config(config.cluster)
  if config.cluster is not None:
    # Variables on the ps tasks, compute on this worker.
    device = cluster_lib.device_setter(config.cluster, device)
  with (
    graph.as_default(),
    tf.device(device),
    # Large variables split over the ps tasks (None: not split). Not with
    # moving averages: their evaluation getter reads whole variables.
    tf.variable_scope(
      tf.get_variable_scope(),
      partitioner=(
        None
        if config.moving_average_decay
        else cluster_lib.partitioner(config.cluster)
      ),
    ),
  ):
    if config.seed is not None:
      tf.set_random_seed(config.seed)
    global_step = tf.train.get_or_create_global_step()
    images, labels = mnist.placeholder_inputs(
      feature_shape=data_sets.feature_shape
    )
    inputs = _input_path(config, data_sets, images, labels)
    total_loss, train_op, eval_logits, lr_hook = _build_towers(
      config, inputs, sync, data_sets.num_classes
    )
    logits = _contract_outputs(eval_logits, config.model.model)
    tower = evaluation.EvalTower(
      images,
      labels,
      mnist.evaluation(logits, labels),
      batch_size=config.model.spec.eval_batch_size,
      note=_eval_note(config),
    )
    # Relative paths in the `checkpoint` file keep a copied log_dir
    # self-contained (see checkpoints.localize_state); saver_lib.Saver
    # lists a checkpoint only once complete, and only its own directory's.
    # Variables split over the ps tasks are saved whole, as one process
    # saves them (partitioned.whole_var_list).
    saver = saver_lib.Saver(
      var_list=partitioned.whole_var_list(tf.global_variables()),
      max_to_keep=config.keep_checkpoint_max,
      save_relative_paths=True,
    )
  return TrainGraph(
    graph=graph,
    global_step=global_step,
    images=images,
    labels=labels,
    loss=total_loss,
    train_op=train_op,
    eval_tower=tower,
    saver=saver,
    hooks=[h for h in (lr_hook, sync) if h is not None],
    inputs=inputs,
  )
