"""`slim.learning` of TF 1.15: the `train` loop (and `create_train_op`).

`create_train_op(total_loss, optimizer)` (built in `train_ops`, re-exported
here as users type it) returns a tensor taking one step, evaluating to the
loss. `train(train_op, logdir, number_of_steps=...)` runs it under a
`tf.train.Supervisor` as TF 1.15's did: variables initialized (or restored
from the latest checkpoint in `logdir`, else `init_fn(sess)` is called),
summaries every `save_summaries_secs` and checkpoints `model.ckpt-<step>`
every `save_interval_secs` in `logdir`, one at the end; it stops when the
global step reaches `number_of_steps` and returns the last loss.

Not provided: `sync_optimizer` (SyncReplicasOptimizer) and tracing
(`trace_every_n_steps`).

Example:
    total_loss = slim.losses.get_total_loss()
    train_op = slim.learning.create_train_op(
        total_loss, tf.train.GradientDescentOptimizer(0.1))
    slim.learning.train(train_op, '/tmp/logs', number_of_steps=1000,
                        save_summaries_secs=60, save_interval_secs=600)
"""

import time
import warnings

import tensorflow.compat.v1 as tf

from graphnet.compat.v1.contrib.slim.train_ops import add_gradients_summaries
from graphnet.compat.v1.contrib.slim.train_ops import clip_gradient_norms
from graphnet.compat.v1.contrib.slim.train_ops import create_train_op
from graphnet.compat.v1.contrib.slim.train_ops import multiply_gradients

__all__ = [
  'add_gradients_summaries',
  'clip_gradient_norms',
  'create_train_op',
  'multiply_gradients',
  'train',
  'train_step',
]

# A default distinct from None (which means "none" for several arguments).
_USE_DEFAULT = 0


def train_step(sess, train_op, global_step, train_step_kwargs):
  """Runs `train_op` once; returns (loss, whether to stop).

  `train_step_kwargs` may hold 'should_stop' and 'should_log' boolean
  tensors (made by `train`).
  """
  start_time = time.time()
  total_loss, np_global_step = sess.run([train_op, global_step])
  time_elapsed = time.time() - start_time
  if 'should_log' in train_step_kwargs and sess.run(
    train_step_kwargs['should_log']
  ):
    tf.logging.info(
      'global step %d: loss = %.4f (%.3f sec/step)',
      np_global_step,
      total_loss,
      time_elapsed,
    )
  should_stop = False
  if 'should_stop' in train_step_kwargs:
    should_stop = sess.run(train_step_kwargs['should_stop'])
  return total_loss, should_stop


def _check_train_args(
  train_op,
  logdir,
  summary_op,
  saver,
  number_of_steps,
  sync_optimizer,
  trace_every_n_steps,
  **unchecked,
):
  """Raises for `train`'s bad arguments (given as `**locals()`)."""
  del unchecked
  if train_op is None:
    raise ValueError('slim.learning.train: train_op cannot be None.')
  if logdir is None:
    if summary_op != _USE_DEFAULT:
      raise ValueError(
        'slim.learning.train: cannot take a summary_op when logdir is None.'
      )
    if saver is not None:
      raise ValueError(
        'slim.learning.train: cannot take a saver when logdir is None.'
      )
  if number_of_steps is not None and number_of_steps <= 0:
    raise ValueError(
      'slim.learning.train: number_of_steps must be None or positive, got '
      f'{number_of_steps}.'
    )
  for name, value in (
    ('sync_optimizer', sync_optimizer),
    ('trace_every_n_steps', trace_every_n_steps),
  ):
    if value is not None:
      raise NotImplementedError(
        f'slim.learning.train: {name} is not provided by graphnet; leave it '
        'None.'
      )


