"""Reads the `TF_CONFIG` environment variable that TF1 clusters used.

TF1 jobs on clusters (and Kubernetes job operators, which set it for every
replica) describe the cluster and this process's task in one JSON value:

    TF_CONFIG='{"cluster": {"chief": ["h0:2222"], "worker": ["h1:2222"],
                            "ps": ["h2:2222"]},
                "task": {"type": "worker", "index": 0}}'

`parse()` checks it and returns a `TfConfig`; each error names the
variable and the field that is wrong. `TfConfig.cluster_config()` maps it
onto graphnet's own `cluster.ClusterConfig`, whose worker 0 is the chief:
`chief` becomes worker 0 and `worker` i becomes worker i + 1 (every task
computes the same mapping, so the gRPC cluster agrees). An `evaluator`
task is not part of the gRPC cluster (as in TF1); it only reads the
chief's checkpoints.

Example:
    config = tf_config.parse()          # From os.environ['TF_CONFIG'].
    if config.task_type == 'ps':
      cluster_tasks.serve_ps(config.cluster_config())
"""

import dataclasses
import json
import os
import types

from graphnet import errors
from graphnet.distributed import cluster_config as cluster_lib

__all__ = [
  'ENV',
  'CHIEF',
  'WORKER',
  'PS',
  'EVALUATOR',
  'TASK_TYPES',
  'TfConfig',
  'parse',
]

ENV = 'TF_CONFIG'
CHIEF = 'chief'
WORKER = 'worker'
PS = 'ps'
EVALUATOR = 'evaluator'
TASK_TYPES = (CHIEF, WORKER, PS, EVALUATOR)
# TF1's old name for the chief; accepted as TF1 did.
_MASTER = 'master'


def _fail(field, message):
  where = f'{ENV}: {field}' if field else ENV
  raise errors.ClusterError(f'{where} {message}')


@dataclasses.dataclass(frozen=True)
class TfConfig:
  """A checked `TF_CONFIG`: the cluster and this process's task."""

  # job name -> tuple of 'host:port' (read-only); empty when not in a
  # cluster. The evaluator's job is never in it.
  cluster: types.MappingProxyType
  # 'chief', 'worker', 'ps' or 'evaluator'; None outside a cluster.
  task_type: str | None = None
  # This task's index in its job.
  task_index: int = 0
  # Whether the cluster lists an evaluator task (which then scores the
  # chief's checkpoints, so the chief need not).
  has_evaluator: bool = False

  @property
  def is_distributed(self):
    """Whether this process is one task of a multi-process cluster."""
    return bool(self.cluster) or self.task_type == EVALUATOR

  @property
  def is_chief(self):
    """The chief trains, saves checkpoints and summaries; one process is."""
    return self.task_type in (None, CHIEF)

  @property
  def num_workers(self):
    """Training tasks: the chief and the workers."""
    return len(self.cluster.get(CHIEF, ())) + len(self.cluster.get(WORKER, ()))

  @property
  def num_ps(self):
    return len(self.cluster.get(PS, ()))

  @property
  def address(self):
    """This task's 'host:port', or None (evaluator, or no cluster)."""
    hosts = self.cluster.get(self.task_type, ())
    return hosts[self.task_index] if self.task_index < len(hosts) else None

  def cluster_config(self, **settings):
    """This task as a `cluster.ClusterConfig` (chief = worker 0).

    Args:
      **settings: further `ClusterConfig` fields (`sync_replicas`,
        `ps_timeout_secs`, ...).

    Returns:
      a `ClusterConfig`, or None for the evaluator or without a cluster.
    """
    if not self.cluster or self.task_type == EVALUATOR:
      return None
    chief = self.cluster.get(CHIEF, ())
    if self.task_type == PS:
      job, index = 'ps', self.task_index
    elif self.task_type == CHIEF:
      job, index = 'worker', 0
    else:
      job, index = 'worker', len(chief) + self.task_index
    return cluster_lib.ClusterConfig(
      ps_hosts=tuple(self.cluster.get(PS, ())),
      worker_hosts=tuple(chief) + tuple(self.cluster.get(WORKER, ())),
      job_name=job,
      task_index=index,
      **settings,
    )


