"""Trains the MNIST model under `MonitoredTrainingSession` (TF1's loop).

`run_training(config)` is what `python -m graphnet.fully_connected_feed`
runs: read the data, build the graph in its own `tf.Graph`, then

    with tf.train.MonitoredTrainingSession(...) as sess:
      while not sess.should_stop():
        sess.run(train_op, feed_dict=fill_feed_dict(...))

The saved graph is a contract for notebooks and services: `images:0`
(float32 `[None, 784]`), `labels:0` (int32 `[None]`), `logits:0`,
`probabilities:0` and `predictions:0` (int64), the last three computed with
the weights the model evaluates with (the moving averages when enabled).

Example:
    from graphnet import config, trainer
    result = trainer.run_training(
        config.TrainConfig(log_dir='/tmp/logs', input_data_dir='/tmp/data'))
    print(result.evaluations['test'].precision)
"""

import contextlib
import dataclasses
import os

import tensorflow.compat.v1 as tf

from graphnet import checkpoints
from graphnet import cluster as cluster_lib
from graphnet import contract
from graphnet import deep_mnist
from graphnet import errors
from graphnet import evaluation
from graphnet import hooks as hooks_lib
from graphnet import input_data
from graphnet import input_pipeline
from graphnet import mnist
from graphnet import schedules
from graphnet import session_config
from graphnet import signals

__all__ = [
  'TrainGraph',
  'TrainResult',
  'fill_feed_dict',
  'build_train_graph',
  'run_training',
]

# (key, title) of the data sets evaluated, in TF1's order.
_EVAL_SETS = (
  ('train', 'Training'),
  ('validation', 'Validation'),
  ('test', 'Test'),
)


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
  # Hooks the graph needs to run (e.g. the learning-rate setter).
  hooks: list
  # The train tower's input path; its feed_dict() feeds each training run.
  inputs: object


@dataclasses.dataclass(frozen=True)
class TrainResult:
  """What a finished `run_training` reports."""

  # Global step at the end.
  global_step: int
  # Latest checkpoint prefix in log_dir.
  checkpoint: str
  # key ('train', 'validation', 'test') -> EvalResult of the last evaluation.
  evaluations: dict


def fill_feed_dict(data_set, images_pl, labels_pl, batch_size):
  """Feeds the next `batch_size` examples of `data_set` (TF1's helper).

  Returns:
    {images_pl: float32 [batch_size, 784], labels_pl: int [batch_size]}.
  """
  images, labels = data_set.next_batch(batch_size)
  return {images_pl: images, labels_pl: labels}


# Examples per evaluation run: the conv net's activations for 10000 images
# take about 2 GB, too much for a small GPU.
_EVAL_BATCH = {'mlp': 10000, 'conv': 1000}


def _eval_note(config):
  if not config.moving_average_decay:
    return ''
  return (
    'Evaluating with the moving averages of the weights '
    f'(decay {config.moving_average_decay}).'
  )


def _mlp_logits(config, images, regularizer=None):
  """The fully connected network of `config.model` on `images`."""
  model = config.model
  return mnist.inference(images, model.hidden1, model.hidden2, regularizer)


# config.model.model -> function(config, images, regularizer) -> logits.
# Each must create its variables with tf.get_variable so that a second call
# under reuse=True builds the evaluation tower on the same weights.
_MODEL_FNS = {'mlp': _mlp_logits, 'conv': deep_mnist.model_fn}


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


def _build_model(config, inputs, eval_images, sync=None):
  """Builds the train tower and the evaluation tower.

  Args:
    config: the `TrainConfig`.
    inputs: the train tower's input path (see `_train_inputs`).
    eval_images: float32 `[None, 784]` placeholder of the evaluation tower.
    sync: a `cluster.SyncReplicas` to wrap the optimizer in, or None.

  Returns:
    (loss, train_op, eval_logits, lr_hook).
  """
  model_fn = _MODEL_FNS[config.model.model]
  rate_l2 = config.model.regularization_rate
  regularizer = mnist.l2_regularizer(rate_l2) if rate_l2 else None
  global_step = tf.train.get_or_create_global_step()
  rate, lr_hook = schedules.learning_rate(config.schedule, global_step)
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
    logits = model_fn(config, images, regularizer)
    step_loss = mnist.loss(logits, labels)
    return step_loss, mnist.training(
      step_loss, rate, optimizer, config.momentum, train_ema, global_step
    )

  total_loss, train_op = inputs.build(step_fn, rate)
  if lr_hook is not None and config.steps_per_run > 1:
    s = config.schedule
    lr_hook = hooks_lib.LearningRateSetterHook(
      rate, s.boundaries, s.values, steps_per_run=config.steps_per_run
    )
  getter = mnist.moving_average_getter(ema) if ema else None
  with (
    tf.variable_scope(
      tf.get_variable_scope(), reuse=True, custom_getter=getter
    ),
    tf.name_scope('eval'),
  ):
    eval_logits = model_fn(config, eval_images)
  return total_loss, train_op, eval_logits, lr_hook


