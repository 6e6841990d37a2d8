"""The life of a cluster task around its training session.

`cluster` says what a cluster is (hosts, roles, devices, the sync
optimizer); this module runs a task through it:

* `wait_for_model()` - a non-chief worker polls (every half second, not
  TF's fixed 30 s) until the chief has initialised or restored the model.
* `peers.PsWatchdog` - ends a worker that has lost a ps task (see below).

How a ps task ends (`serve_ps()` / `signal_done()`): each ps task hosts a
FIFO queue (shared name `graphnet_done_ps<i>`). Every worker, when its
training ends (normally or with an error), enqueues its task index on every
ps. A ps serves until it has heard from all workers, or - once the chief
has reported - for at most `done_grace_secs` more, so a worker killed
without a word cannot keep the ps alive. The local launcher also stops
every process it started, as a second line of defence.

How a lost ps ends the workers (`PsWatchdog`): when a ps task dies, TF's
`MonitoredSession` takes the `UnavailableError` for a preemption and makes
a new session, and making a session waits for every ps device for ever
(neither `RunOptions.timeout_in_ms` nor `operation_timeout_in_ms` bounds
that wait on TF 2.21). So every worker probes the tasks holding its
variables (a TCP connect each second) in a thread; after `ps_timeout_secs`
without an answer it prints one line naming itself, the lost task and the
chief's last checkpoint, and exits with code 1 - nothing can be saved, the
variables lived on the lost task. Likewise a ps stops once every worker
that has not reported done has stopped answering for `ps_timeout_secs`.

Example:
    with cluster_tasks.worker_life(cluster, server, session_args):
      with tf.train.MonitoredTrainingSession(**session_args) as sess:
        ...
"""

import contextlib
import time

import tensorflow.compat.v1 as tf
from absl import logging

from graphnet import errors
from graphnet import options
from graphnet.distributed import cluster as cluster_lib
from graphnet.distributed import peers

__all__ = [
  'wait_for_model',
  'signal_done',
  'serve_ps',
  'worker_life',
]

_POLL_SECS = 0.5
_SIGNAL_TIMEOUT_MS = 10_000


def _done_queue(ps_index):
  """The done queue of ps task `ps_index` (same attributes on both ends)."""
  with tf.device(f'/job:ps/task:{ps_index}'):
    return tf.FIFOQueue(
      -1, tf.int32, shapes=[[]], shared_name=f'graphnet_done_ps{ps_index}'
    )


def wait_for_model(target, config, timeout_secs=600.0, printer=print):
  """Blocks until every global variable of the default graph is set.

  A non-chief worker calls it before opening its MonitoredTrainingSession:
  TF's session manager would re-check only every 30 s. Adds one
  `report_uninitialized_variables` op to the default graph, so call it
  before the graph is finalized.

  Args:
    target: this worker's `server.target`.
    config: its session `tf.ConfigProto` (with device filters).
    timeout_secs: give up after this long.
    printer: function taking one line.

  Raises:
    ClusterError: the chief did not initialise the model in time.
  """
  graph = tf.get_default_graph()
  report = tf.report_uninitialized_variables(tf.global_variables())
  deadline = time.time() + timeout_secs
  said = False
  with tf.Session(target, graph=graph, config=config) as session:
    while True:
      missing = session.run(report)
      if not len(missing):
        return
      if time.time() > deadline:
        raise errors.ClusterError(
          f'The chief (worker 0) did not initialise the model within '
          f'{timeout_secs:.0f} s ({len(missing)} variables unset); start '
          'the chief.'
        )
      if not said:
        printer('Waiting for the chief to initialise the model...')
        said = True
      time.sleep(_POLL_SECS)


def signal_done(cluster, target):
  """Tells every ps task that this worker has finished (best effort).

  Builds its own small graph; never raises (a ps that is already gone is
  logged and skipped).
  """
  if cluster.job_name != 'worker' or not cluster.ps_hosts:
    return
  with tf.Graph().as_default() as graph:
    enqueues = [
      _done_queue(i).enqueue(cluster.task_index)
      for i in range(len(cluster.ps_hosts))
    ]
  run_options = tf.RunOptions(timeout_in_ms=_SIGNAL_TIMEOUT_MS)
  try:
    with tf.Session(
      target, graph=graph, config=cluster_lib.session_config(cluster)
    ) as session:
      for i, enqueue in enumerate(enqueues):
        try:
          session.run(enqueue, options=run_options)
        except tf.errors.OpError as e:
          logging.warning(
            'Could not tell /job:ps/task:%d we are done: %s', i, e
          )
  except tf.errors.OpError as e:
    logging.warning('Could not tell the ps tasks we are done: %s', e)


