"""The trainer's configuration: small immutable dataclasses and presets.

Entry points read their flags once into a `TrainConfig`; the library never
sees a flag. `PRESETS` hold the named recipes of `--preset`; explicit flags
override them.

Example:
    config = TrainConfig(log_dir='/tmp/logs', input_data_dir='/tmp/data',
                         max_steps=500)
    trainer.run_training(config)
"""

import dataclasses

from graphnet import cluster as cluster_lib
from graphnet import errors
from graphnet import mnist
from graphnet import schedules
from graphnet import session_config

__all__ = [
  'INPUT_PIPELINES',
  'MODELS',
  'PRESETS',
  'ModelConfig',
  'TrainConfig',
]

MODELS = ('mlp', 'conv')
# 'feed': TF1's feed_dict of each batch; 'resident': the training set in
# graph variables, batches drawn in the graph (graphnet.input_pipeline).
INPUT_PIPELINES = ('feed', 'resident')

# Flag values of each --preset; flags given explicitly win.
PRESETS = {
  'tutorial': {},
  'softmax': {
    'hidden1': 0,
    'hidden2': 0,
    'learning_rate': 0.5,
    'max_steps': 1000,
  },
  # TF's "Deep MNIST for experts" recipe.
  'deep_mnist': {
    'model': 'conv',
    'optimizer': 'adam',
    'learning_rate': 1e-4,
    'batch_size': 50,
    'max_steps': 20000,
    'eval_every': 5000,
  },
  'book': {
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


@dataclasses.dataclass(frozen=True)
class ModelConfig:
  """Which network to build."""

  # Network family: one of MODELS.
  model: str = 'mlp'
  # Units of the first hidden layer; 0 = softmax regression.
  hidden1: int = 128
  # Units of the second hidden layer; 0 = one hidden layer.
  hidden2: int = 32
  # L2 penalty on the weights; 0 = off.
  regularization_rate: float = 0.0
  # conv: probability of keeping each fc1 unit while training, in (0, 1].
  keep_prob: float = 0.5
  # conv: batch-normalise the conv1, conv2 and fc1 pre-activations.
  batch_norm: bool = False

  def __post_init__(self):
    if not 0.0 < self.keep_prob <= 1.0:
      raise errors.ConfigError(
        f'ModelConfig: keep_prob must be in (0, 1], got {self.keep_prob}.'
      )
    if self.model not in MODELS:
      raise errors.ConfigError(
        f'ModelConfig: model must be one of {MODELS}, got {self.model!r}.'
      )
    if self.hidden1 < 0 or self.hidden2 < 0:
      raise errors.ConfigError(
        'ModelConfig: hidden units must be >= 0, got '
        f'hidden1={self.hidden1}, hidden2={self.hidden2}.'
      )
    if self.hidden1 == 0 and self.hidden2 > 0:
      raise errors.ConfigError(
        f'ModelConfig: hidden2={self.hidden2} needs hidden1 > 0.'
      )
    if self.regularization_rate < 0:
      raise errors.ConfigError(
        'ModelConfig: regularization_rate must be >= 0, got '
        f'{self.regularization_rate}.'
      )


@dataclasses.dataclass(frozen=True)
class TrainConfig:
  """Everything one training run needs."""

  # Where checkpoints, the .meta graph and events files go; never wiped.
  log_dir: str
  # Where the four IDX files are read from (copied there when missing).
  input_data_dir: str
  # Use TF1's fake data set instead of MNIST.
  fake_data: bool = False
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
  # Evaluate on train/validation/test every this many steps and at the end.
  eval_every: int = 1000
  # Print the loss every this many steps.
  log_every: int = 100
  # Seed of the graph and of the batch order; None = random.
  seed: int | None = None
  # Device, GPU memory and threads.
  session: session_config.SessionOptions = session_config.SessionOptions()
  # How batches reach the graph: one of INPUT_PIPELINES.
  input_pipeline: str = 'feed'
  # Training steps per session.run (an in-graph loop); > 1 needs the
  # 'resident' pipeline, and log_every, eval_every and save_checkpoint_steps
  # are rounded up to multiples of it by the trainer.
  steps_per_run: int = 1
  # Distributed training (between-graph replication); None = one process.
  cluster: cluster_lib.ClusterConfig | None = None

  def __post_init__(self):
    checks = [
      ('batch_size', self.batch_size >= 1, '>= 1'),
      ('max_steps', self.max_steps >= 0, '>= 0'),
      ('save_checkpoint_steps', self.save_checkpoint_steps >= 1, '>= 1'),
      ('keep_checkpoint_max', self.keep_checkpoint_max >= 1, '>= 1'),
      ('eval_every', self.eval_every >= 1, '>= 1'),
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
          f'{getattr(self, name)!r}.'
        )
    if self.steps_per_run > 1 and self.input_pipeline != 'resident':
      raise errors.ConfigError(
        f'TrainConfig: --steps_per_run {self.steps_per_run} needs '
        f'--input_pipeline resident (got {self.input_pipeline!r}): the '
        'in-graph loop draws its batches from the graph-resident data.'
      )
    self._check_cluster()

  def _check_cluster(self):
    if self.cluster is None or not self.cluster.sync_replicas:
      return
    # The chief's queue runner applies the aggregated update in a run of
    # its own, which nobody feeds and which must be one step.
    if self.schedule.kind == 'piecewise_hook':
      raise errors.ConfigError(
        'TrainConfig: --sync_replicas cannot use --lr_schedule '
        'piecewise_hook (a fed learning rate); use --lr_schedule piecewise.'
      )
    if self.steps_per_run != 1 or self.input_pipeline != 'feed':
      raise errors.ConfigError(
        'TrainConfig: --sync_replicas needs --steps_per_run 1 and '
        f'--input_pipeline feed, got {self.steps_per_run} and '
        f'{self.input_pipeline!r}.'
      )
