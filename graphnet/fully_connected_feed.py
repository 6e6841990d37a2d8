r"""Trains the fully connected MNIST network: TF1's `fully_connected_feed.py`.

    python -m graphnet.fully_connected_feed --max_steps 30000
    python -m graphnet.fully_connected_feed --preset book
    python -m graphnet.fully_connected_feed --flagfile my.flags

Distributed (one command per task, same host lists everywhere; a ps task
serves until the workers report done):

    python -m graphnet.fully_connected_feed --ps_hosts h0:2222 \
        --worker_hosts h1:2222,h2:2222 --job_name worker --task_index 0

Flags keep TF1's names and defaults. This file only defines and validates
flags, reads them once into a `config.TrainConfig` and calls
`trainer.run_training`; a bad value stops with absl's usage error before
any graph is built or file written.
"""

import logging
import os
import sys

from graphnet import quiet

# TF's start-up chatter and INFO logs hide graphnet's lines unless the user
# asks for them (-v 1); must run before anything imports TF.
quiet.setup()

from absl import app  # noqa: E402
from absl import flags  # noqa: E402

from graphnet import cli  # noqa: E402
from graphnet import cluster as cluster_lib  # noqa: E402
from graphnet import config as config_lib  # noqa: E402
from graphnet import errors  # noqa: E402
from graphnet import mnist  # noqa: E402
from graphnet import schedules  # noqa: E402
from graphnet import session_config  # noqa: E402
from graphnet import signals  # noqa: E402
from graphnet import trainer  # noqa: E402

__all__ = ['main', 'run', 'config_from_flags']

_ROOT = os.getenv('TEST_TMPDIR', '/tmp')

FLAGS = flags.FLAGS

flags.DEFINE_float('learning_rate', 0.01, 'Initial learning rate.')
flags.DEFINE_integer(
  'max_steps', 2000, 'Global step to train to.', lower_bound=0
)
flags.DEFINE_integer(
  'hidden1', 128, 'Units in hidden layer 1 (0: none).', lower_bound=0
)
flags.DEFINE_integer(
  'hidden2', 32, 'Units in hidden layer 2 (0: none).', lower_bound=0
)
flags.DEFINE_integer(
  'batch_size', 100, 'Examples per training step.', lower_bound=1
)
flags.DEFINE_enum(
  'model',
  'mlp',
  list(config_lib.MODELS),
  'mlp: fully connected (--hidden1/--hidden2); conv: deep-MNIST CNN.',
)
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
  os.path.join(_ROOT, 'tensorflow/mnist/input_data'),
  'Directory of the MNIST IDX files (the bundled copy lands here).',
)
# absl.logging defines --log_dir for log files it never writes unless asked;
# TF1's trainer used the name for checkpoints and events, so it is ours.
if 'log_dir' in FLAGS:
  delattr(FLAGS, 'log_dir')
flags.DEFINE_string(
  'log_dir',
  os.path.join(_ROOT, 'tensorflow/mnist/logs/fully_connected_feed'),
  'Directory for checkpoints and events; never wiped, training resumes.',
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
flags.DEFINE_integer(
  'log_every', 100, 'Print the loss every N steps.', lower_bound=1
)
flags.DEFINE_integer('seed', None, 'Random seed (graph and batch order).')
flags.DEFINE_enum(
  'preset',
  'tutorial',
  list(config_lib.PRESETS),
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
  1,
  'Training steps per session.run (an in-graph loop; > 1 needs '
  '--input_pipeline resident; log/eval/checkpoint intervals are rounded '
  'up to multiples of it).',
  lower_bound=1,
)


@flags.multi_flags_validator(
  ['steps_per_run', 'input_pipeline'],
  message='--steps_per_run > 1 needs --input_pipeline resident.',
)
def _check_steps_per_run(values):
  return values['steps_per_run'] == 1 or values['input_pipeline'] == 'resident'


flags.register_validator(
  'learning_rate', lambda v: v > 0, '--learning_rate must be > 0.'
)
flags.register_validator(
  'keep_prob', lambda v: 0 < v <= 1, '--keep_prob must be in (0, 1].'
)
flags.register_validator(
  'decay_rate', lambda v: 0 < v <= 1, '--decay_rate must be in (0, 1].'
)
flags.register_validator(
  'moving_average_decay',
  lambda v: 0 <= v < 1,
  '--moving_average_decay must be in [0, 1).',
)


def _ints(values):
  return [int(v) for v in values]


def _floats(values):
  return [float(v) for v in values]


def _parses(convert, values):
  try:
    convert(values)
  except ValueError:
    return False
  return True


flags.register_validator(
  'lr_boundaries',
  lambda v: _parses(_ints, v) and _ints(v) == sorted(set(_ints(v))),
  '--lr_boundaries must be strictly increasing integers.',
)
flags.register_validator(
  'lr_values',
  lambda v: bool(v) and _parses(_floats, v) and min(_floats(v)) > 0,
  '--lr_values must be a non-empty list of positive numbers.',
)


@flags.multi_flags_validator(
  ['lr_boundaries', 'lr_values'],
  message='--lr_values needs exactly one more value than --lr_boundaries.',
)
def _check_piecewise(values):
  return len(values['lr_values']) == len(values['lr_boundaries']) + 1


@flags.multi_flags_validator(
  ['hidden1', 'hidden2'],
  message='--hidden2 > 0 needs --hidden1 > 0 (set both to 0 for softmax '
  'regression).',
)
def _check_hidden(values):
  return values['hidden1'] > 0 or values['hidden2'] == 0


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
  )


