r"""Runs a graphnet cluster on this machine: P ps tasks and W workers.

Every task is `python -m graphnet.fully_connected_feed` on 127.0.0.1 with a
free port, the shared --ps_hosts/--worker_hosts and its own --job_name and
--task_index; everything after `--` goes to every task unchanged.

    python scripts/launch_local_cluster.py --num_ps 1 --num_workers 2 \
        --logs /tmp/cluster_logs -- --max_steps 2000 --log_dir /tmp/dist

Each task's output is streamed with a `[worker0]` style prefix (and
written to `<logs>/<task>.log` with --logs). The launcher watches every
task. When the chief (worker 0) succeeds, the others get --grace_secs to
finish on their own (a ps stops when the workers report done). When any
task fails (exits non-zero or dies by a signal), the others get
--fail_grace_secs (default 0) to end on their own - a worker that lost its
ps does within its --ps_timeout_secs, with one line saying why. Then, and
also on Ctrl-C, SIGTERM or --timeout_secs, every process it started is
stopped: each task runs in its own process group, which gets SIGTERM and,
after --kill_after_secs, SIGKILL. The launcher never waits for ever once a
task has failed. Exit status: 0 when the chief succeeded and no task
failed, 1 otherwise.

The functions are importable; the tests use `LocalCluster` as a harness:

    with LocalCluster(num_ps=1, num_workers=2, trainer_args=[...],
                      logs_dir=tmp) as cluster:
      cluster.start()
      chief_rc = cluster.wait('worker0', timeout=120)
"""

import argparse
import dataclasses
import json
import os
import signal
import socket
import subprocess
import sys
import threading
import time

__all__ = [
  'Task',
  'LocalCluster',
  'free_ports',
  'supervise',
  'main',
]

_REPO = os.path.dirname(os.path.dirname(os.path.abspath(__file__)))
_MODULE = 'graphnet.fully_connected_feed'


def free_ports(count):
  """`count` distinct TCP ports free on 127.0.0.1 right now.

  All sockets stay bound until every port is chosen, so no port repeats.
  Another process may still take one before the task binds it; the task
  then fails with a ClusterError naming its flag.
  """
  sockets = []
  try:
    for _ in range(count):
      s = socket.socket(socket.AF_INET, socket.SOCK_STREAM)
      s.bind(('127.0.0.1', 0))
      sockets.append(s)
    return [s.getsockname()[1] for s in sockets]
  finally:
    for s in sockets:
      s.close()


@dataclasses.dataclass
class Task:
  """One started task process."""

  # 'ps0', 'worker1', ...
  name: str
  job: str
  index: int
  process: subprocess.Popen
  # Its output lines so far (without the prefix).
  lines: list
  # Where its output is written, or None.
  log_path: str | None
  # Whether the launcher stopped it (not a failure of the task).
  stopped: bool = False
  _reader: threading.Thread | None = None

  @property
  def returncode(self):
    return self.process.poll()

  def output(self):
    """Everything it printed so far, as one string."""
    return '\n'.join(self.lines)


def _pump(task, stream, echo, log_file):
  for raw in iter(stream.readline, b''):
    line = raw.decode('utf-8', 'replace').rstrip('\n')
    task.lines.append(line)
    if log_file is not None:
      log_file.write(line + '\n')
      log_file.flush()
    if echo:
      sys.stdout.write(f'[{task.name}] {line}\n')
      sys.stdout.flush()
  stream.close()
  if log_file is not None:
    log_file.close()


def _signal_group(process, sig):
  try:
    os.killpg(process.pid, sig)
  except (ProcessLookupError, PermissionError):
    pass


