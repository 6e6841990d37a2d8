"""One source for every setting: config fields, `train` options and flags.

Each trainer flag's default is compared with the config's (the networks'
flags with their config classes'), a grep of the sources finds each
distinctive default defined once, and `graphnet.train` names its own
arguments, never flags: on a log_dir already trained it says so in them,
reports `trained_steps == 0` and evaluates the existing checkpoint.
"""

import ast
import dataclasses
import functools
import io
import pathlib
import tokenize

import numpy as np
import pytest
import tensorflow.compat.v1 as tf
from absl import flags

import graphnet
from graphnet import errors
from graphnet import options
from graphnet.cli import common as cli
from graphnet.cli import train_flags
from graphnet.data import mnist_reader as input_data
from graphnet.distributed import cluster as cluster_lib
from graphnet.nn import layers
from graphnet.nn import models
from graphnet.training import api
from graphnet.training import config as config_lib
from graphnet.training import schedules
from graphnet.training import session_config

tf.disable_eager_execution()

FLAGS = flags.FLAGS
_SOURCES = pathlib.Path(graphnet.__file__).parent


def _flag_default(name):
  """A flag's default as its config field holds it (lists as tuples)."""
  flag = FLAGS[name]
  if isinstance(flag, flags.MultiFlag) or isinstance(flag.default, list):
    return tuple(flag.default)
  return flag.default


def _defaults():
  """{flag name: the value the configs made without arguments hold}."""
  train = config_lib.TrainConfig(log_dir='', input_data_dir='')
  objects = [
    train,
    train.model,
    train.schedule,
    train.session,
    *(models.get(name).config_class() for name in models.names()),
  ]
  found = {}
  for obj in objects:
    for field in dataclasses.fields(obj):
      if options.is_option(field):
        found[options.name_of(field.name)] = getattr(obj, field.name)
  # A config made directly runs one step per run, as TF1; the flag (and
  # train) leave it unset: the automatic rule.
  assert found['steps_per_run'] == 1
  found['steps_per_run'] = None
  return found


def _as_config_value(name, value):
  if name == 'lr_boundaries':
    return tuple(int(v) for v in value)
  if name == 'lr_values':
    return tuple(float(v) for v in value)
  return value


class TestFlagDefaults:
  def test_every_setting_flag_has_its_config_default(self):
    defaults = _defaults()
    assert {'max_steps', 'learning_rate', 'hidden1', 'keep_prob'} <= set(
      defaults
    )
    for name, value in defaults.items():
      flag_value = _as_config_value(name, _flag_default(name))
      assert flag_value == value, name

  def test_every_network_flag_comes_from_its_config_class(self):
    for name in models.names():
      cls = models.get(name).config_class
      for field in dataclasses.fields(cls):
        flag = FLAGS[options.name_of(field.name)]
        assert flag.default == field.default, (name, field.name)
        assert flag.help == options.help_of(field), (name, field.name)

  def test_cluster_flags_have_cluster_config_defaults(self):
    cluster_fields = dataclasses.fields(cluster_lib.ClusterConfig)
    checked = 0
    for field in cluster_fields:
      if field.name in FLAGS and field.name != 'job_name':
        assert _flag_default(field.name) == field.default, field.name
        checked += 1
    assert checked >= 6
    # A task of a cluster must say which job it is: no default.
    assert FLAGS['job_name'].default is None

  def test_only_dirs_preset_and_cluster_are_defined_by_hand(self):
    ours = {f.name for f in FLAGS.flags_by_module_dict()[train_flags.__name__]}
    cluster = {f.name for f in dataclasses.fields(cluster_lib.ClusterConfig)}
    by_hand = ours - set(_defaults()) - cluster
    assert by_hand == {'input_data_dir', 'log_dir', 'train_dir', 'preset'}

  def test_no_flags_read_into_the_default_config(self):
    FLAGS.unparse_flags()
    try:
      FLAGS(['fully_connected_feed'])
      read = train_flags.config_from_flags()
    finally:
      FLAGS.unparse_flags()
    assert read == config_lib.TrainConfig(
      log_dir=cli.DEFAULT_LOG_DIR,
      input_data_dir=cli.DEFAULT_DATA_DIR,
      steps_per_run=None,
    )


@functools.cache
def _numbers_by_name():
  """(name, number, file, line): a number after a name on one logical line.

  Python tokens of graphnet's sources, so docstrings and comments do not
  count: `max_steps: int = options.option(2000` and `'max_steps', 2000` do
  (each number counts for every name before it on its line).
  """
  found = []
  for path in sorted(_SOURCES.rglob('*.py')):
    where = path.relative_to(_SOURCES).as_posix()
    if where.startswith('compat/'):
      continue  # TF1's own API, with TF1's defaults.
    tokens = tokenize.generate_tokens(io.StringIO(path.read_text()).readline)
    names = []
    for token in tokens:
      if token.type == tokenize.NEWLINE:
        names = []
      elif token.type in (tokenize.NAME, tokenize.STRING):
        names.append((token.string.strip('\'"'), token.start[0]))
      elif token.type == tokenize.NUMBER:
        value = ast.literal_eval(token.string)
        found += [(name, value, where, line) for name, line in names]
  return found


def _definitions(name, value):
  return [
    (where, line)
    for seen, number, where, line in _numbers_by_name()
    if seen == name and number == value
  ]


@pytest.mark.parametrize(
  'name, value',
  [
    ('max_steps', 2000),
    ('batch_size', 100),
    ('log_every', 100),
    ('save_checkpoint_steps', 1000),
    ('keep_checkpoint_max', 5),
    ('hidden1', 128),
    ('hidden2', 32),
    ('keep_prob', 0.5),
    ('base_rate', 0.01),
  ],
)
def test_a_default_is_defined_once(name, value):
  assert len(_definitions(name, value)) == 1, _definitions(name, value)


