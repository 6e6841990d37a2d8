"""End-to-end tests of distributed training on 127.0.0.1.

Every task is a real `python -m graphnet.fully_connected_feed` process
started by scripts/launch_local_cluster.py's `LocalCluster`; the fixture
stops every process group it started, also when a test fails. Each test is
bounded with a pytest-timeout mark. `TestSyncEnd` sets up the end of a
sync run that a full run only meets by chance, in this process (servers,
sessions and hooks of its own).
"""

import importlib.util
import json
import os
import pathlib
import re
import signal
import socket
import subprocess
import sys
import threading
import time

import numpy as np
import pytest
import tensorflow.compat.v1 as tf

from graphnet.checkpoints import contents
from graphnet.checkpoints import state as checkpoints
from graphnet.data import mnist_reader as input_data
from graphnet.distributed import cluster
from graphnet.training import hooks

tf.disable_eager_execution()

_REPO = pathlib.Path(__file__).parents[1]

# A sync chief's queue runner must end quietly, not as a traceback from a
# dying thread.
pytestmark = pytest.mark.filterwarnings(
  'error::pytest.PytestUnhandledThreadExceptionWarning'
)


def _load_launcher():
  path = _REPO / 'scripts/launch_local_cluster.py'
  spec = importlib.util.spec_from_file_location('launch_local_cluster', path)
  module = importlib.util.module_from_spec(spec)
  sys.modules[spec.name] = module
  spec.loader.exec_module(module)
  return module


launcher = _load_launcher()


@pytest.fixture
def make_cluster(tmp_path):
  """Makes LocalClusters; stops all their processes at the end."""
  made = []

  def make(num_ps, num_workers, trainer_args, **kwargs):
    local = launcher.LocalCluster(
      num_ps,
      num_workers,
      trainer_args,
      logs_dir=str(tmp_path / 'logs'),
      **kwargs,
    )
    made.append(local)
    return local

  try:
    yield make
  finally:
    for local in made:
      local.stop(kill_after_secs=3)


def _dirs(tmp_path):
  log_dir, data_dir = tmp_path / 'train', tmp_path / 'data'
  return log_dir, ['--log_dir', str(log_dir), '--input_data_dir', str(data_dir)]


def _tail(task, lines=25):
  return f'--- {task.name} (rc {task.returncode}) ---\n' + '\n'.join(
    task.lines[-lines:]
  )


def _report(local):
  return '\n'.join(_tail(t) for t in local.tasks.values())


def _wait_for_line(task, pattern, timeout):
  """The first output line of `task` matching `pattern`, or None."""
  regex = re.compile(pattern)
  deadline = time.time() + timeout
  while time.time() < deadline:
    for line in list(task.lines):
      if regex.search(line):
        return line
    if task.returncode is not None:
      return None
    time.sleep(0.2)
  return None


def _test_precision(lines):
  """Precision @ 1 of the last `Test Data Eval:` block."""
  found = None
  for i, line in enumerate(lines[:-1]):
    if line.strip() == 'Test Data Eval:':
      match = re.search(r'Precision @ 1: ([0-9.]+)', lines[i + 1])
      found = float(match.group(1)) if match else found
  return found


def _trainer_module(tmp_path, name, text):
  """LocalCluster's `module` and `env` for a trainer written by a test."""
  (tmp_path / f'{name}.py').write_text(text)
  python_path = os.pathsep.join(
    p for p in (str(tmp_path), str(_REPO), os.environ.get('PYTHONPATH')) if p
  )
  return {'module': name, 'env': {'PYTHONPATH': python_path}}


def _step(log_dir):
  prefix = checkpoints.latest_checkpoint(str(log_dir))
  return prefix, (contents.checkpoint_step(prefix) if prefix else None)


def _save_model_checkpoint(log_dir, data_dir, step):
  """A single-process checkpoint of the MLP at `step` in `log_dir`."""
  from graphnet.training import config as config_lib
  from graphnet.training import trainer

  trainer.run_training(
    config_lib.TrainConfig(
      log_dir=str(log_dir),
      input_data_dir=str(data_dir),
      max_steps=step,
      eval_sets=('test',),
    ),
    printer=lambda line: None,
  )