class _FeedInputs:
  """TF1's input path: batches fed into the placeholders by feed_dict."""

  def __init__(self, config, data_set, images, labels):
    self.images, self.labels = images, labels
    self._data_set = data_set
    self._batch_size = config.batch_size

  def build(self, step_fn, rate):
    """(loss, train_op) of one step on the placeholders."""
    del rate  # mnist.training already summarises it.
    return step_fn(self.images, self.labels)

  def feed_dict(self):
    """The feed of the next training run."""
    return fill_feed_dict(
      self._data_set, self.images, self.labels, self._batch_size
    )

  # Scaffold(local_init_feed_dict=...): nothing to feed.
  local_init_feed_dict = None


class _ResidentInputs(input_pipeline.ResidentInputs):
  """The training set in the graph; `steps_per_run` steps per run."""

  def __init__(self, config, data_set, images, labels):
    super().__init__(
      data_set, images, labels, config.batch_size, seed=config.seed
    )
    self._steps_per_run = config.steps_per_run
    self._max_steps = config.max_steps

  def build(self, step_fn, rate):
    """(last step's loss, train_op) of one loop of up to N steps."""
    # The step built on the placeholders makes the variables, slots and
    # moving averages; its summaries would need a feed, so they are dropped
    # and remade on the loop's loss.
    summaries = tf.get_collection_ref(tf.GraphKeys.SUMMARIES)
    kept = list(summaries)
    step_fn(self.images, self.labels)
    summaries[:] = kept
    global_step = tf.train.get_global_step()
    # The very tensor hooks fetch as the global step, so they read it
    # before the loop starts (the step the run started at).
    start = tf.get_default_graph().as_graph_element(global_step)
    remaining = tf.cast(self._max_steps - start, tf.int32)
    num_steps = tf.clip_by_value(remaining, 0, self._steps_per_run)
    loss, train_op = self.train_loop(step_fn, num_steps)
    for tag, value in (('loss', loss), ('learning_rate', rate)):
      tf.add_to_collection(
        tf.GraphKeys.SUMMARIES,
        tf.raw_ops.ScalarSummary(tags=tag, values=value, name=f'{tag}_loop'),
      )
    return loss, train_op


def _train_inputs(config, data_sets, images, labels):
  """The train tower's input path.

  Has .images and .labels (the placeholders the step is first built on),
  .build(step_fn, rate) -> (loss, train_op), .feed_dict() (the feed of each
  training run, or None) and .local_init_feed_dict (or None).
  """
  if config.input_pipeline == 'resident':
    return _ResidentInputs(config, data_sets.train, images, labels)
  return _FeedInputs(config, data_sets.train, images, labels)


