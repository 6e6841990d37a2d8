"""GPU readiness, tested on a CPU-only machine.

The GPU path is made correct by construction: `resolve_device` pins the
graph to '/gpu:0' when a GPU is asked for and present, and `make_config`
always allows soft placement, so the same graph (and its saved .meta) also
runs where there is no GPU. These tests pretend a GPU exists where needed
and check that training, evaluation and restoring still run on the CPU.
"""

import os
import re
import subprocess
import sys

import numpy as np
import pytest
import tensorflow.compat.v1 as tf

from graphnet.data import mnist_reader as input_data
from graphnet.nn import deep_mnist
from graphnet.nn import mlp as mnist
from graphnet.training import config as config_lib
from graphnet.training import session_config
from graphnet.training import train_graph
from graphnet.training import trainer

tf.disable_eager_execution()

_REPO = os.path.dirname(os.path.dirname(os.path.abspath(__file__)))
# TF's placer logs one line per op: '<name>: (<type>): <device>'.
_PLACED = re.compile(r'(\S+): \((\w+)\): (/job:\S+/device:(\w+):\d+)')


@pytest.fixture(scope='module')
def gpu_run(tmp_path_factory):
  """fully_connected_feed --device gpu --log_device_placement, no GPU.

  One fresh process serves both subprocess tests (TF's start-up dominates).
  """
  tmp = tmp_path_factory.mktemp('gpu_run')
  env = dict(
    os.environ,
    # Placement lines are INFO logs of TF's C++ core.
    TF_CPP_MIN_LOG_LEVEL='0',
    # No GPU, even on a machine that has one: the tests are about the CPU.
    CUDA_VISIBLE_DEVICES='',
  )
  cmd = [
    sys.executable,
    '-m',
    'graphnet.fully_connected_feed',
    '--fake_data',
    '--max_steps',
    '2',
    '--device',
    'gpu',
    '--log_device_placement',
    '--log_dir',
    str(tmp / 'logs'),
    '--input_data_dir',
    str(tmp / 'data'),
  ]
  proc = subprocess.run(
    cmd, cwd=_REPO, env=env, capture_output=True, text=True, timeout=300
  )
  assert proc.returncode == 0, proc.stderr[-3000:]
  return proc, tmp / 'logs'


def _placements(log):
  """{op name: (op type, device type)} from TF's placement log lines."""
  matches = (_PLACED.search(line) for line in log.splitlines())
  return {m.group(1): (m.group(2), m.group(4)) for m in matches if m}


def _executed_devices(sess, fetches, feed):
  """Device names on which running `fetches` executed kernels."""
  options = tf.RunOptions(trace_level=tf.RunOptions.FULL_TRACE)
  metadata = tf.RunMetadata()
  result = sess.run(fetches, feed, options=options, run_metadata=metadata)
  devices = {d.device for d in metadata.step_stats.dev_stats}
  return result, devices


class TestLogDevicePlacement:
  def test_logs_ops_placed_on_cpu(self, gpu_run):
    proc, _ = gpu_run
    placed = _placements(proc.stderr)
    assert placed['hidden1/xw_plus_b/MatMul'] == ('MatMul', 'CPU')
    assert any('train_step' in name for name in placed), (
      'the optimizer ops were not logged'
    )
    assert {device for _, device in placed.values()} == {'CPU'}

  def test_device_gpu_without_gpu_warns_and_trains_on_cpu(self, gpu_run):
    proc, log_dir = gpu_run
    assert '--device=gpu but TensorFlow sees no GPU' in proc.stderr
    assert 'running on the CPU' in proc.stderr
    assert 'Step 0: loss' in proc.stdout
    assert 'Test Data Eval:' in proc.stdout
    assert 'model.ckpt-2.meta' in os.listdir(log_dir)


