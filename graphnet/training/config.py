"""The trainer's configuration: small immutable dataclasses.

Entry points read their flags once into a `TrainConfig`; the library never
sees a flag. A setting's default, help line and bounds are written once,
as an `options.option()` field here: `graphnet.train` takes it as an option
and the command line makes its flag from it. Each rule is checked once, in
the `__post_init__` of the dataclass that holds the value (a network's own
fields in its config class in `models`); a bad value raises
`errors.ConfigError` whose `field` names the field, which entry points
translate to the flag that sets it. `steps_per_run=None` (the default of
`train`, `fit` and the flag) is replaced by `auto_steps_per_run(config)`
when the config is made. No TensorFlow is imported here (nor by
`models`), so the command line checks its flags before loading it; the
learning-rate `Schedule` and the `SessionOptions` are here for that
reason, used by `schedules` and `session_config`.

Example:
    config = TrainConfig(log_dir='/tmp/logs', input_data_dir='/tmp/data',
                         model=ModelConfig('conv', keep_prob=0.7),
                         max_steps=500)
    trainer.run_training(config)
"""

import dataclasses
import math

from graphnet import errors
from graphnet import options
from graphnet.data import checks as data_checks
from graphnet.data import dataset
from graphnet.distributed import cluster_config as cluster_lib
from graphnet.nn import hparams
from graphnet.nn import models
from graphnet.training import piecewise

__all__ = [
  'AUTO_STEPS_PER_RUN',
  'DEFAULT_BOUNDARIES',
  'DEFAULT_VALUES',
  'DEVICES',
  'EVAL_SETS',
  'INPUT_PIPELINES',
  'SCHEDULES',
  'ModelConfig',
  'Schedule',
  'SessionOptions',
  'TrainConfig',
  'auto_steps_per_run',
]

# 'feed': TF1's feed_dict of each batch; 'resident': the training set in
# graph variables, batches drawn in the graph (graphnet.input_pipeline).
INPUT_PIPELINES = ('feed', 'resident')

# The data sets an evaluation can cover, in the order they are printed.
EVAL_SETS = dataset.SPLITS

# The most steps per session.run `auto_steps_per_run` picks: enough to
# spread a run's fixed cost (MonitoredSession, hooks, feed) thin.
AUTO_STEPS_PER_RUN = 100


SCHEDULES = (
  'constant',
  'exponential',
  'inverse_time',
  'natural_exp',
  'polynomial',
  'piecewise',
  'piecewise_hook',
)

# The ResNet example's schedule.
DEFAULT_BOUNDARIES = (40000, 60000, 80000)
DEFAULT_VALUES = (0.1, 0.01, 0.001, 0.0001)


@dataclasses.dataclass(frozen=True)
class Schedule:
  """How the learning rate changes with the global step."""

  kind: str = options.option(
    'constant', 'Learning-rate schedule.', choices=SCHEDULES
  )
  # Initial (or constant) learning rate, > 0.
  base_rate: float = options.option(0.01, 'Initial learning rate.')
  # Or, for polynomial, the length of the decay.
  decay_steps: int = options.option(
    550, 'Steps per decay period (550 = one epoch of 100).', lower_bound=1
  )
  # For polynomial, the final rate is base_rate * decay_rate.
  decay_rate: float = options.option(0.99, 'Decay per period, in (0, 1].')
  # A staircase instead of a continuous decay.
  staircase: bool = options.option(False, 'Decay in whole periods.')
  boundaries: tuple = options.option(
    DEFAULT_BOUNDARIES, 'Steps where piecewise schedules change value.'
  )
  values: tuple = options.option(
    DEFAULT_VALUES, 'Piecewise learning rates (one more than boundaries).'
  )

  def __post_init__(self):
    # Every field is checked whatever the kind, so a bad value never waits
    # for the day the kind changes.
    if self.kind not in SCHEDULES:
      raise errors.ConfigError(
        f'Schedule: unknown kind {self.kind!r}; expected one of {SCHEDULES}.',
        field='kind',
      )
    options.check_bounds(self)
    checks = [
      ('base_rate', self.base_rate > 0, '> 0'),
      ('decay_rate', 0 < self.decay_rate <= 1, 'in (0, 1]'),
    ]
    for name, ok, expected in checks:
      if not ok:
        raise errors.ConfigError(
          f'Schedule: {name} must be {expected}, got {getattr(self, name)!r}.',
          field=name,
        )
    piecewise.check(self.boundaries, self.values, 'Schedule')

  def value_at(self, step):
    """The piecewise value in force at `step` (a python int)."""
    return piecewise.value_at(self.boundaries, self.values, step)


DEVICES = ('auto', 'cpu', 'gpu')


