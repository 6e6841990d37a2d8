"""The trainer's command line: flags, presets, and reading them into a config.

Flags keep TF1's names and defaults and only absl's type and bound checks
(plus "parses as numbers" for the lists). Each setting's flag is made from
its config field (`options.option()`: default, help and bounds written
once, in `config`), a network's from the fields of its registered config
class (`models.MlpConfig`: --hidden1, --hidden2); every other rule lives
in the config dataclasses, and `config_from_flags()` turns their
`ConfigError` into absl's usage error naming the flag. Only the
directories, --preset and the cluster's flags (their defaults read from
`ClusterConfig`) are defined here by hand. Nothing here imports
TensorFlow (a `--model package.module:function` may).

Example (in an entry point):

    from graphnet.cli import train_flags

    def main(argv):
      trainer.run_training(train_flags.config_from_flags())
"""

import dataclasses
import os

from absl import app
from absl import flags

from graphnet import errors
from graphnet import options
from graphnet.cli import common as cli
from graphnet.cli import config_flags
from graphnet.distributed import cluster_config as cluster_lib
from graphnet.distributed import tf_config
from graphnet.nn import models
from graphnet.training import config as config_lib

__all__ = ['PRESETS', 'config_from_flags', 'is_evaluator']

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

# Flags given under another name: flag -> its alias.
_ALIASES = {'log_dir': 'train_dir'}

# Each setting's flag comes from its config field (default, help, bounds):
# the trainer's, and every registered network's.
for _cls in (
  config_lib.TrainConfig,
  config_lib.ModelConfig,
  config_lib.Schedule,
  config_lib.SessionOptions,
  *(models.get(name).config_class for name in models.names()),
):
  config_flags.define(_cls, __name__)

flags.DEFINE_string(
  'input_data_dir',
  cli.DEFAULT_DATA_DIR,
  "Directory of the IDX files in MNIST's four file names (MNIST's bundled "
  'copy lands here when missing); any image size and class count.',
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
  'train_dir', None, "--log_dir's name in older TF1 tutorials; either works."
)
flags.DEFINE_enum(
  'preset', 'tutorial', list(PRESETS), 'Named recipe; explicit flags win.'
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
def _cluster_default(name):
  return options.default_of(cluster_lib.ClusterConfig, name)


flags.DEFINE_list(
  'ps_hosts',
  list(_cluster_default('ps_hosts')),
  'Parameter-server tasks, host:port,... (distributed).',
)
flags.DEFINE_list(
  'worker_hosts',
  list(_cluster_default('worker_hosts')),
  'Worker tasks, host:port,...; worker 0 is the chief.',
)
# No default: a task of a cluster must say which job it is.
flags.DEFINE_enum(
  'job_name',
  None,
  [*cluster_lib.JOBS, tf_config.EVALUATOR],
  "This task's job: ps or worker; evaluator scores each new checkpoint of "
  '--log_dir until one reaches --max_steps (no host flags needed).',
)
flags.DEFINE_integer(
  'task_index',
  _cluster_default('task_index'),
  "This task's index within its job.",
  lower_bound=0,
)
flags.DEFINE_boolean(
  'sync_replicas',
  _cluster_default('sync_replicas'),
  'Aggregate the workers gradients (SyncReplicasOptimizer) instead of '
  'applying each asynchronously.',
)
flags.DEFINE_integer(
  'replicas_to_aggregate',
  _cluster_default('replicas_to_aggregate'),
  'Gradients per synchronous update; default: the number of workers.',
  lower_bound=1,
)
flags.DEFINE_float(
  'ps_timeout_secs',
  _cluster_default('ps_timeout_secs'),
  'A worker exits with an error after this many seconds without an answer '
  'from a ps task; a ps stops after as long without one from any worker '
  'still training.',
)


flags.DEFINE_integer(
  'partition_min_bytes',
  _cluster_default('partition_min_bytes'),
  'With 2 or more ps tasks, split each variable of this many bytes or more '
  'over them (slices of at least this size; not with '
  '--moving_average_decay); 0 = never split.',
  lower_bound=0,
)


@flags.validator('ps_timeout_secs')
def _check_ps_timeout(value):
  try:
    cluster_lib.check_timeout(value, options.as_flag)
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


def _env_cluster():
  """The `tf_config.TfConfig` of the TF_CONFIG variable (maybe empty).

  Raises:
    app.UsageError: TF_CONFIG is malformed (the message names the field).
  """
  try:
    return tf_config.parse()
  except errors.ClusterError as e:
    raise app.UsageError(str(e)) from e


@flags.multi_flags_validator(_CLUSTER_FLAGS)
def _check_cluster(values):
  # TF_CONFIG may describe the cluster that these settings apply to; it is
  # checked with the flags in config_from_flags.
  if not _wants_cluster(values) and os.environ.get(tf_config.ENV, '').strip():
    return True
  if values['job_name'] == tf_config.EVALUATOR:
    return True
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
      names=options.as_flag,
    )
  except errors.ClusterError as e:
    raise flags.ValidationError(str(e)) from e
  return True


