r"""Between-graph replication on TensorFlow's own distributed runtime.

A cluster is one or more parameter servers (`ps`) that hold the variables
and one or more `worker`s that each build the whole graph, read their own
batches and train. Every task runs the same program with the same host
lists and its own `--job_name` / `--task_index`:

    python -m graphnet.fully_connected_feed --ps_hosts h0:2222 \
      --worker_hosts h1:2222,h2:2222 --job_name worker --task_index 0 ...

Pieces (all TensorFlow's own engine, nothing home-made on the wire):

* `ClusterConfig` - the checked host lists, this task's role and the sync
  settings; `parse_hosts()` / `check_flags()` are what flag validators use.
* `start_server()` - `tf.distribute.Server` for this task, with a
  `ClusterError` naming the flag when its port is taken.
* `device_setter()` - `tf.train.replica_device_setter`: each variable on
  the ps task holding the fewest bytes so far (TF's greedy load balancing
  with a byte-size load), compute on this worker.
* `partitioner()` - splits variables of `partition_min_bytes` or more
  over the ps tasks (`tf.min_max_variable_partitioner`), so one large
  variable does not load one ps; checkpoints keep the whole variable's
  name and shape, and restore in one process and the other way round.
* `session_config()` - the `ConfigProto` with `device_filters`, so a worker
  only talks to the ps tasks and itself (workers never wait on each other).
* `SyncReplicas` - wraps the optimizer in `tf.train.SyncReplicasOptimizer`
  (pass the wrapped optimizer to `mnist.training`) and is the session hook
  every worker needs in sync mode.
The life of a task around its session (waiting for the chief, watching
the ps tasks, reporting done, serving as a ps) is in `cluster_tasks`.

Example:
    cluster = ClusterConfig(ps_hosts=('127.0.0.1:2222',),
                            worker_hosts=('127.0.0.1:2223',),
                            job_name='worker', task_index=0)
    server = start_server(cluster)
    with tf.device(device_setter(cluster)):
      ...build the graph...
"""

import dataclasses
import math
import re

import tensorflow.compat.v1 as tf

from graphnet import errors

__all__ = [
  'JOBS',
  'PS_TIMEOUT_SECS',
  'ClusterConfig',
  'parse_hosts',
  'check_flags',
  'check_timeout',
  'cluster_spec',
  'start_server',
  'device_setter',
  'PARTITION_MIN_BYTES',
  'partitioner',
  'variable_bytes',
  'session_config',
  'SyncReplicas',
]

JOBS = ('ps', 'worker')

# host:port with a DNS name, an IPv4 address or a bracketed IPv6 address.
_HOST_PORT = re.compile(
  r'^(?:\[[0-9A-Fa-f:.]+\]|[A-Za-z0-9](?:[A-Za-z0-9.-]*[A-Za-z0-9])?)'
  r':(\d{1,5})$'
)
# Default of --ps_timeout_secs: how long a task may go without an answer
# from a task it needs.
PS_TIMEOUT_SECS = 60.0
# Default of --partition_min_bytes: variables this large or larger are
# split over the ps tasks, in slices of at least this many bytes (the MLP's
# hidden1/weights, 401 KB, and the conv net's conv2 and fc1 weights are).
PARTITION_MIN_BYTES = 64 * 1024


