"""The trainer's command line: flags, presets, and reading them into a config.

Flags keep TF1's names and defaults and only absl's type and bound checks
(plus "parses as numbers" for the lists); every other rule lives in the
config dataclasses, and `config_from_flags()` turns their `ConfigError`
into absl's usage error naming the flag. A network's flags are the fields
of its config class (`models.MlpConfig`: --hidden1, --hidden2); each is
defined here.

Example (in an entry point):

    from graphnet.cli import train_flags

    def main(argv):
      trainer.run_training(train_flags.config_from_flags())
"""

import dataclasses

from absl import app
from absl import flags

from graphnet import errors
from graphnet.cli import common as cli
from graphnet.distributed import cluster as cluster_lib
from graphnet.nn import mlp as mnist
from graphnet.nn import models
from graphnet.training import config as config_lib
from graphnet.training import schedules
from graphnet.training import session_config

__all__ = ['PRESETS', 'config_from_flags']

FLAGS = flags.FLAGS


def _log_dir_of(preset):
  # Each preset trains in a directory of its own, so that README's
  # commands in turn never find another preset's model in the default.
  return f'{cli.DEFAULT_LOG_DIR}_{preset}'


# Flag values of each --preset; flags given explicitly win.
PRESETS = {
  'tutorial': {},
  'softmax': {
    'log_dir': _log_dir_of('softmax'),
    'hidden1': 0,
    'hidden2': 0,
    'learning_rate': 0.5,
    'max_steps': 1000,
  },
  # TF's "Deep MNIST for experts" recipe.
  'deep_mnist': {
    'log_dir': _log_dir_of('deep_mnist'),
    'model': 'conv',
    'optimizer': 'adam',
    'learning_rate': 1e-4,
    'batch_size': 50,
    'max_steps': 20000,
    'eval_every': 5000,
  },
  'book': {
    'log_dir': _log_dir_of('book'),
    'hidden1': 500,
    'hidden2': 0,
    'learning_rate': 0.8,
    'lr_schedule': 'exponential',
    'decay_rate': 0.99,
    'decay_steps': 550,
    'staircase': True,
    'moving_average_decay': 0.99,
    'regularization_rate': 1e-4,
    'max_steps': 30000,
  },
}

# The flag that sets each config field whose name differs from it.
_FLAG_OF_FIELD = {
  'kind': 'lr_schedule',
  'base_rate': 'learning_rate',
  'boundaries': 'lr_boundaries',
  'values': 'lr_values',
}

# Flags given under another name: flag -> its alias.
_ALIASES = {'log_dir': 'train_dir'}

flags.DEFINE_integer(
  'max_steps', 2000, 'Global step to train to.', lower_bound=0
)
flags.DEFINE_float('learning_rate', 0.01, 'Initial learning rate.')
flags.DEFINE_integer(
  'batch_size', 100, 'Examples per training step.', lower_bound=1
)
flags.DEFINE_string(
  'model',
  'mlp',
  'mlp: fully connected (--hidden1/--hidden2); conv: deep-MNIST CNN; or '
  'package.module:function returning your model callable '
  'model(images[, is_training]) -> logits (e.g. a graphnet.layers.'
  'Sequential), imported from PYTHONPATH.',
)
# The fields of models.MlpConfig.
flags.DEFINE_integer(
  'hidden1', 128, 'Units in hidden layer 1 (0: none).', lower_bound=0
)
flags.DEFINE_integer(
  'hidden2', 32, 'Units in hidden layer 2 (0: none).', lower_bound=0
)
# The fields of models.ConvConfig.
flags.DEFINE_float(
  'keep_prob',
  0.5,
  'conv: probability of keeping an fc1 unit in training, in (0, 1].',
)
flags.DEFINE_boolean(
  'batch_norm', False, 'conv: batch-normalise conv1, conv2 and fc1.'
)
flags.DEFINE_string(
  'input_data_dir',
  cli.DEFAULT_DATA_DIR,
  "Directory of the IDX files in MNIST's four file names (MNIST's bundled "
  'copy lands here when missing); any image size and class count.',
)
flags.DEFINE_string(
  'data_npz',
  None,
  'NumPy .npz file to train on instead of --input_data_dir: x_train, '
  'y_train, x_test, y_test (optional x_val, y_val).',
)
flags.DEFINE_integer(
  'validation_size',
  None,
  'First training examples held out for validation; default min(5000, '
  '10% of them).',
  lower_bound=0,
)
# absl.logging defines --log_dir for log files it never writes unless asked;
# TF1's trainer used the name for checkpoints and events, so it is ours.
if 'log_dir' in FLAGS:
  delattr(FLAGS, 'log_dir')
