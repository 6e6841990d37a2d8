"""Tests of graphnet.session_config."""

import logging

import pytest
import tensorflow.compat.v1 as tf

from graphnet import errors
from graphnet import options
from graphnet.training import session_config

tf.disable_eager_execution()


class TestMakeConfig:
  def test_defaults(self):
    config = session_config.make_config(session_config.SessionOptions())
    assert isinstance(config, tf.ConfigProto)
    assert config.allow_soft_placement
    assert config.gpu_options.allow_growth
    assert config.gpu_options.per_process_gpu_memory_fraction == 0.0
    assert not config.log_device_placement
    assert config.intra_op_parallelism_threads == 0
    assert config.inter_op_parallelism_threads == 0
    assert 'GPU' not in config.device_count

  def test_every_field(self):
    options = session_config.SessionOptions(
      device='gpu',
      allow_growth=False,
      gpu_memory_fraction=0.25,
      log_device_placement=True,
      intra_op_parallelism_threads=3,
      inter_op_parallelism_threads=2,
    )
    config = session_config.make_config(options)
    assert config.allow_soft_placement
    assert not config.gpu_options.allow_growth
    assert config.gpu_options.per_process_gpu_memory_fraction == 0.25
    assert config.log_device_placement
    assert config.intra_op_parallelism_threads == 3
    assert config.inter_op_parallelism_threads == 2
    assert 'GPU' not in config.device_count

  def test_cpu_hides_gpus(self):
    options = session_config.SessionOptions(device='cpu')
    config = session_config.make_config(options)
    assert config.device_count['GPU'] == 0
    assert config.allow_soft_placement

  def test_session_runs_with_config(self):
    options = session_config.SessionOptions(
      device='cpu', intra_op_parallelism_threads=1
    )
    with tf.Graph().as_default():
      with tf.device(session_config.resolve_device('cpu')):
        total = tf.reduce_sum(tf.constant([1.0, 2.0]))
      with tf.Session(config=session_config.make_config(options)) as sess:
        assert sess.run(total) == 3.0
        devices = [d.device_type for d in sess.list_devices()]
    assert 'GPU' not in devices


class TestResolveDevice:
  @pytest.mark.parametrize(
    'device, num_gpus, expected',
    [
      ('auto', 0, '/cpu:0'),
      ('auto', 1, '/gpu:0'),
      ('cpu', 0, '/cpu:0'),
      ('cpu', 1, '/cpu:0'),
      ('gpu', 1, '/gpu:0'),
      ('gpu', 2, '/gpu:0'),
    ],
  )
  def test_devices(self, device, num_gpus, expected, caplog):
    with caplog.at_level(logging.WARNING, logger='absl'):
      assert session_config.resolve_device(device, num_gpus) == expected
    assert not caplog.records

  def test_gpu_without_gpu_warns_and_uses_cpu(self, caplog):
    with caplog.at_level(logging.WARNING, logger='absl'):
      device = session_config.resolve_device(
        'gpu', num_gpus=0, names=options.as_flag
      )
      assert device == '/cpu:0'
    warnings = [r for r in caplog.records if r.levelno == logging.WARNING]
    assert len(warnings) == 1
    message = warnings[0].getMessage()
    assert '--device=gpu' in message
    assert 'BUILD.md' in message

  def test_library_warning_names_the_argument(self, caplog):
    with caplog.at_level(logging.WARNING, logger='absl'):
      session_config.resolve_device('gpu', num_gpus=0)
    [warning] = [r.getMessage() for r in caplog.records]
    assert warning.startswith('device=gpu but TensorFlow sees no GPU')

  def test_default_asks_tensorflow(self):
    expected = '/gpu:0' if session_config.gpu_count() else '/cpu:0'
    assert session_config.resolve_device('auto') == expected

  def test_unknown_device(self):
    with pytest.raises(errors.ConfigError, match="'tpu'"):
      session_config.resolve_device('tpu', num_gpus=0)


class TestSessionOptions:
  @pytest.mark.parametrize(
    'kwargs, match',
    [
      ({'device': 'GPU'}, 'device'),
      ({'gpu_memory_fraction': -0.1}, 'gpu_memory_fraction'),
      ({'gpu_memory_fraction': 1.5}, 'gpu_memory_fraction'),
      ({'intra_op_parallelism_threads': -1}, 'thread'),
      ({'inter_op_parallelism_threads': -2}, 'thread'),
    ],
  )
  def test_bad_values(self, kwargs, match):
    with pytest.raises(errors.ConfigError, match=match):
      session_config.SessionOptions(**kwargs)

  @pytest.mark.parametrize('fraction', [0.0, 0.5, 1.0])
  def test_fraction_bounds_are_allowed(self, fraction):
    options = session_config.SessionOptions(gpu_memory_fraction=fraction)
    assert options.gpu_memory_fraction == fraction

  def test_frozen(self):
    with pytest.raises(AttributeError):
      session_config.SessionOptions().device = 'cpu'