def parse_hosts(text, flag):
  """Splits and checks a comma-separated `host:port` list.

  Args:
    text: e.g. 'a:2222,b:2222'; '' gives ().
    flag: the flag named in errors, e.g. '--ps_hosts'.

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
  for host in entries:
    match = _HOST_PORT.match(host)
    if not match or not 1 <= int(match.group(1)) <= 65535:
      raise errors.ClusterError(
        f'{flag}: {host!r} is not host:port (expected e.g. '
        f"'10.0.0.1:2222' or 'node-1:2222', port 1..65535)."
      )
  repeated = sorted({h for h in entries if entries.count(h) > 1})
  if repeated:
    raise errors.ClusterError(
      f'{flag}: {", ".join(repeated)} listed more than once; every task '
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
        f'--partition_min_bytes must be >= 0 (0 = never split), got '
        f'{self.partition_min_bytes}.'
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
  ps_hosts, worker_hosts, job_name, task_index, replicas_to_aggregate=None
):
  """Checks a cluster description; the flag validators' single source.

  Raises:
    ClusterError: naming the flag that is wrong.
  """
  ps_hosts = parse_hosts(ps_hosts, '--ps_hosts')
  worker_hosts = parse_hosts(worker_hosts, '--worker_hosts')
  if not worker_hosts:
    raise errors.ClusterError(
      '--worker_hosts is empty but a cluster was asked for (--ps_hosts or '
      '--job_name given); list at least one worker host:port.'
    )
  both = sorted(set(ps_hosts) & set(worker_hosts))
  if both:
    raise errors.ClusterError(
      f'--ps_hosts and --worker_hosts both list {", ".join(both)}; every '
      'task needs its own host:port.'
    )
  if job_name not in JOBS:
    raise errors.ClusterError(
      f'--job_name must be one of {JOBS} when --worker_hosts is given, got '
      f'{job_name!r}.'
    )
  hosts = ps_hosts if job_name == 'ps' else worker_hosts
  if not hosts:
    raise errors.ClusterError(
      '--job_name ps but --ps_hosts is empty; list the ps tasks.'
    )
  if task_index is None or not 0 <= task_index < len(hosts):
    raise errors.ClusterError(
      f'--task_index {task_index} is out of range for --job_name '
      f'{job_name}: --{job_name}_hosts lists {len(hosts)} task(s), so it '
      f'must be in 0..{len(hosts) - 1}.'
    )
  if replicas_to_aggregate is not None and not (
    1 <= replicas_to_aggregate <= len(worker_hosts)
  ):
    raise errors.ClusterError(
      f'--replicas_to_aggregate must be in 1..{len(worker_hosts)} (the '
      f'number of workers), got {replicas_to_aggregate}.'
    )


def check_timeout(secs, flag='--ps_timeout_secs'):
  """Checks a timeout in seconds; the flag validator's single source.

  Raises:
    ClusterError: `secs` is not a finite number > 0.
  """
  number = isinstance(secs, (int, float)) and not isinstance(secs, bool)
  if not number or not 0 < secs < math.inf:
    raise errors.ClusterError(
      f'{flag} must be a number of seconds > 0 (e.g. '
      f'{PS_TIMEOUT_SECS:g}), got {secs!r}.'
    )


def cluster_spec(cluster):
  """The `tf.train.ClusterSpec` of `cluster` (a `ClusterConfig`)."""
  jobs = {'worker': list(cluster.worker_hosts)}
  if cluster.ps_hosts:
    jobs['ps'] = list(cluster.ps_hosts)
  return tf.train.ClusterSpec(jobs)


def session_config(cluster, base=None):
  """`base` (a `tf.ConfigProto`, copied) with this task's device filters.

  A worker sees the ps tasks and itself only, so it neither waits for nor
  breaks with another worker; a ps sees itself only.
  """
  config = tf.ConfigProto()
  if base is not None:
    config.CopyFrom(base)
  if cluster.job_name == 'ps':
    filters = [cluster.task]
  else:
    filters = ['/job:ps', cluster.task]
  del config.device_filters[:]
  config.device_filters.extend(filters)
  return config


def start_server(cluster, config=None):
  """Starts this task's in-process gRPC server.

  Args:
    cluster: a `ClusterConfig`.
    config: optional `tf.ConfigProto` (device filters are added).

  Returns:
    the running `tf.distribute.Server`; its `.target` is the session master.

  Raises:
    ClusterError: the server cannot listen on this task's port.
  """
  flag = '--ps_hosts' if cluster.job_name == 'ps' else '--worker_hosts'
  try:
    return tf.distribute.Server(
      cluster_spec(cluster),
      job_name=cluster.job_name,
      task_index=cluster.task_index,
      config=session_config(cluster, config),
      start=True,
    )
  except (tf.errors.OpError, ValueError) as e:
    raise errors.ClusterError(
      f'{cluster.task} cannot start its server on {cluster.address} (from '
      f'{flag}, --task_index {cluster.task_index}): {e}. Is the port in use '
      'by another process? Pick a free port.'
    ) from e


def device_setter(cluster, local_device=''):
  """The device function to build a worker's graph under.

  Args:
    cluster: a `ClusterConfig` of a worker.
    local_device: device within the worker, e.g. '/cpu:0' or '/gpu:0'.

  Returns:
    a `tf.train.replica_device_setter`: each variable on the ps task that
    holds the fewest bytes when it is made (on worker 0 when there is no
    ps), everything else on this worker. Every worker builds the same graph
    in the same order, so every worker places each variable alike.
  """
  worker_device = f'/job:worker/task:{cluster.task_index}{local_device}'
  if not cluster.ps_hosts:
    return worker_device
  return tf.train.replica_device_setter(
    worker_device=worker_device,
    cluster=cluster_spec(cluster),
    ps_strategy=_GreedyByBytes(len(cluster.ps_hosts)),
  )


def variable_bytes(op):
  """Bytes of the variable that `op` (a variable op) makes; 0 if unknown."""
  try:
    shape = tf.TensorShape(op.get_attr('shape'))
    dtype = tf.as_dtype(op.get_attr('dtype')).base_dtype
  except (ValueError, TypeError):
    return 0
  if not shape.is_fully_defined():
    return 0
  return shape.num_elements() * dtype.size


class _GreedyByBytes:
  """A `replica_device_setter` ps strategy: the least loaded ps, by bytes.

  TF 1.x's contrib `GreedyLoadBalancingStrategy` with its
  `byte_size_load_fn`: each variable goes to the ps task holding the
  fewest bytes so far (the lowest index on a tie).
  """

  def __init__(self, num_tasks):
    self.loads = [0] * num_tasks

  def __call__(self, op):
    task = min(range(len(self.loads)), key=lambda i: (self.loads[i], i))
    self.loads[task] += variable_bytes(op)
    return task


def partitioner(cluster):
  """The variable partitioner of `cluster`, or None (nothing to split).

  Splits a variable of at least `partition_min_bytes` along its first
  axis into up to one slice per ps task, each slice at least that large
  (`tf.min_max_variable_partitioner`). None without 2 or more ps tasks.
  """
  if cluster is None or len(cluster.ps_hosts) < 2:
    return None
  if not cluster.partition_min_bytes:
    return None
  return tf.min_max_variable_partitioner(
    max_partitions=len(cluster.ps_hosts),
    min_slice_size=cluster.partition_min_bytes,
  )


class _SyncReplicasOptimizer(tf.train.SyncReplicasOptimizer):
  """Averages exactly the variables it updates.

  TF's optimizer takes the variables to average when it is made, but the
  trainer makes its optimizer before the model's variables exist; they are
  known when gradients are applied.
  """

  def __init__(self, *args, **kwargs):
    # TF keeps this very list; it is filled in apply_gradients.
    self._averaged = []
    super().__init__(*args, variables_to_average=self._averaged, **kwargs)

  def apply_gradients(self, grads_and_vars, global_step=None, name=None):
    grads_and_vars = list(grads_and_vars)
    self._averaged[:] = [v for g, v in grads_and_vars if g is not None]
    return super().apply_gradients(grads_and_vars, global_step, name)

  def get_chief_queue_runner(self):
    """TF's chief queue runner, ending quietly when its session closes.

    At the end of training it waits for gradients that no longer come, and
    the session's close cancels that wait; TF's runner reports the
    cancellation after its coordinator has joined, as a traceback from a
    dying thread. Here a cancelled run ends the runner as a closed queue
    does. Builds no op: the graph may be finalized.
    """
    runner = super().get_chief_queue_runner()
    return tf.train.QueueRunner(
      runner.queue,
      runner.enqueue_ops,
      close_op=runner.close_op,
      cancel_op=runner.cancel_op,
      queue_closed_exception_types=(
        tf.errors.OutOfRangeError,
        tf.errors.CancelledError,
      ),
    )


class SyncReplicas(tf.train.SessionRunHook):
  """Synchronous updates: optimizer wrapper and session hook in one.

  `sync(optimizer, ema)` wraps the optimizer given to `mnist.training` in
  `tf.train.SyncReplicasOptimizer`, which accumulates
  `replicas_to_aggregate` gradients (stale ones are dropped) and lets the
  chief apply their mean once; the global step advances once per update.
  Then add it to every worker's hooks: it runs TF's sync hook (the chief
  fills the token queue and runs the queue runner that applies updates).

  Given a `moving_average`, the chief applies the averages once per
  aggregated update (SyncReplicasOptimizer's `variable_averages`), so do
  not also pass it to `mnist.training`.

  Every worker releases extra tokens when its training ends, so a step of
  another worker that waits for an update that will never come (the last
  one happened) finishes, sees the final global step and stops instead of
  hanging. The chief can start such a step too: its hooks judge from a
  fetched global step, which the queue runner can move during the run, so
  the run that reached the last step can pass unnoticed; the next step's
  gradient is then the only one of an update that never comes, because
  the other workers stopped at the last step.
  """

  def __init__(self, replicas_to_aggregate, total_num_replicas, is_chief):
    """Creates the wrapper.

    Args:
      replicas_to_aggregate: gradients per update, >= 1.
      total_num_replicas: number of workers.
      is_chief: whether this worker is worker 0.

    Raises:
      ClusterError: replicas_to_aggregate or total_num_replicas < 1.
    """
    if replicas_to_aggregate < 1 or total_num_replicas < 1:
      raise errors.ClusterError(
        'SyncReplicas: replicas_to_aggregate and total_num_replicas must be '
        f'>= 1, got {replicas_to_aggregate} and {total_num_replicas}.'
      )
    self._aggregate = replicas_to_aggregate
    self._total = total_num_replicas
    self._is_chief = is_chief
    self.optimizer = None
    self._hook = None
    self._release = None

  @classmethod
  def for_config(cls, cluster):
    """The wrapper of `cluster` (a ClusterConfig or None), or None."""
    if cluster is None or not cluster.sync_replicas:
      return None
    return cls(cluster.aggregate, cluster.num_workers, cluster.is_chief)

  def __call__(self, optimizer, moving_average=None):
    """Wraps `optimizer` (a `tf.train.Optimizer`); call once.

    Args:
      optimizer: the optimizer that applies each aggregated update.
      moving_average: optional `tf.train.ExponentialMovingAverage` of the
        trainable variables (which must exist by now).

    Returns:
      the `tf.train.SyncReplicasOptimizer`.
    """
    if self.optimizer is not None:
      raise errors.ClusterRuntimeError(
        'SyncReplicas wraps exactly one optimizer; make a new SyncReplicas '
        'for another one.'
      )
    self.optimizer = _SyncReplicasOptimizer(
      optimizer,
      replicas_to_aggregate=self._aggregate,
      total_num_replicas=self._total,
      variable_averages=moving_average,
    )
    return self.optimizer

  def begin(self):
    if self.optimizer is None:
      raise errors.ClusterRuntimeError(
        'SyncReplicas is used as a hook but wrapped no optimizer; pass it '
        'to mnist.training(optimizer_wrapper=...) first.'
      )
    self._hook = self.optimizer.make_session_run_hook(self._is_chief)
    self._hook.begin()
    # Two tokens per worker: one for a step blocked now, one for a step
    # that started on a stale global step. Tokens carry the global step.
    self._release = self.optimizer.get_init_tokens_op(2 * self._total)

  def after_create_session(self, session, coord):
    self._hook.after_create_session(session, coord)

  def end(self, session):
    try:
      session.run(self._release)
    except tf.errors.CancelledError:
      # The chief closes the token queue when its session closes: it has
      # finished, and no step of another worker waits any more.
      pass