class TestAsync:
  @pytest.mark.timeout(200)
  def test_one_ps_two_workers_learn_mnist_and_save_a_restorable_model(
    self, tmp_path, make_cluster
  ):
    log_dir, args = _dirs(tmp_path)
    local = make_cluster(1, 2, args + ['--max_steps', '2000', '--seed', '1'])
    local.start()
    assert local.wait('worker0', timeout=170) == 0, _report(local)
    local.wait_all(timeout=20)
    assert local.tasks['worker1'].returncode == 0, _report(local)
    # The ps stops by itself once both workers reported done.
    assert local.tasks['ps0'].returncode == 0, _report(local)
    precision = _test_precision(local.tasks['worker0'].lines)
    assert precision is not None and precision >= 0.89, _report(local)
    # Only the chief evaluates, and its final block is printed once
    # (worker 1 moving the step past the evaluated one prints no second).
    assert _test_precision(local.tasks['worker1'].lines) is None
    chief_lines = local.tasks['worker0'].lines
    # After the last Step line: one final block (the one at eval_every
    # steps before it, if the run got there, is another step's).
    last_step = max(
      i for i, line in enumerate(chief_lines) if line.startswith('Step ')
    )
    final = chief_lines[last_step:]
    assert final.count('Test Data Eval:') == 1, _report(local)

    prefix, step = _step(log_dir)
    assert step is not None and step >= 2000
    # The Predictor-style restore: devices cleared, plain local session.
    test = input_data.read_data_sets(str(tmp_path / 'data')).test
    with tf.Graph().as_default(), tf.Session() as session:
      saver = tf.train.import_meta_graph(prefix + '.meta', clear_devices=True)
      saver.restore(session, prefix)
      predictions = session.run(
        'predictions:0', {'images:0': test.images[:2000]}
      )
    assert predictions.dtype == np.int64
    assert np.mean(predictions == test.labels[:2000]) >= 0.85

  @pytest.mark.timeout(200)
  def test_an_already_trained_log_dir_says_so_and_every_task_ends(
    self, tmp_path, make_cluster
  ):
    log_dir, args = _dirs(tmp_path)
    log_dir.mkdir()
    _save_model_checkpoint(log_dir, tmp_path / 'data', step=50)
    saved = sorted(p.name for p in log_dir.iterdir())
    # Described by TF_CONFIG only, with an evaluator task.
    local = make_cluster(
      1, 2, args + ['--max_steps', '40'], tf_config=True, evaluator=True
    )
    local.start()
    assert local.wait('worker0', timeout=170) == 0, _report(local)
    local.wait_all(timeout=60)
    for name, task in local.tasks.items():
      assert task.returncode == 0, (name, _report(local))
    chief = local.tasks['worker0'].lines
    assert (
      'already trained to step 50 (>= --max_steps 40): nothing to train; '
      'use a larger --max_steps or a new --log_dir'
    ) in chief, _report(local)
    # Nothing restored was trained, evaluated or saved again.
    assert 'Test Data Eval:' not in chief
    assert not any(line.startswith('Step ') for line in chief)
    assert _step(log_dir)[1] == 50
    # The evaluator scored the checkpoint there is and ended with training.
    evaluator = local.tasks['evaluator0'].lines
    assert any(
      re.match(r'After 50 training step\(s\), validation accuracy = ', line)
      for line in evaluator
    ), _report(local)
    assert sorted(p.name for p in log_dir.iterdir()) == sorted(
      [*saved, 'eval_validation']
    )

  @pytest.mark.slow
  @pytest.mark.timeout(500)
  def test_tf_config_cluster_with_evaluator_trains_and_resumes(
    self, tmp_path, make_cluster
  ):
    """scripts/launch_local_cluster.py --tf_config --evaluator, twice."""
    log_dir, args = _dirs(tmp_path)
    for max_steps in (200, 400):
      local = make_cluster(
        1,
        2,
        args
        + ['--max_steps', str(max_steps), '--save_checkpoint_steps', '100'],
        tf_config=True,
        evaluator=True,
      )
      local.start()
      assert local.wait('worker0', timeout=200) == 0, _report(local)
      local.wait_all(timeout=60)
      for name, task in local.tasks.items():
        assert task.returncode == 0, (name, _report(local))
      # The chief only trains; the evaluator scores up to the last step.
      assert 'Test Data Eval:' not in local.tasks['worker0'].lines
      scored = [
        int(m.group(1))
        for line in local.tasks['evaluator0'].lines
        for m in [re.match(r'After (\d+) training step', line)]
        if m
      ]
      assert scored and scored[-1] >= max_steps, _report(local)
      assert _step(log_dir)[1] >= max_steps
      if max_steps == 400:
        # Resumed from the first run's checkpoint, not from step 0.
        chief = local.tasks['worker0'].lines
        assert any(
          line.startswith('Restoring parameters from') for line in chief
        ), _report(local)
        assert not any(line.startswith('Step 0:') for line in chief)

  @pytest.mark.slow
  @pytest.mark.timeout(600)
  def test_partitioned_checkpoints_round_trip_with_one_process(
    self, tmp_path, make_cluster
  ):
    """2 ps (hidden1/weights split) -> 1 process -> 2 ps, and Predictor."""
    from graphnet.serving import predictor
    from graphnet.training import config as config_lib
    from graphnet.training import trainer

    log_dir, args = _dirs(tmp_path)
    local = make_cluster(2, 2, args + ['--max_steps', '200', '--seed', '3'])
    local.start()
    assert local.wait('worker0', timeout=250) == 0, _report(local)
    local.wait_all(timeout=60)
    prefix, step = _step(log_dir)
    assert step >= 200
    # Saved whole, as one process saves it.
    shapes = contents.variable_shapes(prefix)
    assert list(shapes['hidden1/weights']) == [784, 128]
    # Predictor (freezing the partitioned .meta) agrees with the chief.
    test = input_data.read_data_sets(str(tmp_path / 'data')).test
    predictions = predictor.Predictor.from_checkpoint(str(log_dir)).predict(
      test.images
    )
    chief = _test_precision(local.tasks['worker0'].lines)
    assert abs(np.mean(predictions == test.labels) - chief) < 0.02
    # One process resumes it...
    result = trainer.run_training(
      config_lib.TrainConfig(
        log_dir=str(log_dir),
        input_data_dir=str(tmp_path / 'data'),
        max_steps=step + 100,
        eval_sets=('test',),
      ),
      printer=lambda line: None,
    )
    assert result.trained_steps == 100
    # ...and a partitioned cluster resumes the one-process checkpoint.
    local = make_cluster(2, 2, args + ['--max_steps', str(step + 200)])
    local.start()
    assert local.wait('worker0', timeout=250) == 0, _report(local)
    local.wait_all(timeout=60)
    chief_lines = local.tasks['worker0'].lines
    assert not any(line.startswith('Step 0:') for line in chief_lines)
    assert _step(log_dir)[1] >= step + 200
    assert (
      _test_precision(chief_lines)
      >= result.evaluations['test'].precision - 0.05
    )

  @pytest.mark.slow
  @pytest.mark.timeout(400)
  def test_two_ps_four_workers_learn_mnist(self, tmp_path, make_cluster):
    log_dir, args = _dirs(tmp_path)
    local = make_cluster(2, 4, args + ['--max_steps', '2000', '--seed', '2'])
    local.start()
    assert local.wait('worker0', timeout=360) == 0, _report(local)
    local.wait_all(timeout=30)
    for name, task in local.tasks.items():
      assert task.returncode == 0, (name, _report(local))
    precision = _test_precision(local.tasks['worker0'].lines)
    assert precision is not None and precision >= 0.89, _report(local)
    assert _step(log_dir)[1] >= 2000
    # Both ps tasks heard from every worker and stopped on their own.
    for ps in ('ps0', 'ps1'):
      assert any('worker 3 is done' in x for x in local.tasks[ps].lines)


