"""A cluster's description and its checks, without TensorFlow.

`ClusterConfig` holds the host lists, this task's role and the sync
settings; `parse_hosts()`, `check_flags()` and `check_timeout()` are the
one source of the rules the command line's validators apply while flags
are parsed (before TensorFlow is imported). Their messages name the
`ClusterConfig` fields through a `names` function (`options.as_argument`,
the default, or `options.as_flag` on the command line). `cluster` builds
the running cluster from a `ClusterConfig` and re-exports these names.

Example:
    cluster = ClusterConfig(ps_hosts=('127.0.0.1:2222',),
                            worker_hosts=('127.0.0.1:2223',),
                            job_name='worker', task_index=0)
    cluster.is_chief  # True
"""

import dataclasses
import math
import re

from graphnet import errors
from graphnet import options

__all__ = [
  'JOBS',
  'PS_TIMEOUT_SECS',
  'PARTITION_MIN_BYTES',
  'ClusterConfig',
  'parse_hosts',
  'check_flags',
  'check_timeout',
]

JOBS = ('ps', 'worker')

# host:port with a DNS name, an IPv4 address or a bracketed IPv6 address.
_HOST_PORT = re.compile(
  r'^(?:\[[0-9A-Fa-f:.]+\]|[A-Za-z0-9](?:[A-Za-z0-9.-]*[A-Za-z0-9])?)'
  r':(\d{1,5})$'
)
# Default of `ClusterConfig.ps_timeout_secs`: how long a task may go
# without an answer from a task it needs.
PS_TIMEOUT_SECS = 60.0
# Default of `ClusterConfig.partition_min_bytes`: variables this large or
# larger are split over the ps tasks, in slices of at least this many bytes
# (the MLP's hidden1/weights, 401 KB, and the conv net's conv2 and fc1
# weights are).
PARTITION_MIN_BYTES = 64 * 1024


def parse_hosts(text, field, names=options.as_argument):
  """Splits and checks a comma-separated `host:port` list.

  Args:
    text: e.g. 'a:2222,b:2222'; '' gives ().
    field: the `ClusterConfig` field of the list, e.g. 'ps_hosts'.
    names: how errors name `field` (`options.as_argument`, or
      `options.as_flag` on the command line).

  Returns:
    a tuple of 'host:port' strings.

  Raises:
    ClusterError: an entry is not host:port, a port is out of 1..65535, or
      an entry is repeated.
  """
  if isinstance(text, str):
    entries = [h.strip() for h in text.split(',')] if text.strip() else []
  else:
    entries = [h.strip() for h in text]
  named = names(field)
  for host in entries:
    match = _HOST_PORT.match(host)
    if not match or not 1 <= int(match.group(1)) <= 65535:
      raise errors.ClusterError(
        f'{named}: {host!r} is not host:port (expected e.g. '
        f"'10.0.0.1:2222' or 'node-1:2222', port 1..65535)."
      )
  repeated = sorted({h for h in entries if entries.count(h) > 1})
  if repeated:
    raise errors.ClusterError(
      f'{named}: {", ".join(repeated)} listed more than once; every task '
      'needs its own host:port.'
    )
  return tuple(entries)


@dataclasses.dataclass(frozen=True)
class ClusterConfig:
  """Where every task of a cluster runs and which one this process is."""

  # Parameter-server tasks, 'host:port' each; may be empty (then the
  # variables live on worker 0).
  ps_hosts: tuple = ()
  # Worker tasks, 'host:port' each; worker 0 is the chief.
  worker_hosts: tuple = ()
  # This task's job: 'ps' or 'worker'.
  job_name: str = 'worker'
  # This task's index in its job.
  task_index: int = 0
  # Aggregate gradients with SyncReplicasOptimizer instead of async updates.
  sync_replicas: bool = False
  # Gradients per synchronous update; None = one per worker.
  replicas_to_aggregate: int | None = None
  # How long a ps keeps serving after the chief reported done while other
  # workers have not (a killed worker never reports).
  done_grace_secs: float = 30.0
  # A worker that gets no answer from a ps task (from worker 0 when there is
  # no ps) for this long exits with an error; a ps stops when every worker
  # still training has not answered for this long.
  ps_timeout_secs: float = PS_TIMEOUT_SECS
  # An evaluator task (TF_CONFIG's `evaluator`) scores the chief's
  # checkpoints; the chief then only trains (no evaluation of its own).
  has_evaluator: bool = False
  # Split variables of this many bytes or more over the ps tasks (slices
  # of at least this size); 0 = never split.
  partition_min_bytes: int = PARTITION_MIN_BYTES

  def __post_init__(self):
    check_flags(
      self.ps_hosts,
      self.worker_hosts,
      self.job_name,
      self.task_index,
      self.replicas_to_aggregate,
    )
    check_timeout(self.ps_timeout_secs)
    if self.partition_min_bytes < 0:
      raise errors.ClusterError(
        f'{options.as_argument("partition_min_bytes")} must be >= 0 (0 = '
        f'never split), got {self.partition_min_bytes}.'
      )
    if self.done_grace_secs < 0:
      raise errors.ClusterError(
        f'ClusterConfig: done_grace_secs must be >= 0, got '
        f'{self.done_grace_secs}.'
      )

  @property
  def num_workers(self):
    return len(self.worker_hosts)

  @property
  def is_chief(self):
    """Worker 0 initialises, restores, saves, evaluates and summarises."""
    return self.job_name == 'worker' and self.task_index == 0

  @property
  def aggregate(self):
    """Gradients per synchronous update (resolved default)."""
    return self.replicas_to_aggregate or self.num_workers

  @property
  def task(self):
    """'/job:<job>/task:<index>'."""
    return f'/job:{self.job_name}/task:{self.task_index}'

  @property
  def address(self):
    """This task's host:port."""
    hosts = self.ps_hosts if self.job_name == 'ps' else self.worker_hosts
    return hosts[self.task_index]


