"""Every flag of `graphnet.fully_connected_feed` maps to the config it sets.

The flags are parsed in this process, as `app.run` parses them, and read
with `config_from_flags()`. Each case compares the whole config, flattened
by `_flat` to one value per flag, against the defaults with the case's
changes: a flag that sets the wrong field, or sets a field it should leave
alone, fails. The defaults are written out as TF1's
`fully_connected_feed.py` had them. If a redesign moves config fields,
only `_flat` changes.
"""

import os

import pytest
from absl import app
from absl import flags

from graphnet import fully_connected_feed
from graphnet.cli import train_flags
from graphnet.nn import models

import _helpers

FLAGS = flags.FLAGS


def _param(model, name):
  """`model.params.<name>`, or its default if the network has no such field."""
  for params in (model.params, models.MlpConfig(), models.ConvConfig()):
    if hasattr(params, name):
      return getattr(params, name)
  raise AssertionError(f'no network has the field {name}')


def _flat(config):
  """The settings of a `TrainConfig`, keyed by the flag that sets each.

  Args:
    config: a `config.TrainConfig`.

  Returns:
    dict flag name -> value; list flags as tuples of numbers, the cluster
    flags as their `ClusterConfig` fields (its defaults when there is no
    cluster), and `distributed` = whether there is a cluster.
  """
  model = config.model
  schedule = config.schedule
  session = config.session
  cluster = config.cluster
  flat = {
    'log_dir': config.log_dir,
    'input_data_dir': config.input_data_dir,
    'fake_data': config.fake_data,
    'model': model.model,
    # A network's config holds only its own fields; the others keep their
    # defaults (the flags of another network do not reach the config).
    'hidden1': _param(model, 'hidden1'),
    'hidden2': _param(model, 'hidden2'),
    'regularization_rate': model.regularization_rate,
    'keep_prob': _param(model, 'keep_prob'),
    'batch_norm': _param(model, 'batch_norm'),
    'lr_schedule': schedule.kind,
    'learning_rate': schedule.base_rate,
    'decay_steps': schedule.decay_steps,
    'decay_rate': schedule.decay_rate,
    'staircase': schedule.staircase,
    'lr_boundaries': tuple(schedule.boundaries),
    'lr_values': tuple(schedule.values),
    'optimizer': config.optimizer,
    'momentum': config.momentum,
    'moving_average_decay': config.moving_average_decay,
    'batch_size': config.batch_size,
    'max_steps': config.max_steps,
    'save_checkpoint_steps': config.save_checkpoint_steps,
    'keep_checkpoint_max': config.keep_checkpoint_max,
    'eval_every': config.eval_every,
    'eval_sets': config.eval_sets,
    'log_every': config.log_every,
    'seed': config.seed,
    'device': session.device,
    'allow_growth': session.allow_growth,
    'gpu_memory_fraction': session.gpu_memory_fraction,
    'log_device_placement': session.log_device_placement,
    'intra_op_parallelism_threads': session.intra_op_parallelism_threads,
    'inter_op_parallelism_threads': session.inter_op_parallelism_threads,
    'input_pipeline': config.input_pipeline,
    'steps_per_run': config.steps_per_run,
    'data_npz': config.data_npz,
    'validation_size': config.validation_size,
    'distributed': cluster is not None,
  }
  flat.update(_NO_CLUSTER)
  if cluster is not None:
    flat.update(
      ps_hosts=tuple(cluster.ps_hosts),
      worker_hosts=tuple(cluster.worker_hosts),
      job_name=cluster.job_name,
      task_index=cluster.task_index,
      sync_replicas=cluster.sync_replicas,
      replicas_to_aggregate=cluster.replicas_to_aggregate,
      ps_timeout_secs=cluster.ps_timeout_secs,
      partition_min_bytes=cluster.partition_min_bytes,
    )
  return flat


# What `_flat` reports for the cluster flags of a one-process run.
_NO_CLUSTER = {
  'ps_hosts': (),
  'worker_hosts': (),
  'job_name': None,
  'task_index': 0,
  'sync_replicas': False,
  'replicas_to_aggregate': None,
  'ps_timeout_secs': 60.0,
  'partition_min_bytes': 64 * 1024,
}

