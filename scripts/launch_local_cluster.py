r"""Runs a graphnet cluster on this machine: P ps tasks and W workers.

Every task is `python -m graphnet.fully_connected_feed` on 127.0.0.1 with a
free port, the shared --ps_hosts/--worker_hosts and its own --job_name and
--task_index; everything after `--` goes to every task unchanged.

    python scripts/launch_local_cluster.py --num_ps 1 --num_workers 2 \
        --logs /tmp/cluster_logs -- --max_steps 2000 --log_dir /tmp/dist

Each task's output is streamed with a `[worker0]` style prefix (and
written to `<logs>/<task>.log` with --logs). The launcher waits for the
chief (worker 0), gives the other tasks --grace_secs to finish on their own
(a ps stops when the workers report done), then stops every process it
started - also on Ctrl-C, SIGTERM or a failure: each task runs in its own
process group, which gets SIGTERM and, after --kill_after_secs, SIGKILL.
Exit status: 0 when every worker succeeded, 1 otherwise.

The functions are importable; the tests use `LocalCluster` as a harness:

    with LocalCluster(num_ps=1, num_workers=2, trainer_args=[...],
                      logs_dir=tmp) as cluster:
      cluster.start()
      chief_rc = cluster.wait('worker0', timeout=120)
"""

import argparse
import dataclasses
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
    self.tasks = {}

  def command(self, job, index):
    """The command line of task `job`/`index`."""
    return [
      self._python,
      '-u',
      '-m',
      self._module,
      f'--ps_hosts={",".join(self.ps_hosts)}',
      f'--worker_hosts={",".join(self.worker_hosts)}',
      f'--job_name={job}',
      f'--task_index={index}',
    ] + self._args

  def start_task(self, job, index, log_suffix=''):
    """Starts (or restarts) one task in its own process group."""
    name = f'{job}{index}'
    log_path = None
    log_file = None
    if self._logs_dir:
      os.makedirs(self._logs_dir, exist_ok=True)
      log_path = os.path.join(self._logs_dir, f'{name}{log_suffix}.log')
      log_file = open(log_path, 'w')  # noqa: SIM115 (closed by the pump)
    process = subprocess.Popen(
      self.command(job, index),
      stdout=subprocess.PIPE,
      stderr=subprocess.STDOUT,
      stdin=subprocess.DEVNULL,
      env=self._env,
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
    return [
      t.name
      for t in self.tasks.values()
      if t.job == 'worker' and not t.stopped and t.returncode not in (0, None)
    ]

  def __enter__(self):
    return self

  def __exit__(self, *exc):
    self.stop()


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
    help='After the chief ends, how long the others may take to end.',
  )
  parser.add_argument('--kill_after_secs', type=float, default=5.0)
  args = parser.parse_args(own)
  if args.num_ps < 0 or args.num_workers < 1:
    parser.error('--num_ps must be >= 0 and --num_workers >= 1.')
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
  )
  start = time.time()
  try:
    cluster.start()
    chief = cluster.wait('worker0', args.timeout_secs)
    if chief is None:
      print(
        f'launcher: the chief ran longer than {args.timeout_secs} s; stopping.',
        file=sys.stderr,
      )
      return 1
    elapsed = time.time() - start
    if chief == 0:
      cluster.wait_all(args.grace_secs)
    failed = cluster.failed_workers()
    stopped = [t.name for t in cluster.tasks.values() if t.returncode is None]
    print(
      f'launcher: chief exited {chief} after {elapsed:.1f} s; '
      f'failed workers: {failed or "none"}; still running (stopping): '
      f'{stopped or "none"}.',
      flush=True,
    )
    return 1 if failed else 0
  except KeyboardInterrupt:
    print('launcher: interrupted; stopping every task.', file=sys.stderr)
    return 130
  finally:
    cluster.stop(args.kill_after_secs)
    signal.signal(signal.SIGTERM, previous)


if __name__ == '__main__':
  sys.exit(main())