class TestSync:
  # Under CPU contention the whole run (three TF processes starting, 300
  # sync steps, the evaluation, ~10 s of shutdown) can pass 120 s; every
  # run still ends on its own (scripts/sync_end_under_load.py).
  @pytest.mark.timeout(260)
  def test_stops_exactly_at_max_steps_without_hanging(
    self, tmp_path, make_cluster
  ):
    log_dir, args = _dirs(tmp_path)
    local = make_cluster(
      1,
      2,
      args
      + [
        '--fake_data',
        '--max_steps',
        '300',
        '--sync_replicas',
        '--moving_average_decay',
        '0.9',
      ],
    )
    local.start()
    assert local.wait('worker0', timeout=220) == 0, _report(local)
    local.wait_all(timeout=20)
    assert local.tasks['worker1'].returncode == 0, _report(local)
    assert local.tasks['ps0'].returncode == 0, _report(local)
    prefix, step = _step(log_dir)
    # One global step per aggregated update: no overshoot.
    assert step == 300
    names = {name for name, _ in tf.train.list_variables(prefix)}
    assert 'hidden1/weights/ExponentialMovingAverage' in names

  @pytest.mark.slow
  @pytest.mark.timeout(3600)
  def test_twenty_sync_runs_under_cpu_contention_end_on_their_own(self):
    """scripts/sync_end_under_load.py: 20 runs beside 2 busy processes."""
    done = subprocess.run(
      [
        sys.executable,
        str(_REPO / 'scripts/sync_end_under_load.py'),
        '--runs',
        '20',
        '--busy',
        '2',
        '--busy_secs',
        '3400',
      ],
      capture_output=True,
      text=True,
      timeout=3500,
    )
    assert done.returncode == 0, done.stdout[-5000:]
    assert '20/20 sync runs ended on their own' in done.stdout

  @pytest.mark.timeout(150)
  def test_chief_that_misses_the_last_step_still_stops(
    self, tmp_path, make_cluster
  ):
    log_dir, args = _dirs(tmp_path)
    local = make_cluster(
      1,
      2,
      args + ['--fake_data', '--max_steps', '300', '--sync_replicas'],
      **_trainer_module(tmp_path, 'late_trainer', _LATE_CHIEF_TRAINER),
    )
    local.start()
    assert local.wait('worker0', timeout=120) == 0, _report(local)
    local.wait_all(timeout=20)
    assert local.tasks['worker1'].returncode == 0, _report(local)
    assert local.tasks['ps0'].returncode == 0, _report(local)
    assert 'MISSED THE LAST STEP' in local.tasks['worker0'].lines
    # The extra step's gradient alone makes no update.
    assert _step(log_dir)[1] == 300