_ROOT = os.getenv('TEST_TMPDIR', '/tmp')

# TF1's tensorflow/examples/tutorials/mnist/fully_connected_feed.py.
_TF1_DEFAULTS = {
  'learning_rate': 0.01,
  'max_steps': 2000,
  'hidden1': 128,
  'hidden2': 32,
  'batch_size': 100,
  'input_data_dir': os.path.join(_ROOT, 'tensorflow/mnist/input_data'),
  'log_dir': os.path.join(_ROOT, 'tensorflow/mnist/logs/fully_connected_feed'),
  'fake_data': False,
  # TF1 trained with plain GradientDescentOptimizer at a fixed rate, printed
  # every 100 steps, saved and evaluated every 1000 and at the end.
  'optimizer': 'sgd',
  'lr_schedule': 'constant',
  'log_every': 100,
  'save_checkpoint_steps': 1000,
  'eval_every': 1000,
}

# graphnet's additions, off (or TF's own default) unless asked for.
_GRAPHNET_DEFAULTS = {
  'model': 'mlp',
  'regularization_rate': 0.0,
  'keep_prob': 0.5,
  'batch_norm': False,
  'decay_steps': 550,
  'decay_rate': 0.99,
  'staircase': False,
  'lr_boundaries': (40000, 60000, 80000),
  'lr_values': (0.1, 0.01, 0.001, 0.0001),
  'momentum': 0.9,
  'moving_average_decay': 0.0,
  'keep_checkpoint_max': 5,
  'seed': None,
  'device': 'auto',
  'allow_growth': True,
  'gpu_memory_fraction': 0.0,
  'log_device_placement': False,
  'intra_op_parallelism_threads': 0,
  'inter_op_parallelism_threads': 0,
  'input_pipeline': 'feed',
  'eval_sets': ('train', 'validation', 'test'),
  # Not given: the most steps per run (<= 100) dividing every interval.
  'steps_per_run': 100,
  'data_npz': None,
  'validation_size': None,
  'distributed': False,
  **_NO_CLUSTER,
}

_DEFAULTS = {**_TF1_DEFAULTS, **_GRAPHNET_DEFAULTS}

# A valid two-worker cluster, as worker 1 sees it.
_CLUSTER_ARGV = [
  '--ps_hosts=127.0.0.1:1',
  '--worker_hosts=127.0.0.1:2,127.0.0.1:3',
  '--job_name=worker',
  '--task_index=1',
]
_CLUSTER = {
  'distributed': True,
  # Other workers move the global step: one step per run.
  'steps_per_run': 1,
  'ps_hosts': ('127.0.0.1:1',),
  'worker_hosts': ('127.0.0.1:2', '127.0.0.1:3'),
  'job_name': 'worker',
  'task_index': 1,
}

