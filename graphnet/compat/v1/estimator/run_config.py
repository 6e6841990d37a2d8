"""`RunConfig`: where and how often an Estimator saves, logs and summarises.

TF1's fields and defaults: a checkpoint every 600 s unless
`save_checkpoints_steps` is given, five kept, summaries and the loss line
every 100 steps. The cluster (`cluster_spec`, `task_type`, `task_id`,
`is_chief`, ...) is read from `TF_CONFIG` when the config is made, as TF1
did (see `graphnet.distributed.tf_config`).

Example:
    config = RunConfig(model_dir='/tmp/model', save_checkpoints_steps=500,
                       tf_random_seed=1)
    estimator = Estimator(model_fn, config=config)
"""

import tensorflow.compat.v1 as tf

from graphnet import errors
from graphnet.compat.v1.contrib.framework import _signatures
from graphnet.distributed import tf_config

__all__ = ['RunConfig', 'TaskType']

# Stands for "not given": TF1 saves every 600 s unless steps are given.
_USE_DEFAULT = object()
_DEFAULT_SAVE_SECS = 600

# TF 1.15's RunConfig arguments and defaults, in order: its fields.
_SETTINGS = _signatures.group(
  model_dir=None,
  tf_random_seed=None,
  save_summary_steps=100,
  save_checkpoints_steps=_USE_DEFAULT,
  save_checkpoints_secs=_USE_DEFAULT,
  session_config=None,
  keep_checkpoint_max=5,
  keep_checkpoint_every_n_hours=10000,
  log_step_count_steps=100,
  train_distribute=None,
  device_fn=None,
  protocol=None,
  eval_distribute=None,
  experimental_distribute=None,
  experimental_max_worker_delay_secs=None,
  session_creation_timeout_secs=7200,
)
_FIELDS = tuple(p.name for p in _SETTINGS)
# Strategies graphnet refuses (a TF_CONFIG cluster runs instead).
_STRATEGIES = ('train_distribute', 'eval_distribute', 'experimental_distribute')


class TaskType:
  """TF_CONFIG's task types."""

  MASTER = 'master'
  PS = tf_config.PS
  WORKER = tf_config.WORKER
  CHIEF = tf_config.CHIEF
  EVALUATOR = tf_config.EVALUATOR


def _check_count(name, value, minimum=0):
  if value is None:
    return
  if not isinstance(value, int) or isinstance(value, bool) or value < minimum:
    raise errors.ConfigError(
      f'RunConfig: {name} must be an integer >= {minimum} or None, got '
      f'{value!r}.',
      field=name,
    )


def _save_intervals(settings):
  """`settings` with TF1's checkpoint interval rule applied (a new dict).

  Neither interval given: every 600 s; one given: the other is None.

  Raises:
    ConfigError: both are given.
  """
  settings = dict(settings)
  steps = settings['save_checkpoints_steps']
  secs = settings['save_checkpoints_secs']
  if _USE_DEFAULT not in (steps, secs) and None not in (steps, secs):
    raise errors.ConfigError(
      'RunConfig: give save_checkpoints_steps or save_checkpoints_secs, '
      f'not both (got {steps} and {secs}).',
      field='save_checkpoints_steps',
    )
  if steps is _USE_DEFAULT:
    steps = None
    if secs is _USE_DEFAULT:
      secs = _DEFAULT_SAVE_SECS
  if secs is _USE_DEFAULT:
    secs = None
  settings.update(save_checkpoints_steps=steps, save_checkpoints_secs=secs)
  return settings


def _checked(settings):
  """`settings` (a dict by field), or ConfigError naming the bad one."""
  for name, minimum in (
    ('save_summary_steps', 0),
    ('save_checkpoints_steps', 1),
    ('keep_checkpoint_max', 0),
    ('log_step_count_steps', 0),
    ('tf_random_seed', 0),
  ):
    _check_count(name, settings[name], minimum)
  secs = settings['save_checkpoints_secs']
  if secs is not None and secs <= 0:
    raise errors.ConfigError(
      f'RunConfig: save_checkpoints_secs must be > 0 or None, got {secs!r}.',
      field='save_checkpoints_secs',
    )
  for name in _STRATEGIES:
    if settings[name] is not None:
      raise errors.ConfigError(
        f'RunConfig: {name} (a tf.distribute strategy) is not supported; '
        'graphnet Estimators run on a TF_CONFIG parameter-server cluster '
        'instead. Leave it None.',
        field=name,
      )
  session_config = settings['session_config']
  if session_config is not None and not isinstance(
    session_config, tf.ConfigProto
  ):
    raise errors.ConfigError(
      'RunConfig: session_config must be a tf.ConfigProto, got '
      f'{type(session_config).__name__}.',
      field='session_config',
    )
  return settings