class LocalCluster:
  """Starts, watches and always stops a local cluster's processes."""

  def __init__(
    self,
    num_ps,
    num_workers,
    trainer_args=(),
    logs_dir=None,
    echo=False,
    python=sys.executable,
    module=_MODULE,
    env=None,
    tf_config=False,
    evaluator=False,
  ):
    """Picks the ports; `start()` starts the tasks.

    Args:
      num_ps: ps tasks, >= 0.
      num_workers: worker tasks, >= 1; worker 0 is the chief.
      trainer_args: flags passed to every task.
      logs_dir: write `<task>.log` here, or None.
      echo: stream every line to stdout with a `[task]` prefix.
      python: the interpreter to run the tasks with.
      module: the trainer entry point module.
      env: extra environment variables for the tasks.
      tf_config: describe the cluster to each task in its TF_CONFIG
        variable (worker 0 as the chief) instead of the cluster flags.
      evaluator: also start an evaluator task (`evaluator0`: TF_CONFIG's
        `evaluator`, or --job_name evaluator), which scores the chief's
        checkpoints until training ends.
    """
    if num_ps < 0 or num_workers < 1:
      raise ValueError(
        f'LocalCluster needs num_ps >= 0 and num_workers >= 1, got '
        f'{num_ps} and {num_workers}.'
      )
    ports = free_ports(num_ps + num_workers)
    self.ps_hosts = [f'127.0.0.1:{p}' for p in ports[:num_ps]]
    self.worker_hosts = [f'127.0.0.1:{p}' for p in ports[num_ps:]]
    self._args = list(trainer_args)
    self._logs_dir = logs_dir
    self._echo = echo
    self._python = python
    self._module = module
    self._env = dict(os.environ)
    # The tasks import graphnet from this checkout, whatever the cwd.
    self._env['PYTHONPATH'] = os.pathsep.join(
      p for p in (_REPO, self._env.get('PYTHONPATH')) if p
    )
    self._env.setdefault('TF_CPP_MIN_LOG_LEVEL', '2')
    self._env.update(env or {})
    self._tf_config = tf_config
    self._evaluator = evaluator
    self.tasks = {}

  def tf_config(self, job, index):
    """The TF_CONFIG JSON text of task `job`/`index` (worker 0 = chief)."""
    cluster = {'chief': self.worker_hosts[:1]}
    if len(self.worker_hosts) > 1:
      cluster['worker'] = self.worker_hosts[1:]
    if self.ps_hosts:
      cluster['ps'] = self.ps_hosts
    if self._evaluator:
      # Listed so that the chief leaves evaluation to it; never dialled.
      cluster['evaluator'] = ['127.0.0.1:1']
    if job == 'worker' and index == 0:
      task = {'type': 'chief', 'index': 0}
    elif job == 'worker':
      task = {'type': 'worker', 'index': index - 1}
    else:
      task = {'type': job, 'index': index}
    return json.dumps({'cluster': cluster, 'task': task})

  def command(self, job, index):
    """The command line of task `job`/`index`."""
    command = [self._python, '-u', '-m', self._module]
    if self._tf_config:
      return command + self._args
    if job == 'evaluator':
      return command + ['--job_name=evaluator'] + self._args
    return (
      command
      + [
        f'--ps_hosts={",".join(self.ps_hosts)}',
        f'--worker_hosts={",".join(self.worker_hosts)}',
        f'--job_name={job}',
        f'--task_index={index}',
      ]
      + self._args
    )

  def start_task(self, job, index, log_suffix=''):
    """Starts (or restarts) one task in its own process group."""
    name = f'{job}{index}'
    log_path = None
    log_file = None
    if self._logs_dir:
      os.makedirs(self._logs_dir, exist_ok=True)
      log_path = os.path.join(self._logs_dir, f'{name}{log_suffix}.log')
      log_file = open(log_path, 'w')  # noqa: SIM115 (closed by the pump)
    env = dict(self._env)
    if self._tf_config:
      env['TF_CONFIG'] = self.tf_config(job, index)
    process = subprocess.Popen(
      self.command(job, index),
      stdout=subprocess.PIPE,
      stderr=subprocess.STDOUT,
      stdin=subprocess.DEVNULL,
      env=env,
      start_new_session=True,
    )
    task = Task(name, job, index, process, [], log_path)
    task._reader = threading.Thread(
      target=_pump,
      args=(task, process.stdout, self._echo, log_file),
      daemon=True,
    )
    task._reader.start()
    self.tasks[name] = task
    return task

  def start(self):
    """Starts every ps task, then every worker."""
    for i in range(len(self.ps_hosts)):
      self.start_task('ps', i)
    for i in range(len(self.worker_hosts)):
      self.start_task('worker', i)
    if self._evaluator:
      self.start_task('evaluator', 0)
    return self

  def wait(self, name, timeout=None):
    """Waits for task `name`; its return code, or None on timeout."""
    task = self.tasks[name]
    try:
      task.process.wait(timeout)
    except subprocess.TimeoutExpired:
      return None
    if task._reader is not None:
      task._reader.join(5)
    return task.returncode

  def wait_all(self, timeout):
    """Waits up to `timeout` s in all for every task to exit on its own."""
    deadline = time.time() + timeout
    for name in list(self.tasks):
      self.wait(name, max(0.0, deadline - time.time()))

  def kill(self, name, sig=signal.SIGKILL):
    """Sends `sig` to task `name`'s process group (a test's crash)."""
    _signal_group(self.tasks[name].process, sig)

  def stop(self, kill_after_secs=5.0):
    """Stops every task still running: SIGTERM, then SIGKILL."""
    running = [t for t in self.tasks.values() if t.returncode is None]
    for task in running:
      task.stopped = True
      _signal_group(task.process, signal.SIGTERM)
    deadline = time.time() + kill_after_secs
    for task in running:
      try:
        task.process.wait(max(0.0, deadline - time.time()))
      except subprocess.TimeoutExpired:
        _signal_group(task.process, signal.SIGKILL)
        task.process.wait()
    # Children of a task (if any) share its group; make sure they are gone.
    for task in self.tasks.values():
      _signal_group(task.process, signal.SIGKILL)
      if task._reader is not None:
        task._reader.join(5)

  def failed_workers(self):
    """Workers that exited non-zero on their own."""
    return [t for t in self.failed() if t.startswith('worker')]

  def failed(self):
    """Tasks that exited non-zero or died by a signal on their own."""
    return [
      t.name
      for t in self.tasks.values()
      if not t.stopped and t.returncode not in (0, None)
    ]

  def running(self):
    """Tasks still running."""
    return [t.name for t in self.tasks.values() if t.returncode is None]

  def __enter__(self):
    return self

  def __exit__(self, *exc):
    self.stop()