# The trainer whose chief ignores the first stop of its StopAtStepHook:
# what a chief does when the queue runner moved the step during its run
# and the run that reached the last step passed unnoticed. It starts one
# more step after worker 1 stopped at the last step.
_LATE_CHIEF_TRAINER = """
import sys
from graphnet import fully_connected_feed
from graphnet.training import hooks

after_run = hooks.StopAtStepHook.after_run
chief = '--task_index=0' in sys.argv and '--job_name=worker' in sys.argv
missed = []


def late(self, run_context, run_values):
  after_run(self, run_context, run_values)
  if chief and run_context.stop_requested and not missed:
    missed.append(True)
    # SessionRunContext has no public way to take a stop back.
    run_context._stop_requested = False
    print('MISSED THE LAST STEP', flush=True)


hooks.StopAtStepHook.after_run = late
fully_connected_feed.run()
"""


def _sync_worker(ps_hosts, worker_hosts, index):
  """Worker `index`'s sync graph and its MonitoredSession, in this process.

  Returns:
    (session, train_op, global_step); the chief's session has initialised
    the model, filled the token queue and started its queue runner.
  """
  config = cluster.ClusterConfig(
    ps_hosts, worker_hosts, 'worker', index, sync_replicas=True
  )
  graph = tf.Graph()
  with graph.as_default(), tf.device(cluster.device_setter(config)):
    step = tf.train.get_or_create_global_step()
    sync = cluster.SyncReplicas.for_config(config)
    optimizer = sync(tf.train.GradientDescentOptimizer(0.1))
    weights = tf.get_variable('w', [3])
    train_op = optimizer.minimize(tf.reduce_sum(weights), global_step=step)
    args = {
      'master': f'grpc://{worker_hosts[index]}',
      'config': cluster.session_config(config),
    }
    creator = (
      tf.train.ChiefSessionCreator(**args)
      if config.is_chief
      else tf.train.WorkerSessionCreator(**args)
    )
    # The chief's queue runner waits for gradients when the session closes.
    session = tf.train.MonitoredSession(
      creator, hooks=[sync], stop_grace_period_secs=1
    )
  return session, train_op, step


def _sync_servers():
  """Starts a ps and two workers' servers in this process; their hosts."""
  ports = launcher.free_ports(3)
  ps_hosts = (f'127.0.0.1:{ports[0]}',)
  worker_hosts = tuple(f'127.0.0.1:{p}' for p in ports[1:])
  for job, index in (('ps', 0), ('worker', 0), ('worker', 1)):
    cluster.start_server(
      cluster.ClusterConfig(ps_hosts, worker_hosts, job, index)
    )
  return ps_hosts, worker_hosts


def _token_queue(ps_hosts, worker_hosts, what):
  """Drains the sync token queue on ps 0, or tells whether it is closed.

  Args:
    ps_hosts, worker_hosts: the hosts of `_sync_servers()`.
    what: 'drain' (returns how many tokens it held) or 'closed' (bool).
  """
  config = cluster.ClusterConfig(ps_hosts, worker_hosts, 'worker', 0)
  with tf.Graph().as_default() as graph, tf.device('/job:ps/task:0'):
    # SyncReplicasOptimizer's queue, by its shared name and attributes.
    tokens = tf.FIFOQueue(-1, tf.int64, shapes=[[]], shared_name='sync_token_q')
    fetch = {
      'drain': tokens.dequeue_many(tokens.size()),
      'closed': tokens.is_closed(),
    }[what]
  with tf.Session(
    f'grpc://{worker_hosts[0]}',
    graph=graph,
    config=cluster.session_config(config),
  ) as session:
    value = session.run(fetch)
  return len(value) if what == 'drain' else bool(value)