class RunConfig:
  """TF1's `tf.estimator.RunConfig` (immutable; `replace()` copies)."""

  @_signatures.takes(_SETTINGS)
  def __init__(self, **settings):
    """Checks and stores the settings; reads `TF_CONFIG`.

    Args:
      **settings: TF 1.15's arguments (`_SETTINGS`, defaults there): where
        the model lives (`model_dir`), the seed, how often summaries,
        checkpoints and the step-count line are written, how many
        checkpoints are kept, the session's `session_config` and creation
        timeout, and the distribution arguments graphnet accepts only as
        None (`train_distribute`, `eval_distribute`,
        `experimental_distribute`) or ignores (`device_fn`, `protocol`,
        `experimental_max_worker_delay_secs`).

    Raises:
      ConfigError: a setting is out of range, both checkpoint intervals are
        given, or a distribution strategy is asked for.
      ClusterError: `TF_CONFIG` is malformed (the field is named).
    """
    self._values = _checked(_save_intervals(settings))
    self._tf_config = tf_config.parse()

  def __getattr__(self, name):
    values = self.__dict__.get('_values', {})
    if name in values:
      return values[name]
    raise AttributeError(f'RunConfig has no attribute {name!r}')

  def replace(self, **kwargs):
    """A copy with the given fields replaced (TF1's `RunConfig.replace`).

    Raises:
      ConfigError: a field that RunConfig does not have.
    """
    unknown = sorted(set(kwargs) - set(_FIELDS))
    if unknown:
      raise errors.ConfigError(
        f'RunConfig.replace: unknown field(s) {unknown}; the fields are '
        f'{list(_FIELDS)}.',
        field=unknown[0],
      )
    values = dict(self._values)
    if 'save_checkpoints_steps' in kwargs and kwargs['save_checkpoints_steps']:
      values['save_checkpoints_secs'] = None
    if 'save_checkpoints_secs' in kwargs and kwargs['save_checkpoints_secs']:
      values['save_checkpoints_steps'] = None
    values.update(kwargs)
    return RunConfig(**values)

  @property
  def tf_config(self):
    """The `tf_config.TfConfig` read when this config was made."""
    return self._tf_config

  @property
  def cluster_spec(self):
    """A `tf.train.ClusterSpec` of TF_CONFIG's cluster (empty if none)."""
    return tf.train.ClusterSpec(
      {job: list(hosts) for job, hosts in self._tf_config.cluster.items()}
    )

  @property
  def task_type(self):
    return self._tf_config.task_type or TaskType.WORKER

  @property
  def task_id(self):
    return self._tf_config.task_index

  @property
  def is_chief(self):
    return self._tf_config.is_chief

  @property
  def master(self):
    """'grpc://host:port' of this task in a cluster, else ''."""
    address = self._tf_config.address
    if address is None or self._tf_config.task_type == TaskType.EVALUATOR:
      return ''
    return f'grpc://{address}'

  @property
  def evaluation_master(self):
    return ''

  @property
  def num_ps_replicas(self):
    return self._tf_config.num_ps

  @property
  def num_worker_replicas(self):
    return self._tf_config.num_workers or 1

  @property
  def global_id_in_cluster(self):
    """Chief 0, workers 1.., ps after them (TF1's numbering)."""
    tc = self._tf_config
    if tc.task_type in (None, TaskType.CHIEF):
      return 0
    if tc.task_type == TaskType.WORKER:
      return len(tc.cluster.get(TaskType.CHIEF, ())) + tc.task_index
    if tc.task_type == TaskType.PS:
      return tc.num_workers + tc.task_index
    return None

  def __repr__(self):
    fields = ', '.join(f'{k}={v!r}' for k, v in self._values.items())
    return f'RunConfig({fields})'