# (argv, the flattened settings it changes). Every flag of the entry point
# but --preset (tested below) appears in at least one argv.
_CASES = [
  (
    _CLUSTER_ARGV + ['--partition_min_bytes', '0'],
    {**_CLUSTER, 'partition_min_bytes': 0},
  ),
  (['--learning_rate', '0.05'], {'learning_rate': 0.05}),
  (['--max_steps', '7'], {'max_steps': 7}),
  (['--max_steps', '0'], {'max_steps': 0}),
  (['--hidden1', '64'], {'hidden1': 64}),
  (['--hidden2', '16'], {'hidden2': 16}),
  (['--hidden2', '0'], {'hidden2': 0}),
  (['--hidden1', '0', '--hidden2', '0'], {'hidden1': 0, 'hidden2': 0}),
  (['--batch_size', '50'], {'batch_size': 50}),
  (['--model', 'conv'], {'model': 'conv'}),
  # keep_prob and batch_norm belong to the conv network's config.
  (
    ['--model', 'conv', '--keep_prob', '0.75'],
    {'model': 'conv', 'keep_prob': 0.75},
  ),
  (
    ['--model', 'conv', '--batch_norm'],
    {'model': 'conv', 'batch_norm': True},
  ),
  (['--input_data_dir', '/x/data'], {'input_data_dir': '/x/data'}),
  (['--validation_size', '1000'], {'validation_size': 1000}),
  # Older TF1 tutorials' name of --log_dir.
  (['--train_dir', '/x/train'], {'log_dir': '/x/train'}),
  (['--train_dir', '/x/t', '--log_dir', '/x/t'], {'log_dir': '/x/t'}),
  (['--data_npz', '/x/data.npz'], {'data_npz': '/x/data.npz'}),
  (['--log_dir', '/x/logs'], {'log_dir': '/x/logs'}),
  (['--fake_data'], {'fake_data': True}),
  (['--optimizer', 'momentum'], {'optimizer': 'momentum'}),
  (['--optimizer', 'adagrad'], {'optimizer': 'adagrad'}),
  (['--optimizer', 'adam'], {'optimizer': 'adam'}),
  (['--optimizer', 'rmsprop'], {'optimizer': 'rmsprop'}),
  (['--optimizer', 'sgd'], {}),
  (['--momentum', '0.5'], {'momentum': 0.5}),
  (['--lr_schedule', 'exponential'], {'lr_schedule': 'exponential'}),
  (['--lr_schedule', 'inverse_time'], {'lr_schedule': 'inverse_time'}),
  (['--lr_schedule', 'natural_exp'], {'lr_schedule': 'natural_exp'}),
  (['--lr_schedule', 'polynomial'], {'lr_schedule': 'polynomial'}),
  (['--lr_schedule', 'piecewise'], {'lr_schedule': 'piecewise'}),
  (['--lr_schedule', 'piecewise_hook'], {'lr_schedule': 'piecewise_hook'}),
  (['--decay_steps', '100'], {'decay_steps': 100}),
  (['--decay_rate', '0.5'], {'decay_rate': 0.5}),
  (['--decay_rate', '1'], {'decay_rate': 1.0}),
  (['--staircase'], {'staircase': True}),
  (['--nostaircase'], {}),
  (
    ['--lr_boundaries', '10,20', '--lr_values', '0.3,0.2,0.1'],
    {'lr_boundaries': (10, 20), 'lr_values': (0.3, 0.2, 0.1)},
  ),
  # A fed rate changes between runs only: N divides its boundaries.
  (
    ['--lr_schedule', 'piecewise_hook', '--lr_boundaries', '150,300']
    + ['--lr_values', '0.3,0.2,0.1'],
    {
      'lr_schedule': 'piecewise_hook',
      'lr_boundaries': (150, 300),
      'lr_values': (0.3, 0.2, 0.1),
      'steps_per_run': 50,
    },
  ),
  (
    ['--lr_boundaries', '', '--lr_values', '0.25'],
    {'lr_boundaries': (), 'lr_values': (0.25,)},
  ),
  (['--moving_average_decay', '0.99'], {'moving_average_decay': 0.99}),
  (['--regularization_rate', '1e-4'], {'regularization_rate': 1e-4}),
  (
    ['--save_checkpoint_steps', '10'],
    {'save_checkpoint_steps': 10, 'steps_per_run': 10},
  ),
  (['--keep_checkpoint_max', '2'], {'keep_checkpoint_max': 2}),
  (['--eval_every', '30'], {'eval_every': 30, 'steps_per_run': 10}),
  (['--eval_every', '7'], {'eval_every': 7, 'steps_per_run': 1}),
  (['--eval_sets', 'test'], {'eval_sets': ('test',)}),
  (
    ['--eval_sets', 'validation,train'],
    {'eval_sets': ('validation', 'train')},
  ),
  (['--log_every', '5'], {'log_every': 5, 'steps_per_run': 5}),
  (['--seed', '42'], {'seed': 42}),
  (['--seed', '0'], {'seed': 0}),
  (['--device', 'cpu'], {'device': 'cpu'}),
  (['--device', 'gpu'], {'device': 'gpu'}),
  (['--noallow_growth'], {'allow_growth': False}),
  (['--gpu_memory_fraction', '0.5'], {'gpu_memory_fraction': 0.5}),
  (['--log_device_placement'], {'log_device_placement': True}),
  (
    ['--intra_op_parallelism_threads', '2'],
    {'intra_op_parallelism_threads': 2},
  ),
  (
    ['--inter_op_parallelism_threads', '3'],
    {'inter_op_parallelism_threads': 3},
  ),
  (['--input_pipeline', 'resident'], {'input_pipeline': 'resident'}),
  (
    ['--input_pipeline', 'resident', '--steps_per_run', '10'],
    {'input_pipeline': 'resident', 'steps_per_run': 10},
  ),
  (['--steps_per_run', '10'], {'steps_per_run': 10}),
  (['--steps_per_run', '1'], {'steps_per_run': 1}),
  (
    ['--input_pipeline', 'feed', '--steps_per_run', '2'],
    {'input_pipeline': 'feed', 'steps_per_run': 2},
  ),
  (_CLUSTER_ARGV, _CLUSTER),
  (
    ['--worker_hosts=127.0.0.1:2', '--job_name=worker'],
    {
      'distributed': True,
      'worker_hosts': ('127.0.0.1:2',),
      'job_name': 'worker',
      'steps_per_run': 1,
    },
  ),
  (
    ['--ps_hosts=127.0.0.1:1', '--worker_hosts=127.0.0.1:2', '--job_name=ps'],
    {
      'distributed': True,
      'ps_hosts': ('127.0.0.1:1',),
      'worker_hosts': ('127.0.0.1:2',),
      'job_name': 'ps',
      'steps_per_run': 1,
    },
  ),
  (_CLUSTER_ARGV + ['--sync_replicas'], {**_CLUSTER, 'sync_replicas': True}),
  (
    _CLUSTER_ARGV + ['--sync_replicas', '--replicas_to_aggregate', '2'],
    {**_CLUSTER, 'sync_replicas': True, 'replicas_to_aggregate': 2},
  ),
  (
    _CLUSTER_ARGV + ['--sync_replicas', '--replicas_to_aggregate', '1'],
    {**_CLUSTER, 'sync_replicas': True, 'replicas_to_aggregate': 1},
  ),
  (
    _CLUSTER_ARGV + ['--ps_timeout_secs', '7.5'],
    {**_CLUSTER, 'ps_timeout_secs': 7.5},
  ),
  # A repeated flag: the last value wins, as in absl.
  (['--batch_size', '10', '--batch_size', '20'], {'batch_size': 20}),
]