def build_train_graph(config, data_sets):
  """Builds the whole training graph of `config` in a new `tf.Graph`.

  Creates the global step, the placeholders `images` and `labels`, the
  model variables (`hidden1/`, `hidden2/`, `softmax_linear/`), optimizer
  slots, moving averages when enabled, and the named outputs `logits`,
  `probabilities`, `predictions` of the evaluation tower.

  Args:
    config: a `config.TrainConfig`.
    data_sets: the `input_data.Datasets` to train on.

  Returns:
    a `TrainGraph`.
  """
  graph = tf.Graph()
  device = session_config.resolve_device(config.session.device)
  sync = cluster_lib.SyncReplicas.for_config(config.cluster)
  if config.cluster is not None:
    # Variables on the ps tasks, compute on this worker.
    device = cluster_lib.device_setter(config.cluster, device)
  with graph.as_default(), tf.device(device):
    if config.seed is not None:
      tf.set_random_seed(config.seed)
    global_step = tf.train.get_or_create_global_step()
    images, labels = mnist.placeholder_inputs()
    inputs = _train_inputs(config, data_sets, images, labels)
    total_loss, train_op, eval_logits, lr_hook = _build_model(
      config, inputs, images, sync=sync
    )
    # The restore contract: names at the root of the graph.
    logits = tf.identity(eval_logits, name=contract.LOGITS)
    tf.nn.softmax(logits, name=contract.PROBABILITIES)
    tf.argmax(logits, 1, name=contract.PREDICTIONS)
    tower = evaluation.EvalTower(
      images,
      labels,
      mnist.evaluation(logits, labels),
      batch_size=_EVAL_BATCH[config.model.model],
      note=_eval_note(config),
    )
    # Relative paths in the `checkpoint` file keep a copied log_dir
    # self-contained (see checkpoints.localize_state).
    saver = tf.train.Saver(
      max_to_keep=config.keep_checkpoint_max, save_relative_paths=True
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


def _prepare_log_dir(log_dir):
  """Creates `log_dir`; returns the directories made, deepest first."""
  made = []
  path = os.path.abspath(log_dir)
  while path and not os.path.lexists(path) and path != os.path.dirname(path):
    made.append(path)
    path = os.path.dirname(path)
  try:
    os.makedirs(log_dir, exist_ok=True)
  except OSError as e:
    raise errors.ConfigError(
      f'--log_dir {log_dir} cannot be created: {e.strerror}. Expected a '
      'writable directory (or a path where one can be made).'
    ) from e
  if not os.access(log_dir, os.W_OK | os.X_OK):
    raise errors.ConfigError(
      f'--log_dir {log_dir} is not writable; choose another --log_dir.'
    )
  return made


def _remove_empty(directories):
  """Removes what `_prepare_log_dir` made, if still empty."""
  for path in directories:
    try:
      os.rmdir(path)
    except OSError:
      return


def _hooks(config, train_graph, data_sets, printer):
  """(hooks, chief_only_hooks) for MonitoredTrainingSession."""
  tg = train_graph
  hooks = [
    hooks_lib.StopAtStepHook(
      last_step=config.max_steps, steps_per_run=config.steps_per_run
    ),
  ] + tg.hooks
  # chief_only hooks run before the checkpoint savers: a diverged step must
  # raise before it can be saved over the last good checkpoint.
  if config.cluster is not None and not config.cluster.is_chief:
    check = hooks_lib.DivergenceHook(tg.loss, check_variables=False)
    hooks, divergence = hooks + [check], []
  else:
    # It deletes the checkpoint that already holds the diverged weights.
    divergence = [
      hooks_lib.DivergenceHook(
        tg.loss,
        # FiniteWeightsListener checks the weights once per save instead.
        check_variables=False,
        checkpoint_dir=config.log_dir,
        steps_per_run=config.steps_per_run,
      )
    ]
  chief_only = _loop_saver_hooks(config, tg) + [
    hooks_lib.StepLoggingHook(
      tg.loss,
      config.max_steps,
      config.log_every,
      printer=printer,
      steps_per_run=config.steps_per_run,
    ),
    hooks_lib.EvaluationHook(
      tg.eval_tower,
      [(key, title, getattr(data_sets, key)) for key, title in _EVAL_SETS],
      every_n_steps=config.eval_every,
      last_step=config.max_steps,
      summary_dir=config.log_dir,
      steps_per_run=config.steps_per_run,
      printer=printer,
    ),
  ]
  return hooks, divergence + chief_only


def _loop_saver_hooks(config, train_graph):
  """The checkpoint hook, and the summary hook for `steps_per_run` > 1.

  MonitoredTrainingSession's own checkpoint hook re-reads the global step
  after every run (an extra `session.run` per training step), and with
  runs of N > 1 steps its hooks would save one run late and summarise N
  times too rarely; so these take their place (see `_saving_steps`).
  """
  hooks = [
    input_pipeline.LoopCheckpointSaverHook(
      config.log_dir,
      config.save_checkpoint_steps,
      train_graph.saver,
      config.steps_per_run,
      listeners=[hooks_lib.FiniteWeightsListener()],
    )
  ]
  if config.steps_per_run > 1:
    hooks.append(
      input_pipeline.LoopSummarySaverHook(
        config.log_every, config.log_dir, config.steps_per_run
      )
    )
  return hooks


def _saving_steps(config):
  """(save_checkpoint_steps, save_summaries_steps) for the session."""
  if config.steps_per_run == 1:
    return None, config.log_every
  return None, None


def _round_intervals(config, printer):
  """`config` with its intervals rounded up to multiples of steps_per_run.

  Hooks act between runs, so with N steps per run they can only act at
  multiples of N; rounding (and saying so once) beats acting late.
  """
  n = config.steps_per_run
  names = ('log_every', 'eval_every', 'save_checkpoint_steps')
  rounded = {
    name: -(-getattr(config, name) // n) * n
    for name in names
    if getattr(config, name) % n
  }
  if not rounded:
    return config
  changes = ', '.join(
    f'--{name} {getattr(config, name)} -> {value}'
    for name, value in rounded.items()
  )
  printer(f'--steps_per_run {n}: intervals rounded to multiples: {changes}.')
  return dataclasses.replace(config, **rounded)


def _print_flush(line):
  print(line, flush=True)


def _data_seed(config):
  """Batch-order seed: each worker of a cluster draws its own sequence."""
  if config.seed is None or config.cluster is None:
    return config.seed
  return config.seed + config.cluster.task_index


def _session_args(config, server):
  """MonitoredTrainingSession's master, is_chief, checkpoint_dir, config."""
  options = session_config.make_config(config.session)
  cluster = config.cluster
  if cluster is None:
    return {'checkpoint_dir': config.log_dir, 'config': options}
  return {
    'master': server.target,
    'is_chief': cluster.is_chief,
    # Only the chief restores and writes checkpoints, summaries and .meta.
    'checkpoint_dir': config.log_dir if cluster.is_chief else None,
    'config': cluster_lib.session_config(cluster, options),
    # The sync chief's queue runner ends blocked on gradients that no
    # longer come; TF would wait 120 s before cancelling it.
    'stop_grace_period_secs': 3 if cluster.sync_replicas else 120,
  }


@contextlib.contextmanager
def _cluster_task(cluster, server, session_args, printer):
  """A worker's life around its session: wait for the chief, report done."""
  if cluster is None:
    yield
    return
  # A lost ps would otherwise hang the session (and signal_done) for ever.
  watchdog = cluster_lib.PsWatchdog(cluster, session_args['checkpoint_dir'])
  try:
    watchdog.start()
    if not cluster.is_chief:
      cluster_lib.wait_for_model(
        server.target, session_args['config'], printer=printer
      )
    printer(f'{cluster.task}: the model is ready; training.')
    yield
  finally:
    cluster_lib.signal_done(cluster, server.target)
    watchdog.stop()


def run_training(config, printer=_print_flush):
  """Trains the model of `config` to `config.max_steps`.

  Resumes from the latest checkpoint in `config.log_dir` (the global step
  continues); refuses a checkpoint of a different model. Saves checkpoints
  `model.ckpt-<step>` (with `.meta`) every `save_checkpoint_steps` and at
  the end, and writes events (graph, `loss`, `learning_rate`,
  `precision/*`) to `config.log_dir`.

  Args:
    config: a `config.TrainConfig`.
    printer: function taking one output line.

  Returns:
    a `TrainResult`.

  Raises:
    ConfigError: `log_dir` cannot be created or written.
    DataError: the data files are missing or malformed.
    CheckpointMismatchError: `log_dir` holds another model's checkpoint.
    DivergenceError: the loss became NaN or infinite.
    CheckpointError: the latest checkpoint in `log_dir` is damaged.
    signals.TrainingInterruptedError: SIGINT or SIGTERM stopped training early
      (the final checkpoint is saved first).
  """
  made = _prepare_log_dir(config.log_dir)
  config = _round_intervals(config, printer)
  try:
    # A taken port fails here, before the data and the graph cost time.
    server = (
      cluster_lib.start_server(config.cluster) if config.cluster else None
    )
    data_sets = input_data.read_data_sets(
      config.input_data_dir, fake_data=config.fake_data, seed=_data_seed(config)
    )
  except errors.GraphnetError:
    # Bad data or a taken port: leave no empty log_dir behind.
    _remove_empty(made)
    raise
  tg = build_train_graph(config, data_sets)
  with tg.graph.as_default():
    prefix = checkpoints.latest_checkpoint(config.log_dir)
    if prefix:
      checkpoints.check_compatible(
        prefix, tf.global_variables(), flag=f'--log_dir {config.log_dir}'
      )
      # A damaged file would otherwise surface as a raw DataLossError from
      # inside session creation, after the events file was started.
      checkpoints.check_readable(prefix, flag=f'--log_dir {config.log_dir}')
      # Else the session restores from, and keep_checkpoint_max deletes in,
      # the directory this one was copied from.
      checkpoints.localize_state(config.log_dir)
    hooks, chief_only = _hooks(config, tg, data_sets, printer)
    evaluator = chief_only[-1]
    session_args = _session_args(config, server)
    with (
      # SIGINT/SIGTERM stop after the current run; the session's end()
      # then saves the final checkpoint.
      signals.StopOnSignals() as stop,
      _cluster_task(config.cluster, server, session_args, printer),
      tf.train.MonitoredTrainingSession(
        **session_args,
        scaffold=tf.train.Scaffold(
          saver=tg.saver, local_init_feed_dict=tg.inputs.local_init_feed_dict
        ),
        hooks=hooks + [stop.hook()],
        chief_only_hooks=chief_only,
        save_checkpoint_steps=_saving_steps(config)[0],
        save_summaries_steps=_saving_steps(config)[1],
        # StepLoggingHook prints the speed; TF's counter only adds noise.
        log_step_count_steps=None,
      ) as sess,
    ):
      while not sess.should_stop():
        sess.run(tg.train_op, feed_dict=tg.inputs.feed_dict())
  final = checkpoints.latest_checkpoint(config.log_dir)
  if stop.signum is not None:
    raise signals.TrainingInterruptedError(
      stop.signum, checkpoints.checkpoint_step(final) if final else None, final
    )
  return TrainResult(
    # A non-chief worker may have no checkpoint in its log_dir.
    global_step=checkpoints.checkpoint_step(final) if final else None,
    checkpoint=final,
    evaluations=evaluator.last_results,
  )