@dataclasses.dataclass(frozen=True)
class SessionOptions:
  """What the session config is made of (the trainer's session flags)."""

  device: str = options.option(
    'auto', 'Where to run: auto (GPU if any), cpu or gpu.', choices=DEVICES
  )
  # Instead of taking all GPU memory at start.
  allow_growth: bool = options.option(True, 'Grow GPU memory as needed.')
  gpu_memory_fraction: float = options.option(
    0.0,
    'Fraction of GPU memory to take; 0: TF default.',
    lower_bound=0.0,
    upper_bound=1.0,
  )
  # To stderr.
  log_device_placement: bool = options.option(False, 'Log op placement.')
  intra_op_parallelism_threads: int = options.option(
    0, 'Threads within an op; 0: TF chooses.', lower_bound=0
  )
  inter_op_parallelism_threads: int = options.option(
    0, 'Ops run in parallel; 0: TF chooses.', lower_bound=0
  )

  def __post_init__(self):
    options.check_bounds(self)


@dataclasses.dataclass(frozen=True, init=False)
class ModelConfig:
  """Which network to build, with its own hyperparameters.

  `ModelConfig('mlp', hidden1=64)` makes the network's config from the
  keyword fields (`models.MlpConfig(hidden1=64)`); or pass `params=`.
  """

  # One of models.names().
  model: str = options.option(
    'mlp',
    'mlp: fully connected ({hidden1}/{hidden2}); conv: deep-MNIST CNN; or '
    'package.module:function returning your model callable '
    'model(images[, is_training]) -> logits (e.g. a graphnet.layers.'
    'Sequential), imported from PYTHONPATH.',
  )
  # The network's hyperparameters: a models.get(model).config_class.
  params: object
  regularization_rate: float = options.option(
    0.0, 'L2 penalty; 0: off.', lower_bound=0.0
  )

  def __init__(
    self, model=None, regularization_rate=None, params=None, **fields
  ):
    # None: the field's default, written once above.
    if model is None:
      model = options.default_of(ModelConfig, 'model')
    if regularization_rate is None:
      regularization_rate = options.default_of(
        ModelConfig, 'regularization_rate'
      )
    spec = models.get(model)
    if params is None:
      params = _network_config(spec, fields)
    elif fields or not isinstance(params, spec.config_class):
      raise errors.ConfigError(
        f'ModelConfig: params must be one {spec.config_class.__name__} '
        f'(and no other fields), got {params!r} and {sorted(fields)}.',
        field='model',
      )
    object.__setattr__(self, 'model', model)
    object.__setattr__(self, 'params', params)
    object.__setattr__(self, 'regularization_rate', regularization_rate)
    options.check_bounds(self)

  @property
  def spec(self):
    """The network's `models.ModelSpec`."""
    return models.get(self.model)


def _network_config(spec, fields):
  """`spec`'s config made from `fields`, naming any unknown one."""
  known = {f.name for f in dataclasses.fields(spec.config_class)}
  unknown = sorted(set(fields) - known)
  if unknown:
    raise errors.ConfigError(
      f'ModelConfig: model {spec.name!r} has no field {unknown[0]!r}; its '
      f'fields are {sorted(known)}.',
      field=unknown[0],
    )
  return spec.config_class(**fields)