def _how(returncode):
  """'exited 1' or 'died by SIGKILL'."""
  if returncode < 0:
    try:
      return f'died by {signal.Signals(-returncode).name}'
    except ValueError:
      return f'died by signal {-returncode}'
  return f'exited {returncode}'


def supervise(
  cluster,
  timeout_secs=None,
  grace_secs=60.0,
  fail_grace_secs=0.0,
  poll_secs=0.2,
  say=print,
):
  """Watches a started cluster until its tasks end or must be stopped.

  Returns when every task has ended; `grace_secs` after the chief
  succeeded; `fail_grace_secs` after the first task failed; or when the
  chief has run `timeout_secs`. Stopping what still runs is the caller's
  (`LocalCluster.stop()`).

  Args:
    cluster: a started `LocalCluster`.
    timeout_secs: the chief's time limit, or None.
    grace_secs: how long the others may run after the chief succeeded.
    fail_grace_secs: how long the others may run after a task failed.
    poll_secs: how often the tasks are checked.
    say: function taking one line.

  Returns:
    the exit status: 0 if the chief succeeded and no task failed, else 1.
  """
  start = time.time()
  deadline = None if timeout_secs is None else start + timeout_secs
  chief_ok = failure = False
  while cluster.running():
    now = time.time()
    failed = cluster.failed()
    if failed and not failure:
      failure = True
      how = _how(cluster.tasks[failed[0]].returncode)
      then = 'stopping the other tasks'
      if fail_grace_secs:
        then = (
          f'the other tasks get {fail_grace_secs:g} s to end on their own, '
          'then are stopped'
        )
      say(f'launcher: {failed[0]} {how}; {then}.')
      deadline = now + fail_grace_secs
    elif (
      not failure and not chief_ok and cluster.tasks['worker0'].returncode == 0
    ):
      chief_ok = True
      deadline = now + grace_secs
    if deadline is not None and now >= deadline:
      if not chief_ok and not failure:
        say(f'launcher: the chief ran longer than {timeout_secs:g} s.')
      break
    time.sleep(poll_secs)
  chief = cluster.tasks['worker0'].returncode
  failed = cluster.failed()
  say(
    f'launcher: chief {"still running" if chief is None else _how(chief)} '
    f'after {time.time() - start:.1f} s; failed: {failed or "none"}; still '
    f'running (stopping): {cluster.running() or "none"}.'
  )
  return 0 if chief == 0 and not failed else 1