def _cluster_from_flags():
  """The ClusterConfig of the cluster flags or TF_CONFIG, or None.

  The flags win when both describe the cluster and agree; they must agree.

  Raises:
    app.UsageError: TF_CONFIG is malformed, does not fit the other cluster
      flags, or describes another cluster or task than the flags.
  """
  values = {name: FLAGS[name].value for name in _CLUSTER_FLAGS}
  settings = {
    'sync_replicas': values['sync_replicas'],
    'replicas_to_aggregate': values['replicas_to_aggregate'],
    'ps_timeout_secs': FLAGS.ps_timeout_secs,
    'partition_min_bytes': FLAGS.partition_min_bytes,
  }
  env = _env_cluster()
  settings['has_evaluator'] = env.has_evaluator
  try:
    from_env = env.cluster_config(**settings)
  except errors.ClusterError as e:
    raise app.UsageError(f'{e} (from {tf_config.ENV})') from e
  if not _wants_cluster(values):
    return from_env
  if values['job_name'] == tf_config.EVALUATOR:
    is_evaluator()
    return None
  from_flags = cluster_lib.ClusterConfig(
    ps_hosts=tuple(values['ps_hosts']),
    worker_hosts=tuple(values['worker_hosts']),
    job_name=values['job_name'],
    task_index=values['task_index'],
    **settings,
  )
  if env.is_distributed:
    _check_same_cluster(from_flags, from_env, env)
  return from_flags


def is_evaluator():
  """Whether this process is the cluster's evaluator task.

  From `--job_name evaluator` or TF_CONFIG's task type `evaluator`.

  Raises:
    app.UsageError: the two disagree.
  """
  env = _env_cluster()
  flag = FLAGS.job_name == tf_config.EVALUATOR
  if flag and env.is_distributed and env.task_type != tf_config.EVALUATOR:
    raise app.UsageError(
      f'--job_name evaluator, but {tf_config.ENV} says this task is '
      f'{env.task_type} {env.task_index}; give one of them (unset '
      f'{tf_config.ENV} or drop --job_name), or make them agree.'
    )
  return flag or env.task_type == tf_config.EVALUATOR


def _describe(cluster):
  return (
    f'ps {",".join(cluster.ps_hosts) or "(none)"}, workers '
    f'{",".join(cluster.worker_hosts)}, this task {cluster.task}'
  )


def _check_same_cluster(from_flags, from_env, env):
  """Refuses cluster flags and a TF_CONFIG that describe different tasks."""
  fields = ('ps_hosts', 'worker_hosts', 'job_name', 'task_index')
  if from_env is not None and all(
    getattr(from_flags, f) == getattr(from_env, f) for f in fields
  ):
    return
  env_text = (
    f'task {env.task_type} (an evaluator is no training task)'
    if from_env is None
    else f'{_describe(from_env)} (its chief is worker 0)'
  )
  raise app.UsageError(
    f'--ps_hosts/--worker_hosts/--job_name/--task_index say '
    f'{_describe(from_flags)}, but {tf_config.ENV} says {env_text}; give '
    f'one of them (unset {tf_config.ENV} or drop the cluster flags), or make '
    'them agree.'
  )


def _from_flags(cls, value, **given):
  """A `cls` whose fields not in `given` are read from their flags."""
  read = {
    f.name: value(options.name_of(f.name))
    for f in dataclasses.fields(cls)
    if f.name not in given and options.name_of(f.name) in FLAGS
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
    config_lib.Schedule,
    value,
    boundaries=_ints(value('lr_boundaries')),
    values=_floats(value('lr_values')),
  )
  # --steps_per_run unset (None) is the config's automatic choice.
  return _from_flags(
    config_lib.TrainConfig,
    value,
    model=_model_config(value),
    schedule=schedule,
    session=_from_flags(config_lib.SessionOptions, value),
    cluster=_cluster_from_flags(),
    eval_sets=tuple(value('eval_sets')),
  )


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
    flag = f'{options.as_flag(e.field)}: ' if e.field else ''
    raise app.UsageError(
      f'{flag}{e} (--preset {FLAGS.preset} with these flags)'
    ) from e