def _hosts(job, value):
  if not isinstance(value, (list, tuple)) or not value:
    _fail(
      f'cluster.{job}',
      f'must be a non-empty list of "host:port" strings, got {value!r}.',
    )
  for i, host in enumerate(value):
    if not isinstance(host, str) or ':' not in host:
      _fail(
        f'cluster.{job}[{i}]', f'must be a "host:port" string, got {host!r}.'
      )
  return tuple(value)


def _cluster(raw):
  if raw is None:
    return {}
  if not isinstance(raw, dict):
    _fail('cluster', f'must be an object of job -> hosts, got {raw!r}.')
  cluster = {}
  for job, hosts in raw.items():
    name = CHIEF if job == _MASTER else job
    if name not in (CHIEF, WORKER, PS, EVALUATOR):
      _fail(
        'cluster',
        f'has an unknown job {job!r}; the jobs are chief, worker, ps '
        '(and evaluator).',
      )
    cluster[name] = _hosts(job, hosts)
  if len(cluster.get(CHIEF, ())) > 1:
    _fail(
      'cluster.chief',
      f'must list one task, got {len(cluster[CHIEF])}: {list(cluster[CHIEF])}.',
    )
  training = {j: h for j, h in cluster.items() if j != EVALUATOR}
  if training and CHIEF not in training:
    _fail(
      'cluster',
      f'has no "chief" task (jobs: {sorted(training)}); add '
      '"chief": ["host:port"] (the task that saves checkpoints).',
    )
  seen = {}
  for job, hosts in training.items():
    for i, host in enumerate(hosts):
      if host in seen:
        _fail(
          f'cluster.{job}[{i}]',
          f'{host} is also {seen[host]}; every task needs its own port.',
        )
      seen[host] = f'cluster.{job}[{i}]'
  return training


def _task(raw, cluster):
  if raw is None:
    if cluster:
      _fail('task', 'is missing; add "task": {"type": ..., "index": ...}.')
    return None, 0
  if not isinstance(raw, dict):
    _fail('task', f'must be an object with "type" and "index", got {raw!r}.')
  task_type = raw.get('type')
  if task_type == _MASTER:
    task_type = CHIEF
  if task_type not in TASK_TYPES:
    _fail('task.type', f'must be one of {TASK_TYPES}, got {task_type!r}.')
  index = raw.get('index', 0)
  if isinstance(index, str) and index.isdigit():
    index = int(index)
  if not isinstance(index, int) or isinstance(index, bool) or index < 0:
    _fail('task.index', f'must be an integer >= 0, got {index!r}.')
  if task_type == EVALUATOR:
    if index != 0:
      _fail('task.index', f'of the evaluator must be 0, got {index}.')
    return task_type, index
  if task_type not in cluster:
    _fail(
      'task.type',
      f'is {task_type!r} but cluster has no {task_type!r} job (jobs: '
      f'{sorted(cluster)}).',
    )
  if index >= len(cluster[task_type]):
    _fail(
      'task.index',
      f'{index} is out of range: cluster.{task_type} lists '
      f'{len(cluster[task_type])} task(s).',
    )
  return task_type, index


def parse(text=None, environ=None):
  """Checks and returns a `TF_CONFIG`.

  Args:
    text: the JSON text; default the `TF_CONFIG` environment variable.
    environ: environment mapping when `text` is None; default `os.environ`.

  Returns:
    a `TfConfig` (an empty cluster when the variable is unset or empty).

  Raises:
    ClusterError: the JSON is malformed or a field is wrong (named).
  """
  if text is None:
    text = (os.environ if environ is None else environ).get(ENV, '')
  if not text.strip():
    return TfConfig(types.MappingProxyType({}))
  try:
    raw = json.loads(text)
  except ValueError as e:
    raise errors.ClusterError(
      f'{ENV} is not valid JSON ({e}); expected e.g. {{"cluster": '
      '{"chief": ["host:port"], "ps": ["host:port"]}, "task": {"type": '
      '"chief", "index": 0}}.'
    ) from None
  if not isinstance(raw, dict):
    _fail('', f'must be a JSON object, got {raw!r}.')
  cluster = _cluster(raw.get('cluster'))
  task_type, index = _task(raw.get('task'), cluster)
  listed = EVALUATOR in (raw.get('cluster') or {})
  return TfConfig(
    types.MappingProxyType(cluster),
    task_type,
    index,
    has_evaluator=listed or task_type == EVALUATOR,
  )
