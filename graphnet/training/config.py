"""The trainer's configuration: small immutable dataclasses.

Entry points read their flags once into a `TrainConfig`; the library never
sees a flag. Each rule is checked once, in the `__post_init__` of the
dataclass that holds the value (a network's own fields in its config class
in `models`); a bad value raises `errors.ConfigError` whose `field` names
the field, which entry points translate to the flag that sets it.

Example:
    config = TrainConfig(log_dir='/tmp/logs', input_data_dir='/tmp/data',
                         model=ModelConfig('conv', keep_prob=0.7),
                         max_steps=500)
    trainer.run_training(config)
"""

import dataclasses
import math

from graphnet import errors
from graphnet.distributed import cluster as cluster_lib
from graphnet.nn import mlp as mnist
from graphnet.nn import models
from graphnet.training import schedules
from graphnet.training import session_config

__all__ = [
  'AUTO_STEPS_PER_RUN',
  'EVAL_SETS',
  'INPUT_PIPELINES',
  'ModelConfig',
  'TrainConfig',
  'auto_steps_per_run',
]

# 'feed': TF1's feed_dict of each batch; 'resident': the training set in
# graph variables, batches drawn in the graph (graphnet.input_pipeline).
INPUT_PIPELINES = ('feed', 'resident')

# The data sets an evaluation can cover, in the order they are printed.
EVAL_SETS = ('train', 'validation', 'test')

# The most steps per session.run `auto_steps_per_run` picks: enough to
# spread a run's fixed cost (MonitoredSession, hooks, feed) thin.
AUTO_STEPS_PER_RUN = 100


@dataclasses.dataclass(frozen=True, init=False)
class ModelConfig:
  """Which network to build, with its own hyperparameters.

  `ModelConfig('mlp', hidden1=64)` makes the network's config from the
  keyword fields (`models.MlpConfig(hidden1=64)`); or pass `params=`.
  """

  # Network name: one of models.names().
  model: str
  # The network's hyperparameters: a models.get(model).config_class.
  params: object
  # L2 penalty on the weights; 0 = off.
  regularization_rate: float

  def __init__(
    self, model='mlp', regularization_rate=0.0, params=None, **fields
  ):
    spec = models.get(model)
    if params is None:
      params = _network_config(spec, fields)
    elif fields or not isinstance(params, spec.config_class):
      raise errors.ConfigError(
        f'ModelConfig: params must be one {spec.config_class.__name__} '
        f'(and no other fields), got {params!r} and {sorted(fields)}.',
        field='model',
      )
    if not regularization_rate >= 0:
      raise errors.ConfigError(
        'ModelConfig: regularization_rate must be >= 0, got '
        f'{regularization_rate}.',
        field='regularization_rate',
      )
    object.__setattr__(self, 'model', model)
    object.__setattr__(self, 'params', params)
    object.__setattr__(self, 'regularization_rate', regularization_rate)

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
  # Use TF1's fake data set instead of MNIST.
  fake_data: bool = False
  # A NumPy .npz file (x_train, y_train, x_test, y_test, optional x_val,
  # y_val) to read instead of input_data_dir; None = the IDX files.
  data_npz: str | None = None
  # First training examples held out for validation (when the data has no
  # validation split); None = min(5000, 10% of the training examples).
  validation_size: int | None = None
  # The network.
  model: ModelConfig = ModelConfig()
  # The learning-rate schedule.
  schedule: schedules.Schedule = schedules.Schedule()
  # One of mnist.OPTIMIZERS.
  optimizer: str = 'sgd'
  # Momentum of the momentum and rmsprop optimizers.
  momentum: float = 0.9
  # Decay of the moving averages of the weights; 0 = off.
  moving_average_decay: float = 0.0
  # Examples per training step.
  batch_size: int = 100
  # Global step to train to.
  max_steps: int = 2000
  # Save a checkpoint every this many steps (and at the end).
  save_checkpoint_steps: int = 1000
  # Checkpoints kept on disk.
  keep_checkpoint_max: int = 5
  # Evaluate every this many steps and at the end.
  eval_every: int = 1000
  # The data sets evaluated: some of EVAL_SETS, printed in that order.
  eval_sets: tuple = EVAL_SETS
  # Print the loss every this many steps.
  log_every: int = 100
  # Seed of the graph and of the batch order; None = random.
  seed: int | None = None
  # Device, GPU memory and threads.
  session: session_config.SessionOptions = session_config.SessionOptions()
  # How batches reach the graph: one of INPUT_PIPELINES.
  input_pipeline: str = 'feed'
  # Training steps per session.run (an in-graph loop over N fed or
  # resident batches); log_every, eval_every and save_checkpoint_steps are
  # rounded up to multiples of it by the trainer.
  steps_per_run: int = 1
  # Distributed training (between-graph replication); None = one process.
  cluster: cluster_lib.ClusterConfig | None = None

  def __post_init__(self):
    checks = [
      ('batch_size', self.batch_size >= 1, '>= 1'),
      (
        'validation_size',
        self.validation_size is None or self.validation_size >= 0,
        'None or >= 0',
      ),
      ('max_steps', self.max_steps >= 0, '>= 0'),
      ('save_checkpoint_steps', self.save_checkpoint_steps >= 1, '>= 1'),
      ('keep_checkpoint_max', self.keep_checkpoint_max >= 1, '>= 1'),
      ('eval_every', self.eval_every >= 1, '>= 1'),
      (
        'eval_sets',
        bool(self.eval_sets) and set(self.eval_sets) <= set(EVAL_SETS),
        f'one or more of {EVAL_SETS}',
      ),
      ('log_every', self.log_every >= 1, '>= 1'),
      ('steps_per_run', self.steps_per_run >= 1, '>= 1'),
      ('momentum', self.momentum >= 0, '>= 0'),
      ('moving_average_decay', 0 <= self.moving_average_decay < 1, 'in [0, 1)'),
      (
        'optimizer',
        self.optimizer in mnist.OPTIMIZERS,
        f'one of {mnist.OPTIMIZERS}',
      ),
      (
        'input_pipeline',
        self.input_pipeline in INPUT_PIPELINES,
        f'one of {INPUT_PIPELINES}',
      ),
    ]
    for name, ok, expected in checks:
      if not ok:
        raise errors.ConfigError(
          f'TrainConfig: {name} must be {expected}, got '
          f'{getattr(self, name)!r}.',
          field=name,
        )
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