def _parse(argv):
  if '--' in argv:
    split = argv.index('--')
    own, trainer_args = argv[:split], argv[split + 1 :]
  else:
    own, trainer_args = argv, []
  parser = argparse.ArgumentParser(
    description=__doc__.split('\n')[0],
    epilog='Flags after -- go to every task.',
  )
  parser.add_argument('--num_ps', type=int, default=1)
  parser.add_argument('--num_workers', type=int, default=2)
  parser.add_argument('--logs', default=None, help='Write <task>.log here.')
  parser.add_argument(
    '--quiet', action='store_true', help='Do not stream the output.'
  )
  parser.add_argument(
    '--timeout_secs',
    type=float,
    default=None,
    help='Stop everything when the chief runs longer than this.',
  )
  parser.add_argument(
    '--grace_secs',
    type=float,
    default=60.0,
    help='After the chief succeeds, how long the others may take to end.',
  )
  parser.add_argument(
    '--fail_grace_secs',
    type=float,
    default=0.0,
    help='After a task fails, how long the others may take to end on '
    'their own (a worker that lost its ps ends within --ps_timeout_secs).',
  )
  parser.add_argument('--kill_after_secs', type=float, default=5.0)
  parser.add_argument(
    '--tf_config',
    action='store_true',
    help='Describe the cluster to each task in TF_CONFIG (worker 0 as the '
    'chief) instead of --ps_hosts/--worker_hosts/--job_name/--task_index.',
  )
  parser.add_argument(
    '--evaluator',
    action='store_true',
    help='Also run an evaluator task that scores each new checkpoint until '
    'training ends (the chief then leaves evaluation to it with --tf_config).',
  )
  args = parser.parse_args(own)
  if args.num_ps < 0 or args.num_workers < 1:
    parser.error('--num_ps must be >= 0 and --num_workers >= 1.')
  for name in ('grace_secs', 'fail_grace_secs', 'kill_after_secs'):
    if not getattr(args, name) >= 0:
      parser.error(f'--{name} must be >= 0, got {getattr(args, name)}.')
  return args, trainer_args


def _raise_exit(signum, frame):
  del frame
  raise SystemExit(128 + signum)


def main(argv=None):
  """Runs the cluster; returns the exit status."""
  args, trainer_args = _parse(sys.argv[1:] if argv is None else argv)
  previous = signal.signal(signal.SIGTERM, _raise_exit)
  cluster = LocalCluster(
    args.num_ps,
    args.num_workers,
    trainer_args,
    logs_dir=args.logs,
    echo=not args.quiet,
    tf_config=args.tf_config,
    evaluator=args.evaluator,
  )
  say = lambda line: print(line, flush=True)  # noqa: E731
  try:
    cluster.start()
    for task in cluster.tasks.values():
      hosts = cluster.ps_hosts if task.job == 'ps' else cluster.worker_hosts
      where = (
        'reading the checkpoints'
        if task.job == 'evaluator'
        else f'on {hosts[task.index]}'
      )
      say(f'launcher: {task.name} is pid {task.process.pid} {where}.')
    return supervise(
      cluster,
      args.timeout_secs,
      args.grace_secs,
      args.fail_grace_secs,
      say=say,
    )
  except KeyboardInterrupt:
    print('launcher: interrupted; stopping every task.', file=sys.stderr)
    return 130
  finally:
    cluster.stop(args.kill_after_secs)
    signal.signal(signal.SIGTERM, previous)


if __name__ == '__main__':
  sys.exit(main())