class TestResolveDevice:
  @pytest.mark.parametrize(
    'device, num_gpus, expected',
    [
      ('gpu', 1, '/gpu:0'),
      ('auto', 1, '/gpu:0'),
      ('auto', 4, '/gpu:0'),
      ('cpu', 1, '/cpu:0'),
      ('auto', 0, '/cpu:0'),
      ('gpu', 0, '/cpu:0'),
    ],
  )
  def test_resolves(self, device, num_gpus, expected):
    assert session_config.resolve_device(device, num_gpus=num_gpus) == expected

  def test_cpu_config_hides_gpus(self):
    cpu = session_config.make_config(session_config.SessionOptions('cpu'))
    auto = session_config.make_config(session_config.SessionOptions('auto'))
    assert cpu.device_count['GPU'] == 0
    assert 'GPU' not in auto.device_count
    assert cpu.allow_soft_placement and auto.allow_soft_placement


class TestGpuPinnedGraphOnCpu:
  def test_soft_placement_runs_a_gpu_pinned_conv_graph(self):
    device = session_config.resolve_device('gpu', num_gpus=1)
    graph = tf.Graph()
    with graph.as_default(), tf.device(device):
      images, labels = mnist.placeholder_inputs()
      logits = deep_mnist.inference_conv(images, 0.5, batch_norm=True)
      train_op = mnist.training(mnist.loss(logits, labels), 1e-3, 'adam')
      init = tf.global_variables_initializer()
    assert logits.device == '/device:GPU:0'
    feed = {
      images: np.random.RandomState(0).rand(4, 784),
      labels: np.arange(4),
    }
    options = session_config.SessionOptions('gpu')
    with tf.Session(
      graph=graph, config=session_config.make_config(options)
    ) as sess:
      sess.run(init)
      _, devices = _executed_devices(sess, train_op, feed)
      out = sess.run(logits, feed)
    assert out.shape == (4, 10)
    assert devices and all('CPU' in d for d in devices), devices

  def test_without_soft_placement_the_same_graph_fails(self):
    # What make_config's allow_soft_placement protects against.
    graph = tf.Graph()
    with graph.as_default(), tf.device('/gpu:0'):
      total = tf.add(tf.constant(1.0), tf.constant(2.0))
    hard = tf.ConfigProto(allow_soft_placement=False)
    with tf.Session(graph=graph, config=hard) as sess:
      with pytest.raises(tf.errors.InvalidArgumentError, match='GPU'):
        sess.run(total)

  def test_trainer_pinned_to_gpu_trains_and_restores_on_cpu(
    self, tmp_path, monkeypatch
  ):
    # Pretend this machine has a GPU: --device auto then pins to /gpu:0.
    monkeypatch.setattr(session_config, 'gpu_count', lambda: 1)
    cfg = config_lib.TrainConfig(
      log_dir=str(tmp_path / 'logs'),
      input_data_dir=str(tmp_path / 'data'),
      fake_data=True,
      max_steps=3,
      seed=0,
    )
    data_sets = input_data.read_data_sets(cfg.input_data_dir, fake_data=True)
    tg = train_graph.build_train_graph(cfg, data_sets)
    assert tg.loss.device == '/device:GPU:0'
    assert tg.graph.get_tensor_by_name('predictions:0').device == (
      '/device:GPU:0'
    )
    result = trainer.run_training(cfg, printer=lambda line: None)
    assert result.global_step == 3
    assert result.evaluations['test'].num_examples == len(data_sets.test.images)
    # The saved graph keeps its GPU pins; soft placement restores it here.
    with tf.Graph().as_default() as graph:
      saver = tf.train.import_meta_graph(result.checkpoint + '.meta')
      pinned = graph.get_tensor_by_name('predictions:0')
      assert pinned.device == '/device:GPU:0'
      config = session_config.make_config(session_config.SessionOptions())
      with tf.Session(config=config) as sess:
        saver.restore(sess, result.checkpoint)
        predictions, devices = _executed_devices(
          sess, pinned, {'images:0': data_sets.test.images[:5]}
        )
    assert predictions.shape == (5,)
    assert devices and all('CPU' in d for d in devices), devices
