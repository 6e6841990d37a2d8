"""Which cluster tasks still answer: TCP probes, silence, the ps watchdog.

`answers(address, timeout)` is one probe (a TCP connect); `Silence`
tracks how long each of some tasks has gone without answering;
`PsWatchdog` ends a worker that has lost a task holding its variables
(see `tasks` for why TF itself would wait for ever).

Example:
    silence = peers.Silence({('ps', 0): 'localhost:2222'}, timeout_secs=30)
    silence.poll(); silence.lost()
"""

import os
import socket
import sys
import threading
import time

from graphnet import errors
from graphnet import options
from graphnet.checkpoints import state as checkpoints

__all__ = ['answers', 'Silence', 'task_name', 'PsWatchdog']

# How often a task probes the tasks it needs, and how long one probe may
# take (a connect to a dead host never answers; a killed task's port
# refuses at once).
_PROBE_SECS = 1.0
_CONNECT_SECS = 2.0


def answers(address, timeout):
  """Whether a TCP connection to `address` ('host:port') opens in time.

  A frozen process still counts as alive: its kernel accepts for it.
  """
  host, port = address.rsplit(':', 1)
  try:
    with socket.create_connection((host.strip('[]'), int(port)), timeout):
      return True
  except OSError:
    return False


class Silence:
  """How long each of some tasks has gone without answering a probe."""

  def __init__(self, peers, timeout_secs, probe=answers, clock=time.monotonic):
    """Starts the clock.

    Args:
      peers: {(job, index): 'host:port'} of the tasks to probe.
      timeout_secs: silence after which a task counts as lost.
      probe: function(address, timeout) -> whether the task answered.
      clock: function() -> seconds.
    """
    self._peers = dict(peers)
    self._timeout = timeout_secs
    self._probe = probe
    self._clock = clock
    self._start = clock()
    # (job, index) -> when it last answered, or None.
    self._answered = dict.fromkeys(self._peers)
    self._due = self._start
    self.interval = min(_PROBE_SECS, timeout_secs / 4)

  def address(self, peer):
    return self._peers[peer]

  def poll(self):
    """Probes every task, if a probe is due."""
    if self._clock() < self._due:
      return
    self._due = self._clock() + self.interval
    for peer, address in self._peers.items():
      if self._probe(address, min(_CONNECT_SECS, self._timeout / 2)):
        self._answered[peer] = self._clock()

  def seen(self, peer):
    """Whether `peer` ever answered."""
    return self._answered[peer] is not None

  def lost(self, peers=None):
    """Those of `peers` (default: all) silent for the timeout, in order."""
    now = self._clock()
    return [
      peer
      for peer in (self._peers if peers is None else peers)
      if now - (self._answered[peer] or self._start) >= self._timeout
    ]


def task_name(peer):
  """('ps', 1) -> 'ps 1', for messages."""
  return f'{peer[0]} {peer[1]}'


class PsWatchdog:
  """Ends a worker that has lost a task holding its variables.

  A thread probes every ps task (worker 0 when there is none) each second;
  after `cluster.ps_timeout_secs` without an answer from one of them it
  writes one line to stderr, naming this worker, the lost task and the
  chief's last checkpoint, and ends the process with exit code 1 (see the
  module docstring for why TF would wait for ever instead). A ps restarted
  on the same port in time answers again: TF's session recovery then
  carries on from the chief's checkpoint, and the watchdog lets it.

  Example:
      watchdog = PsWatchdog(cluster, checkpoint_dir=log_dir).start()
      try:
        ...train...
      finally:
        watchdog.stop()
  """

  def __init__(
    self,
    cluster,
    checkpoint_dir=None,
    stream=None,
    exit_fn=os._exit,
    probe=answers,
    names=options.as_argument,
  ):
    """Creates the watchdog; `start()` starts its thread.

    Args:
      cluster: this worker's `ClusterConfig`.
      checkpoint_dir: where the chief saves (named in the message), or
        None on a worker that does not know it.
      stream: where the line goes (default: sys.stderr at that time).
      exit_fn: called with 1 to end the process; `os._exit`, because the
        main thread is stuck inside TF and cannot be interrupted.
      probe: function(address, timeout) -> whether the task answered.
      names: how the line names the `ClusterConfig` fields
        (`options.as_argument`, or `options.as_flag` on the command line).
    """
    self._cluster = cluster
    self._names = names
    self._checkpoint_dir = checkpoint_dir
    self._stream = stream
    self._exit = exit_fn
    if cluster.ps_hosts:
      peers = {('ps', i): h for i, h in enumerate(cluster.ps_hosts)}
    elif not cluster.is_chief:
      peers = {('worker', 0): cluster.worker_hosts[0]}
    else:
      peers = {}
    self._silence = Silence(peers, cluster.ps_timeout_secs, probe=probe)
    self._watching = bool(peers) and cluster.job_name == 'worker'
    self._stopped = threading.Event()
    self._thread = None
    # Set once this worker's session is up: it has talked to every task.
    self._reached = False

  def start(self):
    """Starts probing (nothing to do on a ps, or a chief without ps tasks).

    Returns:
      self.
    """
    if self._watching and self._thread is None:
      self._thread = threading.Thread(
        target=self._run, name='graphnet-ps-watchdog', daemon=True
      )
      self._thread.start()
    return self

  def reached(self):
    """Records that the session was created, so every task once answered.

    A probe can miss a task that came up and died between two probes (or
    while this process got no CPU); the message then still says the task
    was lost, not that it was never reached.
    """
    self._reached = True

  def stop(self):
    """Stops probing; the process goes on."""
    self._stopped.set()
    if self._thread is not None:
      self._thread.join()

  def __enter__(self):
    return self.start()

  def __exit__(self, *exc_info):
    self.stop()

  def _run(self):
    silence = self._silence
    while not self._stopped.is_set():
      silence.poll()
      lost = silence.lost()
      if lost:
        self._end(self.message(lost[0]))
        return
      self._stopped.wait(silence.interval)

  def _end(self, line):
    stream = self._stream or sys.stderr
    for out in (sys.stdout, stream):
      try:
        out.flush()
      except (OSError, ValueError):
        pass
    stream.write(line + '\n')
    stream.flush()
    self._exit(1)

  def message(self, peer):
    """The line printed when `peer` ((job, index)) is lost."""
    cluster = self._cluster
    me = f'worker {cluster.task_index}'
    if cluster.is_chief:
      me += ' (the chief)'
    secs = f'{cluster.ps_timeout_secs:g}'
    where = f'{task_name(peer)} ({self._silence.address(peer)})'
    if self._reached or self._silence.seen(peer):
      what = f'{me} lost {where}: no answer for {secs} s'
    else:
      what = (
        f'{me} cannot reach {where}: no answer for {secs} s since it '
        f'started (is that task running, and {self._names(peer[0] + "_hosts")} '
        'right?)'
      )
    return f'graphnet: error: {what}; {self._resume()}'

  def _resume(self):
    """Where a restarted cluster resumes from, as the message's end."""
    anywhere = "restart the cluster to resume from the chief's last checkpoint."
    if self._checkpoint_dir is None:
      return anywhere
    try:
      prefix = checkpoints.latest_checkpoint(self._checkpoint_dir)
    except errors.GraphnetError:
      return anywhere
    if prefix is None:
      return (
        f'there is no checkpoint in {self._checkpoint_dir} yet, so a '
        'restarted cluster starts over.'
      )
    return (
      f"the chief's last checkpoint is {prefix}; restart the cluster to "
      'resume from it.'
    )