def check_flags(
  ps_hosts,
  worker_hosts,
  job_name,
  task_index,
  replicas_to_aggregate=None,
  names=options.as_argument,
):
  """Checks a cluster description; the flag validators' single source.

  Args:
    ps_hosts: `ClusterConfig.ps_hosts`, or its comma-separated text.
    worker_hosts: `ClusterConfig.worker_hosts`, or its text.
    job_name: `ClusterConfig.job_name`.
    task_index: `ClusterConfig.task_index`.
    replicas_to_aggregate: `ClusterConfig.replicas_to_aggregate`.
    names: how errors name the fields (`options.as_argument`, or
      `options.as_flag` on the command line).

  Raises:
    ClusterError: naming the field that is wrong.
  """
  ps, workers = names('ps_hosts'), names('worker_hosts')
  ps_hosts = parse_hosts(ps_hosts, 'ps_hosts', names)
  worker_hosts = parse_hosts(worker_hosts, 'worker_hosts', names)
  if not worker_hosts:
    raise errors.ClusterError(
      f'{workers} is empty but a cluster was asked for ({ps} or '
      f'{names("job_name")} given); list at least one worker host:port.'
    )
  both = sorted(set(ps_hosts) & set(worker_hosts))
  if both:
    raise errors.ClusterError(
      f'{ps} and {workers} both list {", ".join(both)}; every '
      'task needs its own host:port.'
    )
  _check_task(ps_hosts, worker_hosts, job_name, task_index, names)
  if replicas_to_aggregate is not None and not (
    1 <= replicas_to_aggregate <= len(worker_hosts)
  ):
    raise errors.ClusterError(
      f'{names("replicas_to_aggregate")} must be in 1..{len(worker_hosts)} '
      f'(the number of workers), got {replicas_to_aggregate}.'
    )


def _check_task(ps_hosts, worker_hosts, job_name, task_index, names):
  """Refuses a job_name or task_index that names no task of the lists."""
  job = names('job_name')
  if job_name not in JOBS:
    raise errors.ClusterError(
      f'{job} must be one of {JOBS} when {names("worker_hosts")} is given, '
      f'got {job_name!r}.'
    )
  hosts = ps_hosts if job_name == 'ps' else worker_hosts
  if not hosts:
    raise errors.ClusterError(
      f'{job} ps but {names("ps_hosts")} is empty; list the ps tasks.'
    )
  if task_index is None or not 0 <= task_index < len(hosts):
    raise errors.ClusterError(
      f'{names("task_index")} {task_index} is out of range for {job} '
      f'{job_name}: {names(job_name + "_hosts")} lists {len(hosts)} '
      f'task(s), so it must be in 0..{len(hosts) - 1}.'
    )


def check_timeout(secs, names=options.as_argument):
  """Checks `ClusterConfig.ps_timeout_secs`; the flag validator's source.

  Args:
    secs: the timeout in seconds.
    names: how the error names the field (`options.as_argument`, or
      `options.as_flag` on the command line).

  Raises:
    ClusterError: `secs` is not a finite number > 0.
  """
  number = isinstance(secs, (int, float)) and not isinstance(secs, bool)
  if not number or not 0 < secs < math.inf:
    raise errors.ClusterError(
      f'{names("ps_timeout_secs")} must be a number of seconds > 0 (e.g. '
      f'{PS_TIMEOUT_SECS:g}), got {secs!r}.'
    )