flags.DEFINE_string(
  'log_dir',
  cli.DEFAULT_LOG_DIR,
  'Directory for checkpoints and events; never wiped, training resumes. '
  'Each --preset but tutorial has its own default: this one with '
  '_<preset> appended.',
)
flags.DEFINE_string(
  'train_dir',
  None,
  "--log_dir's name in older TF1 versions of the tutorial; either works.",
)
flags.DEFINE_boolean('fake_data', False, 'Use fake data (for unit tests).')
flags.DEFINE_enum('optimizer', 'sgd', list(mnist.OPTIMIZERS), 'Optimizer.')
flags.DEFINE_float(
  'momentum', 0.9, 'Momentum (momentum, rmsprop).', lower_bound=0.0
)
flags.DEFINE_enum(
  'lr_schedule',
  'constant',
  list(schedules.SCHEDULES),
  'Learning-rate schedule.',
)
flags.DEFINE_integer(
  'decay_steps',
  550,
  'Steps per decay period (550 = one epoch of 100).',
  lower_bound=1,
)
flags.DEFINE_float('decay_rate', 0.99, 'Decay per period, in (0, 1].')
flags.DEFINE_boolean('staircase', False, 'Decay in whole periods.')
flags.DEFINE_list(
  'lr_boundaries',
  [str(b) for b in schedules.DEFAULT_BOUNDARIES],
  'Steps where piecewise schedules change value.',
)
flags.DEFINE_list(
  'lr_values',
  [str(v) for v in schedules.DEFAULT_VALUES],
  'Piecewise learning rates (one more than boundaries).',
)
flags.DEFINE_float(
  'moving_average_decay',
  0.0,
  "Decay of the weights' moving averages, in [0, 1); 0: off.",
)
flags.DEFINE_float(
  'regularization_rate', 0.0, 'L2 penalty; 0: off.', lower_bound=0.0
)
flags.DEFINE_integer(
  'save_checkpoint_steps',
  1000,
  'Save a checkpoint every N steps.',
  lower_bound=1,
)
flags.DEFINE_integer(
  'keep_checkpoint_max', 5, 'Checkpoints kept.', lower_bound=1
)
flags.DEFINE_integer(
  'eval_every', 1000, 'Evaluate every N steps.', lower_bound=1
)
flags.DEFINE_list(
  'eval_sets',
  list(config_lib.EVAL_SETS),
  'Data sets evaluated every --eval_every steps and at the end: any of '
  'train, validation, test.',
)
flags.DEFINE_integer(
  'log_every', 100, 'Print the loss every N steps.', lower_bound=1
)
flags.DEFINE_integer('seed', None, 'Random seed (graph and batch order).')
flags.DEFINE_enum(
  'preset',
  'tutorial',
  list(PRESETS),
  'Named recipe; explicit flags override it.',
)
flags.DEFINE_enum(
  'device',
  'auto',
  list(session_config.DEVICES),
  'Where to run: auto (GPU if any), cpu or gpu.',
)
flags.DEFINE_boolean('allow_growth', True, 'Grow GPU memory as needed.')
flags.DEFINE_float(
  'gpu_memory_fraction',
  0.0,
  'Fraction of GPU memory to take; 0: TF default.',
  lower_bound=0.0,
  upper_bound=1.0,
)
flags.DEFINE_boolean('log_device_placement', False, 'Log op placement.')
flags.DEFINE_integer(
  'intra_op_parallelism_threads',
  0,
  'Threads within an op; 0: TF chooses.',
  lower_bound=0,
)
flags.DEFINE_integer(
  'inter_op_parallelism_threads',
  0,
  'Ops run in parallel; 0: TF chooses.',
  lower_bound=0,
)
flags.DEFINE_enum(
  'input_pipeline',
  'feed',
  list(config_lib.INPUT_PIPELINES),
  'How batches reach the graph: feed (feed_dict, TF1) or resident (the '
  'training set in graph variables, batches drawn in the graph).',
)
flags.DEFINE_integer(
  'steps_per_run',
  None,
  'Training steps per session.run, in an in-graph loop (default: the '
  'largest N <= 100 dividing --log_every, --eval_every, '
  '--save_checkpoint_steps and fed --lr_boundaries; 1 in a cluster). With '
  '--input_pipeline feed the N batches are those of N next_batch calls; 1 '
  'runs each step on its own as TF1 did. Intervals are rounded up to '
  'multiples of it.',
  lower_bound=1,
)