class TestSyncEnd:
  @pytest.mark.timeout(90)
  def test_a_step_after_the_other_worker_stopped_finishes(self):
    # The end of a sync run when the chief misjudged its last run (the
    # step moved during it): worker 1 has stopped at the last step, no
    # token is left, and the chief starts one more step. That step's
    # gradient is the only one of an update that never comes, so only
    # the tokens worker 1 released at its end can finish it.
    ps_hosts, worker_hosts = _sync_servers()
    chief, train_op, step = _sync_worker(ps_hosts, worker_hosts, 0)
    worker, _, _ = _sync_worker(ps_hosts, worker_hosts, 1)
    assert _token_queue(ps_hosts, worker_hosts, 'drain') > 0
    worker.close()
    try:
      chief.run(train_op, options=tf.RunOptions(timeout_in_ms=20_000))
    except tf.errors.DeadlineExceededError:
      pytest.fail('the step waited for a token that never came')
    # One gradient of the two an update needs: the step stays.
    assert chief.run(step) == 0
    chief.close()

  @pytest.mark.timeout(90)
  def test_a_worker_ends_cleanly_after_the_chief_closed_the_queue(self):
    ps_hosts, worker_hosts = _sync_servers()
    chief, _, _ = _sync_worker(ps_hosts, worker_hosts, 0)
    worker, _, _ = _sync_worker(ps_hosts, worker_hosts, 1)
    # The chief's queue runner closes the token queue as it stops.
    chief.close()
    assert _token_queue(ps_hosts, worker_hosts, 'closed')
    worker.close()

  def test_stop_hook_sees_the_last_step_when_others_moved_it(self):
    # A worker's runs to last_step 5, with the step it fetched and the
    # step after each run: before the second run another worker moved
    # the step, so the count of this worker's runs trails the fetches.
    runs = [(0, 1), (2, 3), (3, 4), (4, 5)]
    with tf.Graph().as_default():
      step = tf.train.get_or_create_global_step()
      value = tf.placeholder(tf.int64, [])
      assign = tf.assign(step, value)
      hook = hooks.StopAtStepHook(last_step=5)
      hook.begin()
      with tf.Session() as session:
        session.run(step.initializer)
        hook.after_create_session(session, None)
        stopped = []
        for fetched, after in runs:
          session.run(assign, {value: after})
          context = tf.train.SessionRunContext((), session)
          hook.after_run(
            context, tf.train.SessionRunValues(fetched, None, None)
          )
          stopped.append(context.stop_requested)
    assert stopped == [False, False, False, True]


# The trainer with a count of its training runs: each
# MonitoredSession.run of a worker is one local step (--steps_per_run 1).
# Worker 1 waits before each step, so that it is the slow one.
_COUNTING_TRAINER = """
import atexit
import sys
import time
import tensorflow.compat.v1 as tf
from graphnet import fully_connected_feed

runs = 0
run = tf.train.MonitoredSession.run
slow = '--task_index=1' in sys.argv and '--job_name=worker' in sys.argv


def counted(self, *args, **kwargs):
  global runs
  if slow:
    time.sleep(0.03)
  result = run(self, *args, **kwargs)
  runs += 1
  return result


tf.train.MonitoredSession.run = counted
atexit.register(lambda: print(f'LOCAL STEPS {runs}', flush=True))
fully_connected_feed.run()
"""


def _local_steps(task):
  line = _wait_for_line(task, r'^LOCAL STEPS \d+$', 5)
  assert line, _tail(task)
  return int(line.split()[-1])


def _gradients_per_update(prefix):
  """`num_required` of every gradient accumulator's take in prefix's graph."""
  meta = tf.MetaGraphDef()
  with open(prefix + '.meta', 'rb') as f:
    meta.ParseFromString(f.read())
  nodes = {node.name: node for node in meta.graph_def.node}
  required = set()
  for node in meta.graph_def.node:
    if node.op.endswith('AccumulatorTakeGradient'):
      const = nodes[node.input[1].split(':')[0]]
      required.add(int(tf.make_ndarray(const.attr['value'].tensor)))
  return required


