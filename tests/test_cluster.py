"""Tests for graphnet.cluster: host parsing, configs, devices, ps protocol.

In-process only; the multi-process runs are in test_distributed.py.
"""

import importlib.util
import pathlib
import socket
import sys
import threading

import pytest
import tensorflow.compat.v1 as tf

from graphnet import cluster
from graphnet import config
from graphnet import errors
from graphnet import schedules

tf.disable_eager_execution()


def _load_launcher():
  path = pathlib.Path(__file__).parents[1] / 'scripts/launch_local_cluster.py'
  spec = importlib.util.spec_from_file_location('launch_local_cluster', path)
  module = importlib.util.module_from_spec(spec)
  sys.modules[spec.name] = module
  spec.loader.exec_module(module)
  return module


launcher = _load_launcher()

PS = ('127.0.0.1:2222',)
WORKERS = ('127.0.0.1:2223', '127.0.0.1:2224')


def _worker(index=0, **kwargs):
  return cluster.ClusterConfig(
    ps_hosts=PS,
    worker_hosts=WORKERS,
    job_name='worker',
    task_index=index,
    **kwargs,
  )


class TestParseHosts:
  @pytest.mark.parametrize(
    'text, expected',
    [
      ('', ()),
      ('a:1', ('a:1',)),
      (
        '10.0.0.1:2222, node-2.example.com:65535',
        (
          '10.0.0.1:2222',
          'node-2.example.com:65535',
        ),
      ),
      ('[::1]:2222', ('[::1]:2222',)),
    ],
  )
  def test_accepts_host_port_lists(self, text, expected):
    assert cluster.parse_hosts(text, '--ps_hosts') == expected

  def test_accepts_a_list(self):
    assert cluster.parse_hosts(['a:1', 'b:2'], '--x') == ('a:1', 'b:2')

  @pytest.mark.parametrize(
    'text', ['localhost', 'a:', ':2222', 'a:0', 'a:70000', 'a:b', 'a b:1']
  )
  def test_rejects_malformed_entries_naming_the_flag(self, text):
    with pytest.raises(errors.ClusterError, match='--worker_hosts'):
      cluster.parse_hosts(text, '--worker_hosts')

  def test_rejects_repeated_entries(self):
    with pytest.raises(errors.ClusterError, match='more than once'):
      cluster.parse_hosts('a:1,a:1', '--ps_hosts')


class TestClusterConfig:
  def test_chief_and_defaults(self):
    chief, other = _worker(0), _worker(1)
    assert chief.is_chief and not other.is_chief
    assert chief.num_workers == 2 and chief.aggregate == 2
    assert other.address == WORKERS[1]
    assert other.task == '/job:worker/task:1'
    ps = cluster.ClusterConfig(PS, WORKERS, 'ps', 0)
    assert not ps.is_chief and ps.address == PS[0]

  @pytest.mark.parametrize(
    'kwargs, flag',
    [
      ({'task_index': 2}, '--task_index 2'),
      ({'task_index': -1}, '--task_index'),
      ({'job_name': 'chief'}, '--job_name'),
      ({'worker_hosts': ()}, '--worker_hosts'),
      ({'worker_hosts': ('x:1', PS[0])}, '--ps_hosts and --worker_hosts'),
      ({'replicas_to_aggregate': 3}, '--replicas_to_aggregate'),
      ({'replicas_to_aggregate': 0}, '--replicas_to_aggregate'),
      ({'ps_hosts': ('bad',)}, '--ps_hosts'),
    ],
  )
  def test_rejects_bad_settings_naming_the_flag(self, kwargs, flag):
    args = {
      'ps_hosts': PS,
      'worker_hosts': WORKERS,
      'job_name': 'worker',
      'task_index': 0,
    }
    args.update(kwargs)
    with pytest.raises(errors.ClusterError, match=flag):
      cluster.ClusterConfig(**args)

  def test_ps_job_needs_ps_hosts(self):
    with pytest.raises(errors.ClusterError, match='--ps_hosts is empty'):
      cluster.ClusterConfig((), WORKERS, 'ps', 0)

  def test_sync_rejects_a_fed_learning_rate(self):
    with pytest.raises(errors.ConfigError, match='piecewise_hook'):
      config.TrainConfig(
        log_dir='l',
        input_data_dir='d',
        schedule=schedules.Schedule(kind='piecewise_hook'),
        cluster=_worker(sync_replicas=True),
      )


class TestSessionConfig:
  def test_worker_sees_the_ps_and_itself(self):
    base = tf.ConfigProto(allow_soft_placement=True)
    result = cluster.session_config(_worker(1), base)
    assert list(result.device_filters) == ['/job:ps', '/job:worker/task:1']
    assert result.allow_soft_placement
    assert not base.device_filters  # the base is not changed

  def test_ps_sees_itself(self):
    ps = cluster.ClusterConfig(PS, WORKERS, 'ps', 0)
    assert list(cluster.session_config(ps).device_filters) == ['/job:ps/task:0']