def _ints(values):
  return tuple(int(v) for v in values)


def _floats(values):
  return tuple(float(v) for v in values)


def _parses(convert, values):
  try:
    convert(values)
  except ValueError:
    return False
  return True


flags.register_validator(
  'lr_boundaries',
  lambda v: _parses(_ints, v),
  '--lr_boundaries must be a list of integers.',
)
flags.register_validator(
  'lr_values',
  lambda v: _parses(_floats, v),
  '--lr_values must be a list of numbers.',
)

# Distributed training: every task gets the same host lists and its own
# --job_name/--task_index. Empty host lists train in this one process.
flags.DEFINE_list(
  'ps_hosts', [], 'Parameter-server tasks, host:port,... (distributed).'
)
flags.DEFINE_list(
  'worker_hosts', [], 'Worker tasks, host:port,...; worker 0 is the chief.'
)
flags.DEFINE_enum(
  'job_name', None, list(cluster_lib.JOBS), "This task's job: ps or worker."
)
flags.DEFINE_integer(
  'task_index', 0, "This task's index within its job.", lower_bound=0
)
flags.DEFINE_boolean(
  'sync_replicas',
  False,
  'Aggregate the workers gradients (SyncReplicasOptimizer) instead of '
  'applying each asynchronously.',
)
flags.DEFINE_integer(
  'replicas_to_aggregate',
  None,
  'Gradients per synchronous update; default: the number of workers.',
  lower_bound=1,
)
flags.DEFINE_float(
  'ps_timeout_secs',
  cluster_lib.PS_TIMEOUT_SECS,
  'A worker exits with an error after this many seconds without an answer '
  'from a ps task; a ps stops after as long without one from any worker '
  'still training.',
)


@flags.validator('ps_timeout_secs')
def _check_ps_timeout(value):
  try:
    cluster_lib.check_timeout(value, '--ps_timeout_secs')
  except errors.ClusterError as e:
    raise flags.ValidationError(str(e)) from e
  return True


_CLUSTER_FLAGS = [
  'ps_hosts',
  'worker_hosts',
  'job_name',
  'task_index',
  'sync_replicas',
  'replicas_to_aggregate',
]


def _wants_cluster(values):
  return bool(
    values['ps_hosts'] or values['worker_hosts'] or values['job_name']
  )


