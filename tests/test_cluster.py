"""Tests for graphnet.cluster: host parsing, configs, devices, ps protocol.

In-process only; the multi-process runs are in test_distributed.py.
"""

import importlib.util
import io
import pathlib
import signal
import socket
import sys
import threading
import time

import pytest
import tensorflow.compat.v1 as tf

from graphnet import errors
from graphnet import options
from graphnet.distributed import cluster
from graphnet.distributed import peers
from graphnet.distributed import tasks as cluster_tasks
from graphnet.training import config
from graphnet.training import schedules

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
    assert cluster.parse_hosts(text, 'ps_hosts') == expected

  def test_accepts_a_list(self):
    assert cluster.parse_hosts(['a:1', 'b:2'], 'x') == ('a:1', 'b:2')

  @pytest.mark.parametrize(
    'text', ['localhost', 'a:', ':2222', 'a:0', 'a:70000', 'a:b', 'a b:1']
  )
  def test_rejects_malformed_entries_naming_the_flag(self, text):
    with pytest.raises(errors.ClusterError, match='--worker_hosts'):
      cluster.parse_hosts(text, 'worker_hosts', options.as_flag)

  def test_rejects_repeated_entries(self):
    with pytest.raises(errors.ClusterError, match='more than once'):
      cluster.parse_hosts('a:1,a:1', 'ps_hosts')


_BAD_SETTINGS = [
  ({'task_index': 2}, '--task_index 2'),
  ({'task_index': -1}, '--task_index'),
  ({'job_name': 'chief'}, '--job_name'),
  ({'worker_hosts': ()}, '--worker_hosts'),
  ({'worker_hosts': ('x:1', PS[0])}, '--ps_hosts and --worker_hosts'),
  ({'replicas_to_aggregate': 3}, '--replicas_to_aggregate'),
  ({'replicas_to_aggregate': 0}, '--replicas_to_aggregate'),
  ({'ps_hosts': ('bad',)}, '--ps_hosts'),
]


def _settings(kwargs):
  args = {
    'ps_hosts': PS,
    'worker_hosts': WORKERS,
    'job_name': 'worker',
    'task_index': 0,
  }
  return {**args, **kwargs}


class TestClusterConfig:
  def test_chief_and_defaults(self):
    chief, other = _worker(0), _worker(1)
    assert chief.is_chief and not other.is_chief
    assert chief.num_workers == 2 and chief.aggregate == 2
    assert other.address == WORKERS[1]
    assert other.task == '/job:worker/task:1'
    ps = cluster.ClusterConfig(PS, WORKERS, 'ps', 0)
    assert not ps.is_chief and ps.address == PS[0]

  @pytest.mark.parametrize('kwargs, flag', _BAD_SETTINGS)
  def test_rejects_bad_settings_naming_the_flag(self, kwargs, flag):
    # The command line's validators check the flags with as_flag.
    with pytest.raises(errors.ClusterError, match=flag):
      cluster.check_flags(**_settings(kwargs), names=options.as_flag)

  @pytest.mark.parametrize('kwargs, flag', _BAD_SETTINGS)
  def test_library_errors_name_the_field(self, kwargs, flag):
    with pytest.raises(errors.ClusterError) as info:
      cluster.ClusterConfig(**_settings(kwargs))
    assert flag.replace('--', '') in str(info.value)
    assert '--' not in str(info.value)

  def test_ps_job_needs_ps_hosts(self):
    with pytest.raises(errors.ClusterError, match='--ps_hosts is empty'):
      cluster.check_flags((), WORKERS, 'ps', 0, names=options.as_flag)
    with pytest.raises(errors.ClusterError, match='^job_name ps but ps_hosts'):
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

  def test_variables_go_to_the_ps_holding_the_fewest_bytes(self):
    two_ps = cluster.ClusterConfig(
      ('127.0.0.1:1', '127.0.0.1:2'), WORKERS, 'worker', 0
    )
    with tf.Graph().as_default():
      with tf.device(cluster.device_setter(two_ps)):
        big = tf.get_variable('big', [1000])
        small = [tf.get_variable(f's{i}', [100]) for i in range(3)]
        double = tf.get_variable('double', [400], dtype=tf.float64)
    # Round robin would put s1 beside big; by bytes (4000 vs 100s) the
    # small ones share ps 1 until it holds more than ps 0.
    assert big.device == '/job:ps/task:0'
    assert [v.device for v in small] == ['/job:ps/task:1'] * 3
    # 3200 bytes (float64): ps 1 held 1200 < 4000.
    assert double.device == '/job:ps/task:1'
    assert cluster.variable_bytes(double.op) == 3200

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
        cluster.start_server(busy, names=options.as_flag)
      with pytest.raises(errors.ClusterError, match='from worker_hosts, '):
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
      target=lambda: result.append(cluster_tasks.serve_ps(ps, lines.append)),
      daemon=True,
    )
    thread.start()
    for index in (1, 0):
      worker = cluster.ClusterConfig(ps_hosts, workers, 'worker', index)
      cluster_tasks.signal_done(worker, cluster.start_server(worker).target)
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
      target=lambda: result.append(cluster_tasks.serve_ps(ps, lines.append)),
      daemon=True,
    )
    thread.start()
    chief = cluster.ClusterConfig(ps_hosts, workers, 'worker', 0)
    cluster_tasks.signal_done(chief, cluster.start_server(chief).target)
    thread.join(30)
    assert not thread.is_alive()
    assert result == [[0]]
    assert any('no word from worker(s) [1]' in line for line in lines)

  def test_serve_ps_refuses_a_worker(self):
    with pytest.raises(errors.ClusterError, match='--job_name ps'):
      cluster_tasks.serve_ps(_worker(), names=options.as_flag)
    with pytest.raises(errors.ClusterError, match='needs job_name ps'):
      cluster_tasks.serve_ps(_worker())


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