def _value(name, preset):
  """The flag's value; the preset's when the flag was not given."""
  if not FLAGS[name].present and name in preset:
    return preset[name]
  return FLAGS[name].value


def config_from_flags():
  """Reads the parsed flags once into a `config.TrainConfig`.

  Raises:
    app.UsageError: when the combined values (preset + flags) are invalid.
  """
  preset = config_lib.PRESETS[FLAGS.preset]
  v = lambda name: _value(name, preset)  # noqa: E731
  try:
    return config_lib.TrainConfig(
      log_dir=v('log_dir'),
      input_data_dir=v('input_data_dir'),
      fake_data=v('fake_data'),
      model=config_lib.ModelConfig(
        model=v('model'),
        keep_prob=v('keep_prob'),
        batch_norm=v('batch_norm'),
        hidden1=v('hidden1'),
        hidden2=v('hidden2'),
        regularization_rate=v('regularization_rate'),
      ),
      schedule=schedules.Schedule(
        kind=v('lr_schedule'),
        base_rate=v('learning_rate'),
        decay_steps=v('decay_steps'),
        decay_rate=v('decay_rate'),
        staircase=v('staircase'),
        boundaries=tuple(_ints(v('lr_boundaries'))),
        values=tuple(_floats(v('lr_values'))),
      ),
      optimizer=v('optimizer'),
      momentum=v('momentum'),
      moving_average_decay=v('moving_average_decay'),
      batch_size=v('batch_size'),
      max_steps=v('max_steps'),
      save_checkpoint_steps=v('save_checkpoint_steps'),
      keep_checkpoint_max=v('keep_checkpoint_max'),
      eval_every=v('eval_every'),
      log_every=v('log_every'),
      seed=v('seed'),
      session=session_config.SessionOptions(
        device=v('device'),
        allow_growth=v('allow_growth'),
        gpu_memory_fraction=v('gpu_memory_fraction'),
        log_device_placement=v('log_device_placement'),
        intra_op_parallelism_threads=v('intra_op_parallelism_threads'),
        inter_op_parallelism_threads=v('inter_op_parallelism_threads'),
      ),
      input_pipeline=v('input_pipeline'),
      steps_per_run=v('steps_per_run'),
      cluster=_cluster_from_flags(),
    )
  except errors.ConfigError as e:
    raise app.UsageError(
      f'--preset {FLAGS.preset} with these flags: {e}'
    ) from e


def _train(train_config):
  """Trains, or serves the variables as a ps task; returns the exit code."""
  cluster = train_config.cluster
  try:
    if cluster is not None and cluster.job_name == 'ps':
      # A ps task serves the variables until the workers report done.
      cluster_lib.serve_ps(
        cluster, printer=lambda line: print(line, flush=True)
      )
    else:
      trainer.run_training(train_config)
  except signals.TrainingInterruptedError as e:
    # Exit as a shell reports death by the signal (130, 143), after the
    # final checkpoint is safely written.
    print(f'graphnet: {e}', file=sys.stderr, flush=True)
    return e.exit_code
  return 0


def main(argv):
  """Trains (or serves as a ps task); exits 1 on a graphnet error."""
  cli.no_arguments(argv)
  train_config = config_from_flags()
  # TF's logger has its own handler and also reaches absl's: without this
  # every TF log line is printed twice.
  logging.getLogger('tensorflow').propagate = False
  return cli.exit_code(_train, train_config)


def run():
  """Console-script entry point."""
  app.run(main)


if __name__ == '__main__':
  run()