def train(
  train_op,
  logdir,
  train_step_fn=train_step,
  train_step_kwargs=_USE_DEFAULT,
  log_every_n_steps=1,
  graph=None,
  master='',
  is_chief=True,
  global_step=None,
  number_of_steps=None,
  init_op=_USE_DEFAULT,
  init_feed_dict=None,
  local_init_op=_USE_DEFAULT,
  init_fn=None,
  ready_op=_USE_DEFAULT,
  summary_op=_USE_DEFAULT,
  save_summaries_secs=600,
  summary_writer=_USE_DEFAULT,
  startup_delay_steps=0,
  saver=None,
  save_interval_secs=600,
  sync_optimizer=None,
  session_config=None,
  session_wrapper=None,
  trace_every_n_steps=None,
  ignore_live_threads=False,
):
  """Runs `train_op` until `number_of_steps` (or a stop), as TF 1.15's.

  Args:
    train_op: from `create_train_op`.
    logdir: where checkpoints and summaries go (None: neither).
    train_step_fn: `fn(sess, train_op, global_step, kwargs) -> (loss,
      should_stop)`, called once per step.
    train_step_kwargs: its kwargs (default: 'should_stop' and 'should_log'
      tensors).
    log_every_n_steps: log the loss every that many global steps.
    graph: default: the default graph.
    master: the session target.
    is_chief: whether this task initializes, saves and summarizes.
    global_step: default: the graph's (created if missing).
    number_of_steps: the global step to stop at (None: until stopped).
    init_op: default `tf.global_variables_initializer()`.
    init_feed_dict: the feed dict of `init_op`.
    local_init_op: default: local variables and tables initializers.
    init_fn: `fn(sess)` run after initialization when no checkpoint is in
      `logdir` (e.g. `assign_from_checkpoint_fn`).
    ready_op: default `tf.report_uninitialized_variables()`.
    summary_op: default `tf.summary.merge_all()`.
    save_summaries_secs: the summary period.
    summary_writer: default: the Supervisor's, in `logdir`.
    startup_delay_steps: a non-chief waits until the global step is there.
    saver: default `tf.train.Saver()`.
    save_interval_secs: the checkpoint period.
    sync_optimizer: must be None.
    session_config: a `tf.ConfigProto`.
    session_wrapper: `fn(sess) -> sess`, e.g. a debugger.
    trace_every_n_steps: must be None.
    ignore_live_threads: passed to `Supervisor.stop`.

  Returns:
    the loss of the last step.

  Raises:
    ValueError: bad arguments (no train_op, summary_op or saver without a
      logdir, number_of_steps <= 0).
    NotImplementedError: `sync_optimizer` or `trace_every_n_steps`.
  """
  _check_train_args(**locals())
  graph = graph or tf.get_default_graph()
  with graph.as_default():
    if global_step is None:
      global_step = tf.train.get_or_create_global_step()
    saver = saver or tf.train.Saver()
    with tf.name_scope('init_ops'):
      if init_op == _USE_DEFAULT:
        init_op = tf.global_variables_initializer()
      if ready_op == _USE_DEFAULT:
        ready_op = tf.report_uninitialized_variables()
      if local_init_op == _USE_DEFAULT:
        local_init_op = tf.group(
          tf.local_variables_initializer(), tf.tables_initializer()
        )
    if summary_op == _USE_DEFAULT:
      summary_op = tf.summary.merge_all()
    if summary_writer == _USE_DEFAULT:
      summary_writer = tf.train.Supervisor.USE_DEFAULT
    if train_step_kwargs == _USE_DEFAULT:
      with tf.name_scope('train_step'):
        train_step_kwargs = {
          'should_stop': tf.greater_equal(global_step, number_of_steps)
          if number_of_steps
          else tf.constant(False)
        }
        if log_every_n_steps > 0:
          train_step_kwargs['should_log'] = tf.equal(
            tf.mod(global_step, log_every_n_steps), 0
          )
  sv = tf.train.Supervisor(
    graph=graph,
    is_chief=is_chief,
    logdir=logdir,
    init_op=init_op,
    init_feed_dict=init_feed_dict,
    local_init_op=local_init_op,
    ready_op=ready_op,
    summary_op=summary_op,
    summary_writer=summary_writer,
    global_step=global_step,
    saver=saver,
    save_summaries_secs=save_summaries_secs,
    save_model_secs=save_interval_secs,
    init_fn=init_fn,
  )
  if summary_writer is not None:
    train_step_kwargs['summary_writer'] = sv.summary_writer

  def run_session():
    """One managed session of `train`; returns the last loss."""
    total_loss = None
    with (
      warnings.catch_warnings(),
      sv.managed_session(
        master, start_standard_services=False, config=session_config
      ) as sess,
    ):
      # TF 1.15's loop stops the Supervisor, which closes the summary
      # writer, and leaving the session stops it again; TF 2's writer
      # warns about that second, harmless STOP event.
      warnings.filterwarnings(
        'ignore', 'Attempting to use a closed FileWriter', UserWarning
      )
      tf.logging.info('Starting Session.')
      if session_wrapper is not None:
        sess = session_wrapper(sess)
      if is_chief:
        if logdir:
          sv.start_standard_services(sess)
      elif startup_delay_steps > 0:
        _wait_for_step(
          sess, global_step, min(startup_delay_steps, number_of_steps or 2**62)
        )
      threads = sv.start_queue_runners(sess)
      tf.logging.info('Starting Queues.')
      try:
        while not sv.should_stop():
          total_loss, should_stop = train_step_fn(
            sess, train_op, global_step, train_step_kwargs
          )
          if should_stop:
            tf.logging.info('Stopping Training.')
            sv.request_stop()
            break
      except tf.errors.OutOfRangeError as e:
        tf.logging.info('Caught OutOfRangeError. Stopping Training. %s', e)
      if logdir and sv.is_chief:
        # TF 1.15 saved first and then stopped the Supervisor's threads: a
        # timed save still running (the one at step 0 of a short run) could
        # finish last and leave `checkpoint` naming the older step. Stopping
        # first joins it, so the final step is the latest checkpoint.
        sv.stop(
          threads,
          close_summary_writer=True,
          ignore_live_threads=ignore_live_threads,
        )
        tf.logging.info('Finished training! Saving model to disk.')
        sv.saver.save(sess, sv.save_path, global_step=sv.global_step)
    return total_loss

  total_loss = None
  should_retry = True
  while should_retry:
    should_retry = False
    try:
      total_loss = run_session()
    except tf.errors.AbortedError:
      # A parameter server restarted: start again from the checkpoint.
      should_retry = True
  return total_loss


def _wait_for_step(sess, global_step, step):
  """Waits until the global step reaches `step` (non-chief start-up)."""
  while sess.run(global_step) < step:
    time.sleep(1.0)