class TestCheckTimeout:
  def test_default_is_a_minute(self):
    assert _worker().ps_timeout_secs == cluster.PS_TIMEOUT_SECS == 60
    cluster.check_timeout(0.5)

  @pytest.mark.parametrize(
    'secs', [0, -1, float('nan'), float('inf'), True, '5', None]
  )
  def test_rejects_what_is_not_a_positive_number(self, secs):
    with pytest.raises(errors.ClusterError, match='--ps_timeout_secs'):
      cluster.check_timeout(secs, options.as_flag)
    with pytest.raises(errors.ClusterError, match='^ps_timeout_secs must'):
      _worker(ps_timeout_secs=secs)


def _listener():
  s = socket.socket(socket.AF_INET, socket.SOCK_STREAM)
  s.bind(('127.0.0.1', 0))
  s.listen()
  return s, f'127.0.0.1:{s.getsockname()[1]}'


def _closed_address():
  return f'127.0.0.1:{launcher.free_ports(1)[0]}'


class _Recorder:
  """A watchdog's ending: the exit code and the line, instead of exiting."""

  def __init__(self):
    self.stream = io.StringIO()
    self.codes = []
    self.ended = threading.Event()
    self.answered = threading.Event()

  def exit(self, code):
    self.ended_at = time.monotonic()
    self.codes.append(code)
    self.ended.set()

  def probe(self, address, timeout):
    answered = peers.answers(address, timeout)
    if answered:
      # Before the watchdog stamps the answer: no later than its stamp.
      self.last_answer = time.monotonic()
      self.answered.set()
    return answered

  def watchdog(self, config, checkpoint_dir=None, names=options.as_flag):
    return peers.PsWatchdog(
      config,
      checkpoint_dir,
      stream=self.stream,
      exit_fn=self.exit,
      probe=self.probe,
      names=names,
    )


def _save_checkpoint(directory, step):
  with tf.Graph().as_default(), tf.Session() as session:
    tf.get_variable('w', [1])
    session.run(tf.global_variables_initializer())
    return tf.train.Saver().save(session, f'{directory}/model.ckpt-{step}')