@dataclasses.dataclass(frozen=True)
class TrainConfig:
  """Everything one training run needs."""

  # Where checkpoints, the .meta graph and events files go; never wiped.
  log_dir: str
  # Where the four IDX files are read from (MNIST's are copied there when
  # missing); any IDX set in MNIST's file names, sizes read from the files.
  input_data_dir: str
  fake_data: bool = options.option(False, 'Use fake data (for unit tests).')
  # None = the IDX files of input_data_dir.
  data_npz: str | None = options.option(
    None,
    'NumPy .npz file to train on instead of {input_data_dir}: x_train, '
    'y_train, x_test, y_test (optional x_val, y_val).',
  )
  # Used when the data has no validation split.
  validation_size: int | None = options.option(
    None,
    'First training examples held out for validation; default '
    f'min({data_checks.VALIDATION_SIZE}, 10% of them).',
    lower_bound=0,
  )
  # The network.
  model: ModelConfig = ModelConfig()
  # The learning-rate schedule.
  schedule: Schedule = Schedule()
  optimizer: str = options.option(
    'sgd', 'Optimizer.', choices=hparams.OPTIMIZERS
  )
  momentum: float = options.option(
    0.9, 'Momentum (momentum, rmsprop).', lower_bound=0.0
  )
  moving_average_decay: float = options.option(
    0.0, "Decay of the weights' moving averages, in [0, 1); 0: off."
  )
  batch_size: int = options.option(
    100, 'Examples per training step.', lower_bound=1
  )
  max_steps: int = options.option(
    2000, 'Global step to train to.', lower_bound=0
  )
  # Also at the end.
  save_checkpoint_steps: int = options.option(
    1000, 'Save a checkpoint every N steps.', lower_bound=1
  )
  keep_checkpoint_max: int = options.option(
    5, 'Checkpoints kept.', lower_bound=1
  )
  # Also at the end.
  eval_every: int = options.option(
    1000, 'Evaluate every N steps.', lower_bound=1
  )
  # Printed in the order of EVAL_SETS.
  eval_sets: tuple = options.option(
    EVAL_SETS,
    'Data sets evaluated every {eval_every} steps and at the end: any of '
    'train, validation, test.',
  )
  log_every: int = options.option(
    100, 'Print the loss every N steps.', lower_bound=1
  )
  # None = a random seed.
  seed: int | None = options.option(
    None, 'Random seed (graph and batch order).'
  )
  # Device, GPU memory and threads.
  session: SessionOptions = SessionOptions()
  input_pipeline: str = options.option(
    'feed',
    'How batches reach the graph: feed (feed_dict, TF1) or resident (the '
    'training set in graph variables, batches drawn in the graph).',
    choices=INPUT_PIPELINES,
  )
  # 1 (TF1's one step per run) in a config made directly; None, the
  # default of train, fit and the flag, is replaced by
  # auto_steps_per_run(config) when the config is made. log_every,
  # eval_every and save_checkpoint_steps are rounded up to multiples of it
  # by the trainer.
  steps_per_run: int | None = options.option(
    1,
    'Training steps per session.run, in an in-graph loop (default: the '
    'largest N <= 100 dividing {log_every}, {eval_every}, '
    '{save_checkpoint_steps} and fed {lr_boundaries}; 1 in a cluster). '
    'With {input_pipeline} feed the N batches are those of N next_batch '
    'calls; 1 runs each step on its own as TF1 did. Intervals are rounded '
    'up to multiples of it.',
    lower_bound=1,
    option_default=None,
  )
  # Distributed training (between-graph replication); None = one process.
  cluster: cluster_lib.ClusterConfig | None = None

  def __post_init__(self):
    options.check_bounds(self)
    checks = [
      (
        'eval_sets',
        bool(self.eval_sets) and set(self.eval_sets) <= set(EVAL_SETS),
        f'one or more of {EVAL_SETS}',
      ),
      ('moving_average_decay', 0 <= self.moving_average_decay < 1, 'in [0, 1)'),
    ]
    for name, ok, expected in checks:
      if not ok:
        raise errors.ConfigError(
          f'TrainConfig: {name} must be {expected}, got '
          f'{getattr(self, name)!r}.',
          field=name,
        )
    if self.steps_per_run is None:
      # Frozen: set once, here, as the default it stands for.
      object.__setattr__(self, 'steps_per_run', auto_steps_per_run(self))
    self._check_cluster()

  def _check_cluster(self):
    if self.cluster is None or not self.cluster.sync_replicas:
      return
    # The chief's queue runner applies the aggregated update in a run of
    # its own, which nobody feeds and which must be one step.
    if self.schedule.kind == 'piecewise_hook':
      raise errors.ConfigError(
        'TrainConfig: cluster.sync_replicas cannot use the schedule kind '
        "piecewise_hook (a fed learning rate); use kind 'piecewise'.",
        field='sync_replicas',
      )
    if self.steps_per_run != 1 or self.input_pipeline != 'feed':
      raise errors.ConfigError(
        'TrainConfig: cluster.sync_replicas needs steps_per_run 1 and '
        f'input_pipeline feed, got {self.steps_per_run} and '
        f'{self.input_pipeline!r}.',
        field='sync_replicas',
      )


def auto_steps_per_run(config):
  """The most steps per run (<= 100) that change nothing but the speed.

  Hooks act between runs, so N steps per run keep every Step line,
  evaluation, checkpoint and summary at its step only when N divides
  `log_every`, `eval_every`, `save_checkpoint_steps` and the boundaries of
  a fed (`piecewise_hook`) learning rate: N is their greatest common
  divisor with `AUTO_STEPS_PER_RUN`. The feed pipeline then draws the
  very batches of one step per run (same seed, same checkpoints). In a
  cluster, where other workers move the global step, it is 1.

  Args:
    config: a `TrainConfig` (its own `steps_per_run` is ignored).

  Returns:
    int in [1, AUTO_STEPS_PER_RUN].
  """
  if config.cluster is not None:
    return 1
  intervals = [
    AUTO_STEPS_PER_RUN,
    config.log_every,
    config.eval_every,
    config.save_checkpoint_steps,
  ]
  if config.schedule.kind == 'piecewise_hook':
    intervals += config.schedule.boundaries
  return math.gcd(*intervals)