def serve_ps(cluster, printer=print, names=options.as_argument):
  """Runs a ps task: serves variables until the workers are done.

  Returns when every worker has reported done, `done_grace_secs` after the
  chief has, or once every worker still training has stopped answering for
  `ps_timeout_secs` (see the module docstring).

  Args:
    cluster: a `ClusterConfig` with job_name 'ps'.
    printer: function taking one line.
    names: how errors name the `ClusterConfig` fields
      (`options.as_argument`, or `options.as_flag` on the command line).

  Returns:
    the sorted worker task indices that reported done.

  Raises:
    ClusterError: this task's server cannot start.
    ClusterRuntimeError: the workers stopped answering before the chief
      reported done.
  """
  if cluster.job_name != 'ps':
    raise errors.ClusterError(
      f'serve_ps needs {names("job_name")} ps, got {cluster.job_name!r}.'
    )
  server = cluster_lib.start_server(cluster, names=names)
  printer(
    f'{cluster.task} serving on {cluster.address} for '
    f'{cluster.num_workers} worker(s).'
  )
  with tf.Graph().as_default() as graph:
    dequeue = _done_queue(cluster.task_index).dequeue()
  # Short polls keep the process responsive to Ctrl-C.
  run_options = tf.RunOptions(timeout_in_ms=int(_POLL_SECS * 1000))
  silence = peers.Silence(
    {('worker', i): h for i, h in enumerate(cluster.worker_hosts)},
    cluster.ps_timeout_secs,
  )
  done, chief_done_at = set(), None
  with tf.Session(
    server.target, graph=graph, config=cluster_lib.session_config(cluster)
  ) as session:
    while len(done) < cluster.num_workers:
      if chief_done_at is not None and (
        time.time() - chief_done_at > cluster.done_grace_secs
      ):
        missing = sorted(set(range(cluster.num_workers)) - done)
        printer(
          f'{cluster.task}: the chief is done; no word from worker(s) '
          f'{missing} after {cluster.done_grace_secs:.0f} s, stopping.'
        )
        break
      if _workers_gone(cluster, silence, done, printer):
        break
      try:
        task = int(session.run(dequeue, options=run_options))
      except tf.errors.DeadlineExceededError:
        continue
      done.add(task)
      printer(f'{cluster.task}: worker {task} is done.')
      if task == 0 and chief_done_at is None:
        chief_done_at = time.time()
  printer(f'{cluster.task} stopping.')
  return sorted(done)


def _workers_gone(cluster, silence, done, printer):
  """Whether every worker not done is lost (a ps's reason to stop).

  A ps started before its workers waits for them: the clock only counts
  once some worker has answered.

  Raises:
    ClusterRuntimeError: they are, and the chief has not reported done.
  """
  silence.poll()
  pending = [('worker', i) for i in range(cluster.num_workers) if i not in done]
  workers = range(cluster.num_workers)
  started = any(silence.seen(('worker', i)) for i in workers)
  if not started or silence.lost(pending) != pending:
    return False
  names = ', '.join(
    f'{peers.task_name(p)} ({silence.address(p)})' for p in pending
  )
  secs = f'{cluster.ps_timeout_secs:g}'
  if 0 in done:
    printer(
      f'{cluster.task}: the chief is done; no answer from {names} for '
      f'{secs} s, stopping.'
    )
    return True
  raise errors.ClusterRuntimeError(
    f'ps {cluster.task_index} lost its workers: no answer from {names} for '
    f'{secs} s, and the chief never reported done; stopping. Restart the '
    "cluster to resume from the chief's last checkpoint."
  )


@contextlib.contextmanager
def worker_life(
  cluster,
  server,
  session_args,
  printer=print,
  doing='training',
  names=options.as_argument,
):
  """A worker's life around its training session.

  Starts the `PsWatchdog`, makes a non-chief worker wait for the chief's
  model, and reports the worker done to every ps when the session ends.
  Does nothing for `cluster` None (one process).

  Yields:
    the `PsWatchdog` (call its `reached()` once the session exists), or
    None without a cluster.

  Args:
    cluster: a `ClusterConfig`, or None.
    server: this task's `tf.train.Server` (None without a cluster).
    session_args: MonitoredTrainingSession's arguments (`config`,
      `checkpoint_dir`).
    printer: function taking one output line.
    doing: what the worker does once the model is ready, for its line.
    names: how the watchdog's line names the `ClusterConfig` fields
      (`options.as_argument`, or `options.as_flag` on the command line).
  """
  if cluster is None:
    yield None
    return
  # A lost ps would otherwise hang the session (and signal_done) for ever.
  watchdog = peers.PsWatchdog(
    cluster, session_args['checkpoint_dir'], names=names
  )
  try:
    watchdog.start()
    if not cluster.is_chief:
      wait_for_model(server.target, session_args['config'], printer=printer)
    printer(f'{cluster.task}: the model is ready; {doing}.')
    yield watchdog
  finally:
    signal_done(cluster, server.target)
    watchdog.stop()