class TestSyncAggregation:
  @pytest.mark.timeout(150)
  def test_global_step_advances_once_per_two_worker_steps(
    self, tmp_path, make_cluster
  ):
    log_dir, args = _dirs(tmp_path)
    max_steps = 200
    local = make_cluster(
      1,
      2,
      args
      + [
        '--fake_data',
        '--max_steps',
        str(max_steps),
        '--sync_replicas',
        '--replicas_to_aggregate',
        '2',
      ],
      **_trainer_module(tmp_path, 'counting_trainer', _COUNTING_TRAINER),
    )
    local.start()
    assert local.wait('worker0', timeout=120) == 0, _report(local)
    local.wait_all(timeout=20)
    assert local.tasks['worker1'].returncode == 0, _report(local)
    assert _step(log_dir)[1] == max_steps
    steps = [_local_steps(local.tasks[f'worker{i}']) for i in (0, 1)]
    # Every update took 2 gradients: 2 worker steps per global step (a few
    # more at the end, when the chief releases the blocked worker); async
    # training would make one global step per worker step. Which worker
    # gives them is timing: on a loaded machine the fast one takes the slow
    # one's tokens (measured [258, 144], and [401, 0] when the slow worker
    # started late), so the split is not asserted.
    assert 2 * max_steps <= sum(steps) <= 2 * max_steps + 6, (
      steps,
      _report(local),
    )
    # What the flag asks for is what the chief's update waits for.
    assert _gradients_per_update(_step(log_dir)[0]) == {2}


class TestFailures:
  @pytest.mark.timeout(150)
  def test_chief_finishes_alone_when_a_worker_is_killed(
    self, tmp_path, make_cluster
  ):
    log_dir, args = _dirs(tmp_path)
    local = make_cluster(
      1, 2, args + ['--fake_data', '--max_steps', '1500', '--log_every', '100']
    )
    local.start()
    worker1 = local.tasks['worker1']
    assert _wait_for_line(worker1, 'model is ready', 90), _report(local)
    assert _wait_for_line(local.tasks['worker0'], r'^Step [1-9]', 60)
    local.kill('worker1', signal.SIGKILL)
    assert local.wait('worker0', timeout=100) == 0, _report(local)
    assert worker1.returncode == -signal.SIGKILL
    assert _step(log_dir)[1] >= 1500

  @pytest.mark.timeout(200)
  def test_restarted_chief_resumes_from_its_checkpoint(
    self, tmp_path, make_cluster
  ):
    log_dir, args = _dirs(tmp_path)
    local = make_cluster(
      1,
      1,
      args
      + [
        '--fake_data',
        '--max_steps',
        '1500',
        '--save_checkpoint_steps',
        '200',
      ],
    )
    local.start()
    deadline = time.time() + 100
    while (_step(log_dir)[1] or 0) < 200 and time.time() < deadline:
      assert local.tasks['worker0'].returncode is None, _report(local)
      time.sleep(0.3)
    saved = _step(log_dir)[1]
    assert saved and saved >= 200, _report(local)
    local.kill('worker0', signal.SIGKILL)
    local.wait('worker0', timeout=10)

    restarted = local.start_task('worker', 0, log_suffix='_restart')
    assert local.wait('worker0', timeout=120) == 0, _report(local)
    first = _wait_for_line(restarted, r'^Step \d+:', 1)
    assert first is not None, _report(local)
    resumed_at = int(re.match(r'Step (\d+):', first).group(1))
    assert resumed_at >= saved > 0
    assert _step(log_dir)[1] >= 1500


_FLAG_CASES = [
  ([], 'OK'),
  (
    [
      '--ps_hosts=127.0.0.1:1',
      '--worker_hosts=127.0.0.1:2,127.0.0.1:3',
      '--job_name=worker',
      '--task_index=1',
      '--sync_replicas',
    ],
    'OK',
  ),
  (['--worker_hosts=127.0.0.1:2'], '--job_name'),
  (['--worker_hosts=nohost', '--job_name=worker'], '--worker_hosts'),
  (['--ps_hosts=h:99999', '--worker_hosts=h:1', '--job_name=ps'], '--ps_hosts'),
  (
    ['--worker_hosts=a:1,b:2', '--job_name=worker', '--task_index=2'],
    '--task_index 2',
  ),
  (
    ['--ps_hosts=a:1', '--worker_hosts=b:1', '--job_name=ps', '--task_index=1'],
    '--task_index 1',
  ),
  (['--job_name=chief'], 'job_name'),
  (['--sync_replicas'], '--sync_replicas'),
  (
    ['--worker_hosts=a:1', '--job_name=worker', '--replicas_to_aggregate=2'],
    '--replicas_to_aggregate',
  ),
]