@flags.multi_flags_validator(_CLUSTER_FLAGS)
def _check_cluster(values):
  if not _wants_cluster(values):
    if values['sync_replicas'] or values['replicas_to_aggregate']:
      raise flags.ValidationError(
        '--sync_replicas and --replicas_to_aggregate need --worker_hosts '
        '(and --job_name, --task_index).'
      )
    return True
  if values['job_name'] is None:
    raise flags.ValidationError(
      '--job_name (ps or worker) is required when --ps_hosts or '
      '--worker_hosts is given.'
    )
  try:
    cluster_lib.check_flags(
      values['ps_hosts'],
      values['worker_hosts'],
      values['job_name'],
      values['task_index'],
      values['replicas_to_aggregate'],
    )
  except errors.ClusterError as e:
    raise flags.ValidationError(str(e)) from e
  return True


def _cluster_from_flags():
  """The ClusterConfig of the cluster flags, or None for one process."""
  values = {name: FLAGS[name].value for name in _CLUSTER_FLAGS}
  if not _wants_cluster(values):
    return None
  return cluster_lib.ClusterConfig(
    ps_hosts=tuple(values['ps_hosts']),
    worker_hosts=tuple(values['worker_hosts']),
    job_name=values['job_name'],
    task_index=values['task_index'],
    sync_replicas=values['sync_replicas'],
    replicas_to_aggregate=values['replicas_to_aggregate'],
    ps_timeout_secs=FLAGS.ps_timeout_secs,
  )


def _flag_of(field):
  return _FLAG_OF_FIELD.get(field, field)


def _from_flags(cls, value, **given):
  """A `cls` whose fields not in `given` are read from their flags."""
  read = {
    f.name: value(_flag_of(f.name))
    for f in dataclasses.fields(cls)
    if f.name not in given and _flag_of(f.name) in FLAGS
  }
  return cls(**read, **given)


def _model_config(value):
  """The chosen network's ModelConfig.

  Every registered network's config is made, so that a bad value of any
  network's flag is refused whichever --model is chosen.
  """
  # A package.module:function is imported (and registered) here.
  name = models.load(value('model'))
  params = {
    each: _from_flags(models.get(each).config_class, value)
    for each in models.names()
  }
  return config_lib.ModelConfig(
    name,
    regularization_rate=value('regularization_rate'),
    params=params[name],
  )


def _train_config(value):
  schedule = _from_flags(
    schedules.Schedule,
    value,
    boundaries=_ints(value('lr_boundaries')),
    values=_floats(value('lr_values')),
  )
  steps_per_run = value('steps_per_run')
  config = _from_flags(
    config_lib.TrainConfig,
    value,
    model=_model_config(value),
    schedule=schedule,
    session=_from_flags(session_config.SessionOptions, value),
    cluster=_cluster_from_flags(),
    eval_sets=tuple(value('eval_sets')),
    steps_per_run=steps_per_run or 1,
  )
  if steps_per_run is None:
    auto = config_lib.auto_steps_per_run(config)
    config = dataclasses.replace(config, steps_per_run=auto)
  return config


def _check_aliases():
  """Refuses a flag and its alias given with different values."""
  for name, alias in _ALIASES.items():
    both = FLAGS[name].present and FLAGS[alias].present
    if both and FLAGS[name].value != FLAGS[alias].value:
      raise app.UsageError(
        f'--{alias} {FLAGS[alias].value} and --{name} {FLAGS[name].value} '
        f'differ: --{alias} is another name for --{name}; give one of them.'
      )


def config_from_flags():
  """Reads the parsed flags once into a `config.TrainConfig`.

  Raises:
    app.UsageError: the combined values (preset + flags) are invalid, or
      --train_dir and --log_dir differ; the message names the flag.
  """
  preset = PRESETS[FLAGS.preset]
  _check_aliases()

  def value(name):
    # A flag given (or its alias) beats the preset, which beats the default.
    for given in (name, _ALIASES.get(name)):
      if given and FLAGS[given].present:
        return FLAGS[given].value
    return preset.get(name, FLAGS[name].value)

  try:
    return _train_config(value)
  except errors.ConfigError as e:
    flag = f'--{_flag_of(e.field)}: ' if e.field else ''
    raise app.UsageError(
      f'{flag}{e} (--preset {FLAGS.preset} with these flags)'
    ) from e