class TestDeviceSetter:
  def test_variables_on_ps_round_robin_compute_on_worker(self):
    two_ps = cluster.ClusterConfig(
      ('127.0.0.1:1', '127.0.0.1:2'), WORKERS, 'worker', 1
    )
    with tf.Graph().as_default():
      with tf.device(cluster.device_setter(two_ps, '/cpu:0')):
        a = tf.get_variable('a', [2])
        b = tf.get_variable('b', [2])
        total = a + b
    assert a.device == '/job:ps/task:0'
    assert b.device == '/job:ps/task:1'
    assert total.device == '/job:worker/task:1/device:CPU:0'

  def test_without_ps_everything_on_the_worker(self):
    config = cluster.ClusterConfig((), WORKERS, 'worker', 0)
    with tf.Graph().as_default():
      with tf.device(cluster.device_setter(config)):
        a = tf.get_variable('a', [2])
    assert a.device == '/job:worker/task:0'


class TestSyncReplicas:
  def test_not_made_without_sync(self):
    assert cluster.SyncReplicas.for_config(None) is None
    assert cluster.SyncReplicas.for_config(_worker()) is None
    sync = cluster.SyncReplicas.for_config(
      _worker(sync_replicas=True, replicas_to_aggregate=1)
    )
    assert isinstance(sync, cluster.SyncReplicas)

  def test_wraps_and_averages_the_updated_variables(self):
    with tf.Graph().as_default():
      step = tf.train.get_or_create_global_step()
      ema = tf.train.ExponentialMovingAverage(0.9)
      sync = cluster.SyncReplicas(2, 2, is_chief=True)
      # Wrapped before the variables exist, as the trainer does.
      opt = sync(tf.train.GradientDescentOptimizer(0.1), ema)
      weights = tf.get_variable('w', [3])
      opt.minimize(tf.reduce_sum(weights), global_step=step)
      assert isinstance(opt, tf.train.SyncReplicasOptimizer)
      assert ema.average(weights) is not None
      assert ema.average(weights).op.name == 'w/ExponentialMovingAverage'
      sync.begin()  # builds TF's sync hook and the release op

  def test_hook_without_optimizer_is_an_error(self):
    with tf.Graph().as_default(), pytest.raises(RuntimeError, match='wrap'):
      cluster.SyncReplicas(1, 1, is_chief=True).begin()

  def test_rejects_bad_counts(self):
    with pytest.raises(errors.ClusterError):
      cluster.SyncReplicas(0, 2, is_chief=False)


def _taken_port():
  s = socket.socket(socket.AF_INET, socket.SOCK_STREAM)
  s.bind(('0.0.0.0', 0))
  s.listen()
  return s


class TestServers:
  def test_port_in_use_is_a_cluster_error_naming_the_flag(self):
    with _taken_port() as s:
      host = f'127.0.0.1:{s.getsockname()[1]}'
      busy = cluster.ClusterConfig((), (host,), 'worker', 0)
      with pytest.raises(errors.ClusterError, match='--worker_hosts') as e:
        cluster.start_server(busy)
    assert host in str(e.value)

  @pytest.mark.timeout(60)
  def test_ps_stops_when_every_worker_reports_done(self):
    ps_port, w0, w1 = launcher.free_ports(3)
    ps_hosts = (f'127.0.0.1:{ps_port}',)
    workers = (f'127.0.0.1:{w0}', f'127.0.0.1:{w1}')
    ps = cluster.ClusterConfig(ps_hosts, workers, 'ps', 0, done_grace_secs=60)
    result, lines = [], []
    thread = threading.Thread(
      target=lambda: result.append(cluster.serve_ps(ps, lines.append)),
      daemon=True,
    )
    thread.start()
    for index in (1, 0):
      worker = cluster.ClusterConfig(ps_hosts, workers, 'worker', index)
      cluster.signal_done(worker, cluster.start_server(worker).target)
    thread.join(30)
    assert not thread.is_alive()
    assert result == [[0, 1]]
    assert any('worker 1 is done' in line for line in lines)

  @pytest.mark.timeout(60)
  def test_ps_stops_after_grace_when_a_worker_never_reports(self):
    ps_port, w0, w1 = launcher.free_ports(3)
    ps_hosts = (f'127.0.0.1:{ps_port}',)
    workers = (f'127.0.0.1:{w0}', f'127.0.0.1:{w1}')
    ps = cluster.ClusterConfig(ps_hosts, workers, 'ps', 0, done_grace_secs=1)
    result, lines = [], []
    thread = threading.Thread(
      target=lambda: result.append(cluster.serve_ps(ps, lines.append)),
      daemon=True,
    )
    thread.start()
    chief = cluster.ClusterConfig(ps_hosts, workers, 'worker', 0)
    cluster.signal_done(chief, cluster.start_server(chief).target)
    thread.join(30)
    assert not thread.is_alive()
    assert result == [[0]]
    assert any('no word from worker(s) [1]' in line for line in lines)

  def test_serve_ps_refuses_a_worker(self):
    with pytest.raises(errors.ClusterError, match='--job_name ps'):
      cluster.serve_ps(_worker())


class TestLauncherArgs:
  def test_splits_own_and_trainer_flags(self):
    args, rest = launcher._parse(
      ['--num_workers', '3', '--', '--max_steps', '5']
    )
    assert args.num_workers == 3 and args.num_ps == 1
    assert rest == ['--max_steps', '5']

  def test_command_carries_the_cluster_flags(self):
    local = launcher.LocalCluster(2, 1, ['--fake_data'])
    command = local.command('ps', 1)
    assert f'--ps_hosts={",".join(local.ps_hosts)}' in command
    assert '--job_name=ps' in command and '--task_index=1' in command
    assert command[-1] == '--fake_data'
    assert len(set(local.ps_hosts + local.worker_hosts)) == 3