class TestPsWatchdog:
  @pytest.mark.timeout(30)
  def test_chief_that_loses_its_ps_exits_naming_it_and_the_checkpoint(
    self, tmp_path
  ):
    prefix = _save_checkpoint(tmp_path, 7)
    ps, address = _listener()
    config = cluster.ClusterConfig(
      (address,), WORKERS, 'worker', 0, ps_timeout_secs=0.5
    )
    recorder = _Recorder()
    with recorder.watchdog(config, str(tmp_path)):
      assert recorder.answered.wait(10)
      ps.close()
      lost_at = time.monotonic()
      assert recorder.ended.wait(10)
    # Silent for the timeout since its last answer (which may come just
    # before the close), and not much longer after the close.
    assert recorder.ended_at - recorder.last_answer >= 0.5
    assert recorder.ended_at - lost_at < 5
    assert recorder.codes == [1]
    line = recorder.stream.getvalue()
    assert line == (
      f'graphnet: error: worker 0 (the chief) lost ps 0 ({address}): no '
      f"answer for 0.5 s; the chief's last checkpoint is {prefix}; restart "
      'the cluster to resume from it.\n'
    )

  @pytest.mark.timeout(30)
  def test_worker_that_never_reaches_its_ps_says_so(self):
    address = _closed_address()
    config = cluster.ClusterConfig(
      (address,), WORKERS, 'worker', 1, ps_timeout_secs=0.5
    )
    recorder = _Recorder()
    with recorder.watchdog(config):
      assert recorder.ended.wait(10)
    line = recorder.stream.getvalue()
    assert recorder.codes == [1] and line.count('\n') == 1
    prefix = f'graphnet: error: worker 1 cannot reach ps 0 ({address}): '
    assert line.startswith(prefix)
    assert '--ps_hosts' in line
    assert "resume from the chief's last checkpoint" in line

  def test_the_library_default_names_the_field(self):
    config = cluster.ClusterConfig(PS, WORKERS, 'worker', 1)
    line = peers.PsWatchdog(config).message(('ps', 0))
    assert 'and ps_hosts right?' in line and '--' not in line

  @pytest.mark.timeout(30)
  def test_a_ps_missed_by_every_probe_is_lost_once_the_session_was_up(self):
    # The ps came up and died between two probes: the session reached it,
    # no probe did. It was lost, not "never reached".
    address = _closed_address()
    config = cluster.ClusterConfig(
      (address,), WORKERS, 'worker', 0, ps_timeout_secs=0.5
    )
    recorder = _Recorder()
    watchdog = recorder.watchdog(config)
    watchdog.reached()
    with watchdog:
      assert recorder.ended.wait(10)
    line = recorder.stream.getvalue()
    assert line.startswith(
      f'graphnet: error: worker 0 (the chief) lost ps 0 ({address}): no '
      'answer for 0.5 s; '
    )
    assert not recorder.answered.is_set()

  @pytest.mark.timeout(30)
  def test_quiet_while_the_ps_answers_and_stops_when_asked(self):
    ps, address = _listener()
    config = cluster.ClusterConfig(
      (address,), WORKERS, 'worker', 1, ps_timeout_secs=0.5
    )
    recorder = _Recorder()
    watchdog = recorder.watchdog(config).start()
    try:
      assert recorder.answered.wait(10)
      assert not recorder.ended.wait(1.5)
    finally:
      watchdog.stop()
    ps.close()
    assert not recorder.ended.wait(1.0)
    assert recorder.stream.getvalue() == ''

  @pytest.mark.timeout(30)
  def test_without_ps_a_worker_watches_the_chief_and_the_chief_nothing(self):
    chief, address = _listener()
    workers = (address, _closed_address())
    recorder = _Recorder()
    lone_chief = cluster.ClusterConfig((), workers, 'worker', 0)
    with recorder.watchdog(lone_chief):
      pass
    assert recorder.stream.getvalue() == ''
    worker = cluster.ClusterConfig(
      (), workers, 'worker', 1, ps_timeout_secs=0.5
    )
    with recorder.watchdog(worker):
      assert recorder.answered.wait(10)
      chief.close()
      assert recorder.ended.wait(10)
    assert f'worker 1 lost worker 0 ({address})' in recorder.stream.getvalue()


class TestPsLosesWorkers:
  def _serve(self, workers, **kwargs):
    ps_hosts = (f'127.0.0.1:{launcher.free_ports(1)[0]}',)
    ps = cluster.ClusterConfig(ps_hosts, workers, 'ps', 0, **kwargs)
    outcome, lines = [], []

    def serve():
      try:
        outcome.append(cluster_tasks.serve_ps(ps, lines.append))
      except errors.GraphnetError as e:
        outcome.append(e)

    thread = threading.Thread(target=serve, daemon=True)
    thread.start()
    return ps_hosts, thread, outcome, lines

  @pytest.mark.timeout(60)
  def test_ps_stops_with_an_error_when_every_worker_is_gone(self):
    (w0, a0), (w1, a1) = _listener(), _listener()
    _, thread, outcome, lines = self._serve((a0, a1), ps_timeout_secs=1)
    # Alive for a while: the ps serves on.
    thread.join(3)
    assert thread.is_alive(), lines
    w0.close()
    w1.close()
    thread.join(30)
    assert not thread.is_alive()
    (error,) = outcome
    assert isinstance(error, errors.ClusterRuntimeError)
    assert f'worker 0 ({a0}), worker 1 ({a1})' in str(error)
    assert 'never reported done' in str(error)

  @pytest.mark.timeout(60)
  def test_ps_waits_for_workers_that_have_not_started(self):
    workers = (_closed_address(), _closed_address())
    ps_hosts, thread, outcome, _ = self._serve(workers, ps_timeout_secs=0.5)
    thread.join(3)
    assert thread.is_alive() and not outcome
    # They start late, and are heard.
    configs = [
      cluster.ClusterConfig(ps_hosts, workers, 'worker', i) for i in (0, 1)
    ]
    servers = [cluster.start_server(c) for c in configs]
    time.sleep(1)
    for worker, server in zip(configs, servers, strict=True):
      cluster_tasks.signal_done(worker, server.target)
    thread.join(30)
    assert outcome == [[0, 1]]

  @pytest.mark.timeout(60)
  def test_ps_stops_quietly_when_the_chief_is_done_and_the_rest_gone(self):
    w1, a1 = _listener()
    chief_address = _closed_address()
    ps_hosts, thread, outcome, lines = self._serve(
      (chief_address, a1), ps_timeout_secs=1, done_grace_secs=600
    )
    chief = cluster.ClusterConfig(ps_hosts, (chief_address, a1), 'worker', 0)
    cluster_tasks.signal_done(chief, cluster.start_server(chief).target)
    w1.close()
    thread.join(30)
    assert not thread.is_alive()
    assert outcome == [[0]]
    assert any(f'no answer from worker 1 ({a1})' in x for x in lines)