# Parses each case in one process (flags are process-global).
_PARSE_CASES = """
import json, sys
from absl import flags
from graphnet import fully_connected_feed  # noqa: F401 (defines the flags)
results = []
for argv in json.loads(sys.argv[1]):
  flags.FLAGS.unparse_flags()
  try:
    flags.FLAGS(['fully_connected_feed'] + argv)
    results.append('OK')
  except flags.Error as e:
    results.append(str(e))
print('RESULTS ' + json.dumps(results))
"""


def _run(args, env_extra=None):
  env = dict(os.environ, TF_CPP_MIN_LOG_LEVEL='2')
  env['PYTHONPATH'] = os.pathsep.join(
    p for p in (str(_REPO), env.get('PYTHONPATH')) if p
  )
  env.update(env_extra or {})
  return subprocess.Popen(
    [sys.executable] + args,
    stdout=subprocess.PIPE,
    stderr=subprocess.PIPE,
    text=True,
    env=env,
    cwd=str(_REPO),
  )


class TestFlags:
  @pytest.mark.timeout(150)
  def test_bad_cluster_flags_are_usage_errors_naming_the_flag(self, tmp_path):
    busy = socket.socket(socket.AF_INET, socket.SOCK_STREAM)
    busy.bind(('0.0.0.0', 0))
    busy.listen()
    host = f'127.0.0.1:{busy.getsockname()[1]}'
    _, dirs = _dirs(tmp_path)
    # Three processes at once: TF's import dominates each one's time.
    parse = _run(['-c', _PARSE_CASES, json.dumps([c for c, _ in _FLAG_CASES])])
    usage_dir = tmp_path / 'usage'
    usage = _run(
      [
        '-m',
        'graphnet.fully_connected_feed',
        '--worker_hosts=127.0.0.1:1',
        f'--log_dir={usage_dir}',
      ]
    )
    port = _run(
      [
        '-m',
        'graphnet.fully_connected_feed',
        f'--worker_hosts={host}',
        '--job_name=worker',
        '--fake_data',
      ]
      + dirs
    )
    try:
      out, err = parse.communicate(timeout=120)
      usage_out, usage_err = usage.communicate(timeout=120)
      port_out, port_err = port.communicate(timeout=120)
    finally:
      for process in (parse, usage, port):
        process.kill()
      busy.close()

    line = [x for x in out.splitlines() if x.startswith('RESULTS ')]
    assert line, err[-2000:]
    results = json.loads(line[0][len('RESULTS ') :])
    for (argv, expected), got in zip(_FLAG_CASES, results, strict=True):
      if expected == 'OK':
        assert got == 'OK', (argv, got)
      else:
        assert got != 'OK' and expected in got, (argv, got)

    assert usage.returncode not in (0, None)
    assert '--job_name' in usage_err and 'required' in usage_err
    # Nothing was written before the usage error.
    assert not usage_dir.exists()

    assert port.returncode == 1, port_err[-2000:]
    assert 'graphnet: error:' in port_err
    assert '--worker_hosts' in port_err and host in port_err


class _Launch:
  """scripts/launch_local_cluster.py as a real process, output collected."""

  def __init__(self, launcher_args, trainer_args):
    self.lines = []
    self.process = _run(
      ['scripts/launch_local_cluster.py', *launcher_args, '--'] + trainer_args
    )
    self._reader = threading.Thread(target=self._read, daemon=True)
    self._reader.start()

  def _read(self):
    for line in self.process.stdout:
      self.lines.append(line.rstrip('\n'))

  def pids(self, timeout):
    """{task name: pid}, from the launcher's start-up lines."""
    deadline = time.time() + timeout
    while time.time() < deadline:
      found = dict(
        re.findall(
          r'^launcher: (\w+) is pid (\d+) ', '\n'.join(self.lines), re.M
        )
      )
      if len(found) == 3:
        return {name: int(pid) for name, pid in found.items()}
      time.sleep(0.1)
    raise AssertionError(self.lines)

  def wait(self, timeout):
    try:
      return self.process.wait(timeout)
    except subprocess.TimeoutExpired:
      return None
    finally:
      self._reader.join(5)

  def kill(self):
    self.process.kill()


def _gone(pid):
  try:
    os.kill(pid, 0)
  except ProcessLookupError:
    return True
  return False


def _last_line(path):
  lines = path.read_text().splitlines()
  return lines[-1] if lines else ''


