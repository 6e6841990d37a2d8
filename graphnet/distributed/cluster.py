r"""Between-graph replication on TensorFlow's own distributed runtime.

A cluster is one or more parameter servers (`ps`) that hold the variables
and one or more `worker`s that each build the whole graph, read their own
batches and train. Every task runs the same program with the same host
lists and its own `job_name` / `task_index` (on the command line:

    python -m graphnet.fully_connected_feed --ps_hosts h0:2222 \
      --worker_hosts h1:2222,h2:2222 --job_name worker --task_index 0 ...)

Pieces (all TensorFlow's own engine, nothing home-made on the wire):

* `ClusterConfig` - the checked host lists, this task's role and the sync
  settings; `parse_hosts()` / `check_flags()` are what flag validators use
  (defined in `cluster_config`, which imports no TensorFlow).
* `start_server()` - `tf.distribute.Server` for this task, with a
  `ClusterError` naming the host list and task_index when its port is
  taken.
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

import tensorflow.compat.v1 as tf

from graphnet import errors
from graphnet import options
from graphnet.distributed.cluster_config import JOBS as JOBS
from graphnet.distributed.cluster_config import (
  PARTITION_MIN_BYTES as PARTITION_MIN_BYTES,
)
from graphnet.distributed.cluster_config import (
  PS_TIMEOUT_SECS as PS_TIMEOUT_SECS,
)
from graphnet.distributed.cluster_config import ClusterConfig as ClusterConfig
from graphnet.distributed.cluster_config import check_flags as check_flags
from graphnet.distributed.cluster_config import check_timeout as check_timeout
from graphnet.distributed.cluster_config import parse_hosts as parse_hosts

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


def start_server(cluster, config=None, names=options.as_argument):
  """Starts this task's in-process gRPC server.

  Args:
    cluster: a `ClusterConfig`.
    config: optional `tf.ConfigProto` (device filters are added).
    names: how the error names the `ClusterConfig` fields
      (`options.as_argument`, or `options.as_flag` on the command line).

  Returns:
    the running `tf.distribute.Server`; its `.target` is the session master.

  Raises:
    ClusterError: the server cannot listen on this task's port.
  """
  hosts = names(f'{cluster.job_name}_hosts')
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
      f'{hosts}, {names("task_index")} {cluster.task_index}): {e}. Is the '
      'port in use by another process? Pick a free port.'
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