# A stand-in task for the launcher tests: after `secs` exits with the code
# given for its task by --exit=name:code@secs,... ('kill': SIGKILLs itself);
# otherwise ignores SIGTERM and sleeps, so that only SIGKILL ends it.
_FAKE_TASK = """
import os, signal, sys, time
args = dict(a[2:].split('=', 1) for a in sys.argv[1:] if '=' in a)
name = args['job_name'] + args['task_index']
plan = dict(p.split(':') for p in args.get('exit', '').split(',') if p)
if name in plan:
  code, _, secs = plan[name].partition('@')
  time.sleep(float(secs or 0))
  if code == 'kill':
    os.kill(os.getpid(), signal.SIGKILL)
  sys.exit(int(code))
signal.signal(signal.SIGTERM, signal.SIG_IGN)
print('ready', flush=True)
time.sleep(600)
"""


class TestSupervise:
  def _cluster(self, tmp_path, plan):
    (tmp_path / 'fake_task.py').write_text(_FAKE_TASK)
    return launcher.LocalCluster(
      1,
      2,
      [f'--exit={plan}'],
      module='fake_task',
      env={'PYTHONPATH': str(tmp_path)},
    )

  @pytest.mark.timeout(60)
  def test_a_failed_task_stops_the_rest_even_if_they_ignore_sigterm(
    self, tmp_path
  ):
    lines = []
    with self._cluster(tmp_path, 'worker1:3@0.5') as local:
      local.start()
      started = time.monotonic()
      status = launcher.supervise(local, fail_grace_secs=0, say=lines.append)
      local.stop(kill_after_secs=1)
      took = time.monotonic() - started
    assert status == 1
    assert took < 20
    assert local.tasks['worker1'].returncode == 3
    for name in ('ps0', 'worker0'):
      assert local.tasks[name].returncode == -signal.SIGKILL
      assert local.tasks[name].stopped
    assert lines[0].startswith('launcher: worker1 exited 3;')
    assert "failed: ['worker1']" in lines[-1]

  @pytest.mark.timeout(60)
  def test_others_get_the_fail_grace_to_end_on_their_own(self, tmp_path):
    lines = []
    plan = 'ps0:kill@0.3,worker0:1@1.5,worker1:1@2'
    with self._cluster(tmp_path, plan) as local:
      local.start()
      status = launcher.supervise(local, fail_grace_secs=30, say=lines.append)
      assert not local.running()
    assert status == 1
    assert lines[0].startswith('launcher: ps0 died by SIGKILL;')
    assert sorted(local.failed()) == ['ps0', 'worker0', 'worker1']

  @pytest.mark.timeout(60)
  def test_chief_success_gives_the_rest_the_grace_and_exits_zero(
    self, tmp_path
  ):
    lines = []
    with self._cluster(tmp_path, 'worker0:0@0.5,worker1:0@0.5') as local:
      local.start()
      status = launcher.supervise(local, grace_secs=1, say=lines.append)
      assert local.running() == ['ps0']
      local.stop(kill_after_secs=1)
    assert status == 0
    assert local.tasks['ps0'].stopped and not local.failed()

  def test_refuses_negative_grace(self):
    with pytest.raises(SystemExit):
      launcher._parse(['--fail_grace_secs', '-1'])