class TestLostPs:
  @pytest.mark.timeout(300)
  def test_killed_ps_ends_every_task_and_a_restart_resumes(self, tmp_path):
    log_dir, args = _dirs(tmp_path)
    trainer = args + [
      '--fake_data',
      '--save_checkpoint_steps',
      '50',
      '--log_every',
      '50',
      '--ps_timeout_secs',
      '10',
    ]
    # The workers get time to notice the lost ps by themselves.
    own = ['--quiet', '--fail_grace_secs', '60', '--kill_after_secs', '3']
    first = _Launch(
      own + ['--logs', str(tmp_path / 'logs')],
      trainer + ['--max_steps', '100000'],
    )
    try:
      pids = first.pids(60)
      worker1_log = tmp_path / 'logs' / 'worker1.log'
      deadline = time.time() + 120
      while time.time() < deadline and not (
        (_step(log_dir)[1] or 0) >= 50
        and 'model is ready' in worker1_log.read_text()
      ):
        assert first.process.poll() is None, first.lines
        time.sleep(0.3)
      assert (_step(log_dir)[1] or 0) >= 50, first.lines
      os.kill(pids['ps0'], signal.SIGKILL)
      killed_at = time.time()
      assert first.wait(120) == 1, first.lines
    finally:
      first.kill()
    assert time.time() - killed_at < 120
    assert all(_gone(pid) for pid in pids.values()), pids
    assert any('launcher: ps0 died by SIGKILL' in x for x in first.lines)
    saved, step = _step(log_dir)
    logs = tmp_path / 'logs'
    assert _last_line(logs / 'worker0.log') == (
      f'graphnet: error: worker 0 (the chief) lost ps 0 ({_ps(first)}): no '
      f"answer for 10 s; the chief's last checkpoint is {saved}; restart the "
      'cluster to resume from it.'
    )
    assert _last_line(logs / 'worker1.log').startswith(
      f'graphnet: error: worker 1 lost ps 0 ({_ps(first)}): no answer for 10 s;'
    )

    second = _Launch(
      own + ['--logs', str(tmp_path / 'logs2')],
      trainer + ['--max_steps', str(step + 100)],
    )
    try:
      assert second.wait(150) == 0, second.lines
    finally:
      second.kill()
    chief = (tmp_path / 'logs2' / 'worker0.log').read_text()
    assert f'Restoring parameters from {saved}' in chief
    first_step = re.search(r'^Step (\d+):', chief, re.M)
    assert first_step and int(first_step.group(1)) >= step, chief[-3000:]
    assert _step(log_dir)[1] >= step + 100


def _ps(launch):
  """The ps address the launcher reported."""
  for line in launch.lines:
    match = re.match(r'launcher: ps0 is pid \d+ on (\S+)\.$', line)
    if match:
      return match.group(1)
  raise AssertionError(launch.lines)


# Parses each value of --ps_timeout_secs in one process; prints the default.
_PARSE_TIMEOUTS = """
import json, sys
from absl import flags
from graphnet import fully_connected_feed  # noqa: F401 (defines the flags)
results = {'default': flags.FLAGS['ps_timeout_secs'].default}
for value in json.loads(sys.argv[1]):
  flags.FLAGS.unparse_flags()
  try:
    flags.FLAGS(['fully_connected_feed', '--ps_timeout_secs=' + value])
    results[value] = 'OK'
  except flags.Error as e:
    results[value] = str(e)
print('RESULTS ' + json.dumps(results))
"""


class TestPsTimeoutFlag:
  @pytest.mark.timeout(150)
  def test_defaults_to_a_minute_and_bad_values_are_usage_errors(self, tmp_path):
    values = ['0.5', '600', '0', '-1', 'nan', 'inf', 'soon', '']
    parse = _run(['-c', _PARSE_TIMEOUTS, json.dumps(values)])
    usage_dir = tmp_path / 'usage'
    usage = _run(
      [
        '-m',
        'graphnet.fully_connected_feed',
        '--ps_timeout_secs=0',
        f'--log_dir={usage_dir}',
      ]
    )
    try:
      out, err = parse.communicate(timeout=120)
      _, usage_err = usage.communicate(timeout=120)
    finally:
      parse.kill()
      usage.kill()
    line = [x for x in out.splitlines() if x.startswith('RESULTS ')]
    assert line, err[-2000:]
    results = json.loads(line[0][len('RESULTS ') :])
    assert results.pop('default') == 60
    assert results.pop('0.5') == results.pop('600') == 'OK'
    for value, got in results.items():
      assert got != 'OK' and '--ps_timeout_secs' in got, (value, got)
    assert usage.returncode not in (0, None)
    assert '--ps_timeout_secs' in usage_err and '> 0' in usage_err
    assert not usage_dir.exists()