def _preset_log_dir(preset):
  return os.path.join(
    _ROOT, f'tensorflow/mnist/logs/fully_connected_feed_{preset}'
  )


# The presets as README.md and BENCHMARKS.md describe them; each but the
# tutorial trains in a default log_dir of its own.
_PRESETS = {
  'tutorial': {},
  'softmax': {
    'log_dir': _preset_log_dir('softmax'),
    'hidden1': 0,
    'hidden2': 0,
    'learning_rate': 0.5,
    'max_steps': 1000,
  },
  'book': {
    'log_dir': _preset_log_dir('book'),
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
  'deep_mnist': {
    'log_dir': _preset_log_dir('deep_mnist'),
    'model': 'conv',
    'optimizer': 'adam',
    'learning_rate': 1e-4,
    'batch_size': 50,
    'max_steps': 20000,
    'eval_every': 5000,
  },
}

# (preset, explicit argv, the settings the argv must win). Explicit flags
# win even when they repeat the default value.
_OVERRIDES = [
  ('softmax', ['--learning_rate', '0.1'], {'learning_rate': 0.1}),
  ('softmax', ['--max_steps', '3'], {'max_steps': 3}),
  (
    'softmax',
    ['--hidden1', '128', '--hidden2', '32'],
    {'hidden1': 128, 'hidden2': 32},
  ),
  ('softmax', ['--hidden1', '20'], {'hidden1': 20}),
  ('softmax', ['--log_dir', '/x/logs'], {'log_dir': '/x/logs'}),
  ('book', ['--train_dir', '/x/train'], {'log_dir': '/x/train'}),
  (
    'book',
    ['--hidden1', '300', '--hidden2', '100'],
    {'hidden1': 300, 'hidden2': 100},
  ),
  ('book', ['--learning_rate', '0.01'], {'learning_rate': 0.01}),
  ('book', ['--lr_schedule', 'constant'], {'lr_schedule': 'constant'}),
  ('book', ['--decay_rate', '0.5'], {'decay_rate': 0.5}),
  ('book', ['--decay_steps', '10'], {'decay_steps': 10}),
  ('book', ['--nostaircase'], {'staircase': False}),
  ('book', ['--moving_average_decay', '0'], {'moving_average_decay': 0.0}),
  ('book', ['--regularization_rate', '0'], {'regularization_rate': 0.0}),
  ('book', ['--max_steps', '3'], {'max_steps': 3}),
  ('deep_mnist', ['--model', 'mlp'], {'model': 'mlp'}),
  ('deep_mnist', ['--optimizer', 'sgd'], {'optimizer': 'sgd'}),
  ('deep_mnist', ['--learning_rate', '0.001'], {'learning_rate': 0.001}),
  ('deep_mnist', ['--batch_size', '100'], {'batch_size': 100}),
  ('deep_mnist', ['--max_steps', '2'], {'max_steps': 2}),
  ('deep_mnist', ['--eval_every', '1000'], {'eval_every': 1000}),
  ('tutorial', ['--learning_rate', '0.2'], {'learning_rate': 0.2}),
]

# Combinations each flag accepts alone, refused together: (argv, a flag
# the message must name).
_REFUSED = [
  (
    _CLUSTER_ARGV
    + ['--sync_replicas', '--input_pipeline', 'resident']
    + ['--steps_per_run', '10'],
    'steps_per_run',
  ),
  (
    _CLUSTER_ARGV + ['--sync_replicas', '--input_pipeline', 'resident'],
    'input_pipeline',
  ),
  (
    _CLUSTER_ARGV + ['--sync_replicas', '--lr_schedule', 'piecewise_hook'],
    'piecewise_hook',
  ),
  (['--sync_replicas'], 'sync_replicas'),
  (['--replicas_to_aggregate', '2'], 'replicas_to_aggregate'),
  (['--worker_hosts=127.0.0.1:2'], 'job_name'),
  (['--hidden1', '0', '--hidden2', '5'], 'hidden2'),
  (['--eval_sets', 'test,tst'], '--eval_sets'),
  (['--eval_sets', ''], '--eval_sets'),
  (['--preset', 'softmax', '--hidden2', '5'], 'hidden2'),
  (['--lr_boundaries', '10,20', '--lr_values', '0.1,0.01'], 'lr_values'),
  (['--train_dir', '/x/a', '--log_dir', '/x/b'], 'train_dir'),
  # Neither a registered name nor an importable package.module:function.
  (['--model', 'lstm'], '--model'),
  (['--model', 'no_such_module_xyz:build'], '--model'),
  (['--model', 'graphnet.layers:no_such_function'], '--model'),
  (['--model', 'graphnet.contract:tensor'], '--model'),
  (['--model', 'os:getcwd'], '--model'),
]


def _parse(argv):
  """Parses `argv` as `app.run` would, from the flags' defaults."""
  FLAGS.unparse_flags()
  rest = FLAGS(['fully_connected_feed', *argv])
  assert rest == ['fully_connected_feed'], rest


def _config(argv):
  _parse(argv)
  return fully_connected_feed.config_from_flags()


@pytest.fixture(autouse=True)
def _fresh_flags():
  """Leaves the process-global flags unparsed after each test."""
  yield
  FLAGS.unparse_flags()


def _our_flags():
  """Names of the flags fully_connected_feed defines (not absl's)."""
  defined = FLAGS.flags_by_module_dict()[train_flags.__name__]
  return {flag.name for flag in defined}


class TestDefaults:
  def test_no_flags_give_tf1_defaults(self):
    assert _flat(_config([])) == _DEFAULTS

  def test_every_setting_has_a_default(self):
    assert set(_flat(_config([]))) == set(_DEFAULTS)

  def test_flag_defaults_are_tf1s(self):
    for name, value in _TF1_DEFAULTS.items():
      if name in ('optimizer', 'lr_schedule'):
        continue  # graphnet's names for TF1's fixed choices, checked above.
      assert FLAGS[name].default == value, name

  def test_dirs_are_under_tmp_without_test_tmpdir(self, tmp_path):
    env = {k: v for k, v in os.environ.items() if k != 'TEST_TMPDIR'}
    script = (
      'from absl import flags\n'
      'from graphnet import fully_connected_feed\n'
      'print(flags.FLAGS["input_data_dir"].default)\n'
      'print(flags.FLAGS["log_dir"].default)\n'
    )
    done = _helpers.run_python('-c', script, env=env, timeout=120, cwd=tmp_path)
    assert done.returncode == 0, done.stderr[-2000:]
    assert done.stdout.splitlines()[-2:] == [
      '/tmp/tensorflow/mnist/input_data',
      '/tmp/tensorflow/mnist/logs/fully_connected_feed',
    ]


class TestFlags:
  @pytest.mark.parametrize('argv, changed', _CASES)
  def test_flag_sets_its_field_and_no_other(self, argv, changed):
    assert _flat(_config(argv)) == {**_DEFAULTS, **changed}

  def test_every_flag_has_a_case(self):
    given = {
      arg.lstrip('-').split('=')[0]
      for argv, _ in _CASES
      for arg in argv
      if arg.startswith('--')
    }
    given |= {'allow_growth', 'staircase'}  # Given as --noallow_growth, ...
    assert _our_flags() - {'preset'} <= given

  def test_every_flag_has_a_setting(self):
    # --train_dir sets log_dir.
    assert _our_flags() - {'preset', 'train_dir'} <= set(_DEFAULTS)

  def test_config_is_read_once_not_kept_in_sync(self):
    config = _config(['--batch_size', '7'])
    _parse(['--batch_size', '9'])
    assert config.batch_size == 7


class TestPresets:
  @pytest.mark.parametrize('preset', sorted(_PRESETS))
  def test_preset_gives_documented_values(self, preset):
    config = _config(['--preset', preset])
    assert _flat(config) == {**_DEFAULTS, **_PRESETS[preset]}

  def test_every_preset_is_documented(self):
    assert set(FLAGS['preset'].parser.enum_values) == set(_PRESETS)
    assert FLAGS['preset'].default == 'tutorial'

  @pytest.mark.parametrize('preset, argv, changed', _OVERRIDES)
  def test_explicit_flag_beats_preset(self, preset, argv, changed):
    for args in (['--preset', preset, *argv], [*argv, '--preset', preset]):
      expected = {**_DEFAULTS, **_PRESETS[preset], **changed}
      assert _flat(_config(args)) == expected, args

  def test_preset_does_not_touch_flags(self):
    _config(['--preset', 'book'])
    assert FLAGS.hidden1 == 128
    assert FLAGS.learning_rate == 0.01


def _refusal(argv):
  """The message of the usage error `argv` is refused with."""
  try:
    _config(argv)
  except (flags.Error, app.UsageError) as e:
    return str(e)
  pytest.fail(f'{argv} was accepted')


class TestRefused:
  @pytest.mark.parametrize('argv, named', _REFUSED)
  def test_combination_is_a_usage_error_naming_the_flag(self, argv, named):
    assert named in _refusal(argv)

  def test_sync_needs_one_step_per_run_on_the_command_line(self, tmp_path):
    log_dir = tmp_path / 'logs'
    argv = _CLUSTER_ARGV + [
      '--sync_replicas',
      '--input_pipeline',
      'resident',
      '--steps_per_run',
      '10',
      '--fake_data',
      f'--log_dir={log_dir}',
    ]
    done = _helpers.run_python(
      '-m',
      'graphnet.fully_connected_feed',
      *argv,
      env=dict(os.environ, TEST_TMPDIR=str(tmp_path / 'root')),
      timeout=120,
    )
    assert done.returncode == 1, done.stderr[-2000:]
    assert 'steps_per_run' in done.stderr
    assert 'Traceback' not in done.stderr
    assert not log_dir.exists()
