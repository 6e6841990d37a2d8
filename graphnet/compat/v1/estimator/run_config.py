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

import dataclasses

import tensorflow.compat.v1 as tf

from graphnet import errors
from graphnet.distributed import tf_config

__all__ = ['RunConfig', 'TaskType']

# Stands for "not given": TF1 saves every 600 s unless steps are given.
_USE_DEFAULT = object()
_DEFAULT_SAVE_SECS = 600

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


def _fields_of(config):
  """A RunConfig's fields by name, in order (the values themselves)."""
  return {f.name: getattr(config, f.name) for f in dataclasses.fields(config)}


@dataclasses.dataclass(frozen=True, eq=False, repr=False)
class RunConfig:
  """TF1's `tf.estimator.RunConfig` (immutable; `replace()` copies).

  The fields are TF 1.15's arguments, in its order, with its defaults.
  Making one reads `TF_CONFIG` (the cluster properties below).

  Raises (when made):
    ConfigError: a setting is out of range, both checkpoint intervals are
      given, or a distribution strategy is asked for.
    ClusterError: `TF_CONFIG` is malformed (the field is named).
  """

  # Directory of checkpoints and summaries, or None (the Estimator's).
  model_dir: object = None
  # The graph's random seed, an int >= 0, or None.
  tf_random_seed: object = None
  # Global steps between summaries, >= 0.
  save_summary_steps: object = 100
  # Global steps between checkpoints, >= 1; given, no seconds schedule.
  save_checkpoints_steps: object = _USE_DEFAULT
  # Seconds between checkpoints, > 0; 600 when neither interval is given.
  save_checkpoints_secs: object = _USE_DEFAULT
  # A tf.ConfigProto for the Estimator's sessions, or None.
  session_config: object = None
  # Checkpoints listed in the `checkpoint` file, >= 0.
  keep_checkpoint_max: object = 5
  # Also keep (unlisted) one checkpoint per this many hours.
  keep_checkpoint_every_n_hours: object = 10000
  # Global steps between the loss and global_step/sec lines, >= 0.
  log_step_count_steps: object = 100
  # Must stay None: no tf.distribute strategy (_STRATEGIES).
  train_distribute: object = None
  # Accepted for TF1's sake; devices come from the cluster.
  device_fn: object = None
  # Accepted for TF1's sake; sessions use grpc.
  protocol: object = None
  # Must stay None (_STRATEGIES).
  eval_distribute: object = None
  # Must stay None (_STRATEGIES).
  experimental_distribute: object = None
  # Accepted for TF1's sake (no worker delay).
  experimental_max_worker_delay_secs: object = None
  # Seconds a session may take to be created.
  session_creation_timeout_secs: object = 7200

  def __post_init__(self):
    settings = _checked(_save_intervals(_fields_of(self)))
    for name, value in settings.items():
      object.__setattr__(self, name, value)
    object.__setattr__(self, '_tf_config', tf_config.parse())

  def replace(self, **kwargs):
    """A copy with the given fields replaced (TF1's `RunConfig.replace`).

    Raises:
      ConfigError: a field that RunConfig does not have.
    """
    values = _fields_of(self)
    unknown = sorted(set(kwargs) - set(values))
    if unknown:
      raise errors.ConfigError(
        f'RunConfig.replace: unknown field(s) {unknown}; the fields are '
        f'{list(values)}.',
        field=unknown[0],
      )
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
    fields = ', '.join(f'{k}={v!r}' for k, v in _fields_of(self).items())
    return f'RunConfig({fields})'