class TestNames:
  def test_one_map_for_train_the_cli_and_mnist_eval(self):
    assert options.name_of('base_rate') == 'learning_rate'
    assert options.name_of('interval_secs') == 'eval_interval_secs'
    assert options.as_flag('kind') == '--lr_schedule'
    assert 'learning_rate' in api.OPTIONS

  def test_train_names_its_option_not_the_field(self, tmp_path):
    with pytest.raises(errors.ConfigError, match='^learning_rate: ') as raised:
      graphnet.train('mlp', None, tmp_path, learning_rate=-1.0)
    assert raised.value.field == 'learning_rate'
    assert '--' not in str(raised.value)

  def test_steps_per_run_default_is_the_automatic_rule(self):
    made = api._make_config(models.get('mlp'), '', {'eval_every': 50})
    assert made.steps_per_run == 50
    config = config_lib.TrainConfig(
      log_dir='',
      input_data_dir='',
      log_every=10,
      eval_every=30,
      steps_per_run=None,
    )
    assert config.steps_per_run == 10
    assert config.steps_per_run == config_lib.auto_steps_per_run(config)
    given = dataclasses.replace(config, steps_per_run=3)
    assert given.steps_per_run == 3
    schedule = schedules.Schedule(
      'piecewise_hook', boundaries=(25,), values=(0.1, 0.01)
    )
    assert (
      config_lib.TrainConfig(
        log_dir='', input_data_dir='', schedule=schedule, steps_per_run=None
      ).steps_per_run
      == 25
    )

  def test_session_bounds_come_from_the_field(self):
    with pytest.raises(errors.ConfigError, match=r'in \[0, 1\]'):
      session_config.SessionOptions(gpu_memory_fraction=1.5)


def _tiny_data():
  rng = np.random.default_rng(0)
  images = rng.random((60, 6)).astype(np.float32)
  labels = rng.integers(0, 3, 60)
  return input_data.from_arrays(
    train=(images[:40], labels[:40]),
    test=(images[40:], labels[40:]),
    validation_size=10,
  )


@pytest.fixture(scope='module')
def trained(tmp_path_factory):
  """A tiny model trained to step 12 by graphnet.train, and its lines."""
  log_dir = tmp_path_factory.mktemp('trained')
  model = layers.Sequential([layers.Dense(3, name='softmax_linear')])
  lines = []
  result = graphnet.train(
    model,
    _tiny_data(),
    log_dir,
    max_steps=12,
    batch_size=10,
    log_every=5,
    eval_every=100,
    steps_per_run=2,
    seed=0,
    printer=lines.append,
  )
  return model, log_dir, result, lines


class TestTrainSpeaksArguments:
  def test_unusable_log_dir_names_the_argument(self, tmp_path):
    blocker = tmp_path / 'file'
    blocker.write_text('not a directory')
    with pytest.raises(errors.ConfigError) as raised:
      graphnet.train('mlp', _tiny_data(), blocker / 'logs', batch_size=10)
    assert str(raised.value).startswith(f'log_dir {blocker / "logs"} cannot ')
    assert '--' not in str(raised.value)

  def test_other_model_names_the_argument(self, trained):
    other = layers.Sequential([layers.Dense(4), layers.Dense(3)])
    with pytest.raises(errors.CheckpointMismatchError) as raised:
      graphnet.train(
        other, _tiny_data(), trained[1], max_steps=20, batch_size=10
      )
    assert f'log_dir {trained[1]} holds checkpoint' in str(raised.value)
    assert 'Use a new log_dir for this model' in str(raised.value)
    assert '--' not in str(raised.value)

  def test_rounding_names_the_arguments(self, trained):
    lines = trained[3]
    assert (
      'steps_per_run 2: intervals rounded to multiples: log_every 5 -> 6.'
      in lines
    )
    assert not any('--' in line for line in lines)
    assert trained[2].trained_steps == 12
    assert not trained[2].nothing_trained

  def test_trained_log_dir_says_so_and_evaluates_its_checkpoint(self, trained):
    model, log_dir, first, _ = trained
    before = {p.name: p.stat().st_mtime_ns for p in log_dir.iterdir()}
    lines = []
    again = graphnet.train(
      model,
      _tiny_data(),
      log_dir,
      max_steps=12,
      batch_size=10,
      seed=0,
      printer=lines.append,
    )
    assert lines[0] == (
      'already trained to step 12 (>= max_steps 12): nothing to train; '
      'use a larger max_steps or a new log_dir'
    )
    assert again.trained_steps == 0 and again.nothing_trained
    assert again.global_step == 12
    assert again.checkpoint == first.checkpoint
    # The same weights give the same counts as the end of training.
    assert again.evaluations == first.evaluations
    assert again.evaluations['test'].num_examples == 20
    assert 'Test Data Eval:' in lines
    after = {p.name: p.stat().st_mtime_ns for p in log_dir.iterdir()}
    assert after == before

  def test_divergence_names_the_arguments(self, tmp_path):
    model = layers.Sequential([layers.Dense(3, name='softmax_linear')])
    with pytest.raises(errors.DivergenceError) as raised:
      graphnet.train(
        model,
        _tiny_data(),
        tmp_path,
        max_steps=20,
        batch_size=10,
        learning_rate=1e38,
        log_every=1,
        printer=lambda line: None,
      )
    message = str(raised.value)
    assert 'lower learning_rate (or use a decaying lr_schedule)' in message
    assert '--' not in message
