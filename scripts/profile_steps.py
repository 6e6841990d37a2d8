r"""Where the time of one feed_dict training step goes (graphnet vs TF1).

Builds graphnet's training graph as `trainer.run_training` does (the CLI's
default flags: 784-128-32-10, SGD 0.01, batch 100, log 100, eval and
checkpoints 1000) and measures, without changing graphnet:

  1. Per-step wall time of interleaved variants, each on its own copy of
     the graph, run round-robin in blocks of `--block` steps so that the
     machine's other load hits them alike:
       tf1 loop          tf.Session, sess.run([train_op, loss], feed_dict)
       plain train_op    tf.Session, sess.run(train_op, feed_dict)
       (+ run_metadata)  the same with RunOptions/RunMetadata, as
                         MonitoredSession passes them to every run
       make_callable     the tf1 loop through Session.make_callable
       MTS bare          MonitoredTrainingSession, no hooks at all
       MTS + <hook>      the bare session plus one of graphnet's hooks,
                         or one of TF's own savers (what graphnet used)
       graphnet          MonitoredTrainingSession with run_training's hooks
     and `next_batch` + the feed dict on their own.
  2. cProfile of the graphnet variant's Python side, grouped: each hook's
     before_run / after_run, MonitoredSession's wrappers, session.run's
     Python part, the C call (executor and kernels), next_batch.
  3. A RunMetadata trace (FULL_TRACE) of `--trace_steps` steps of the tf1
     loop, kernel time summed per op type; and the same, per step, for the
     CLI default (100 fed batches per run) and the fast path
     (--input_pipeline resident --steps_per_run 100).
  4. The hooks' own cost per run, on a train op that only computes the
     loss and increments the global step (less kernel time to hide it):
     run_training's hooks counting steps, the same hooks fetching the step
     every run (as in a cluster), and TF's own savers, each against a bare
     MonitoredTrainingSession.

Usage:
  python scripts/profile_steps.py [--steps 2000] [--block 100] [--out FILE]
"""

import argparse
import contextlib
import cProfile
import os
import pstats
import shutil
import statistics
import subprocess
import sys
import tempfile
import time

os.environ.setdefault('TF_CPP_MIN_LOG_LEVEL', '1')

import tensorflow.compat.v1 as tf  # noqa: E402

_REPO = os.path.dirname(os.path.dirname(os.path.abspath(__file__)))
# Run from a checkout without installing graphnet.
sys.path.insert(0, _REPO)

from graphnet import fully_connected_feed  # noqa: E402
from graphnet.cli import train_flags  # noqa: E402
from graphnet.data import mnist_reader as input_data  # noqa: E402
from graphnet.training import session_config  # noqa: E402
from graphnet.training import signals  # noqa: E402
from graphnet.training import train_graph  # noqa: E402
from graphnet.training import trainer  # noqa: E402

# Far beyond any profile: StopAtStepHook never ends a variant early.
_MAX_STEPS = 10**7


def _config(log_dir, data_dir, *extra):
  """The CLI's TrainConfig: its default flags, one step per run, `extra`."""
  flags = train_flags.FLAGS
  flags.unparse_flags()
  argv = ['profile', '--log_dir', log_dir, '--input_data_dir', data_dir]
  # The per-step profile is of TF1's path: one session.run per step.
  argv += ['--steps_per_run', '1']
  flags(argv + ['--max_steps', str(_MAX_STEPS), *extra])
  return fully_connected_feed.config_from_flags()


def _graphnet_hooks(config, train_graph, data_sets, stop):
  """(hooks, chief_only_hooks, session kwargs) exactly as run_training.

  Uses run_training's own private helper so that the profile follows
  whatever hooks the current tree installs.
  """
  made = trainer._make_hooks(  # noqa: SLF001
    config, train_graph, data_sets, stop, printer=lambda line: None
  )
  session = dict(
    checkpoint_dir=config.log_dir,
    config=session_config.make_config(config.session),
    save_checkpoint_steps=None,
    save_summaries_steps=None,
    log_step_count_steps=None,
  )
  return made.all_tasks, made.chief_only, session


class _Variant:
  """One way of running the training step, on its own graph."""

  def __init__(self, name, data_sets, data_dir, hook_filter, kind='mts'):
    """Builds the graph.

    Args:
      name: label.
      data_sets: the shared `input_data.Datasets`.
      data_dir: the data directory (for the config).
      hook_filter: for kind 'mts': None (graphnet's full set, as
        run_training), 'none', a hook class name to keep alone, or a key
        of `_PROBES` (a probe or one of TF's own savers alone).
      kind: 'mts'; 'tf1' (fetch train_op and loss), 'plain' (train_op),
        'metadata' (train_op with RunOptions and RunMetadata, as
        MonitoredSession passes them) or 'callable' (train_op and loss
        through `Session.make_callable`): a tf.Session without hooks.
    """
    self.name = name
    self.times = []
    # Per round of the interleaving: this variant's step times.
    self.blocks = []
    self._kind = kind
    self._filter = hook_filter
    self._log_dir = tempfile.mkdtemp(prefix='profile-steps-')
    self.config = _config(self._log_dir, data_dir)
    self.tg = train_graph.build_train_graph(self.config, data_sets)
    self._data_sets = data_sets

  def open(self, stack):
    """Opens the session inside `stack` (a contextlib.ExitStack)."""
    tg = self.tg
    with tg.graph.as_default():
      if self._kind != 'mts':
        self.sess = stack.enter_context(
          tf.Session(config=session_config.make_config(self.config.session))
        )
        self.sess.run(tf.global_variables_initializer())
        self._fetch = tg.train_op
        if self._kind == 'tf1':
          self._fetch = [tg.train_op, tg.loss]
        if self._kind == 'callable':
          self._callable = self.sess.make_callable(
            [tg.train_op, tg.loss], feed_list=[tg.images, tg.labels]
          )
        return
      stop = stack.enter_context(signals.StopOnSignals())
      hooks, chief_only, session = _graphnet_hooks(
        self.config, tg, self._data_sets, stop
      )
      if self._filter is not None:
        keep = [
          h for h in hooks + chief_only if type(h).__name__ == self._filter
        ]
        if self._filter in _PROBES:
          keep = [_PROBES[self._filter](tg, self._log_dir)]
        hooks, chief_only = keep, []
        session = dict(session, checkpoint_dir=None)
      self.sess = tf.train.MonitoredTrainingSession(
        scaffold=tf.train.Scaffold(saver=tg.saver),
        hooks=hooks,
        chief_only_hooks=chief_only,
        **session,
      )
      stack.callback(self._close_session)
      self._fetch = tg.train_op

  def _close_session(self):
    # Hooks' end() saves and evaluates: in TF2 that needs the graph as
    # default, or the Saver thinks it runs eagerly.
    with self.tg.graph.as_default():
      self.sess.close()

  def hook_names(self):
    """Class names of the hooks the full graphnet variant installs."""
    return sorted(
      {type(h).__name__ for h in self.sess._hooks}  # noqa: SLF001
    )

  def run(self, steps):
    """Runs `steps` steps as the training loop does; records each one."""
    sess, fetch, inputs = self.sess, self._fetch, self.tg.inputs
    clock = time.perf_counter
    mts = self._kind == 'mts'
    if self._kind == 'callable':
      self._run_callable(steps)
      return
    run_args = {}
    if self._kind == 'metadata':
      # What MonitoredSession's _HookedSession passes to every run.
      run_args = dict(options=tf.RunOptions(), run_metadata=tf.RunMetadata())
    with self.tg.graph.as_default():
      for _ in range(steps):
        start = clock()
        if mts and sess.should_stop():
          break
        sess.run(fetch, feed_dict=inputs.feed_dict(), **run_args)
        self.times.append(clock() - start)

  def _run_callable(self, steps):
    """The tf1 loop through Session.make_callable: no per-run feed parsing."""
    run, data_set = self._callable, self._data_sets.train
    batch_size, clock = self.config.batch_size, time.perf_counter
    for _ in range(steps):
      start = clock()
      run(*data_set.next_batch(batch_size))
      self.times.append(clock() - start)

  def close(self):
    shutil.rmtree(self._log_dir, ignore_errors=True)


# Hooks measured one at a time (plus TF's own summary saver).
class _EveryNFetchHook(tf.train.SessionRunHook):
  """Probe: fetches the global step only every `n`-th run, counting runs.

  What a hook costs when it asks for nothing on the runs where it does
  nothing (the design issue 15 proposes).
  """

  def __init__(self, tensor, n):
    self._tensor, self._n, self._runs = tensor, n, 0

  def before_run(self, run_context):
    self._runs += 1
    if self._runs % self._n:
      return None
    return tf.train.SessionRunArgs(self._tensor)


# Probe hooks measured like graphnet's: name -> function(train graph,
# log dir). TF's own savers are what MonitoredTrainingSession would add.
_PROBES = {
  'probe: fetch loss every run': lambda tg, _: _EveryNFetchHook(tg.loss, 1),
  'probe: fetch global step every 100th run': lambda tg, _: _EveryNFetchHook(
    tg.global_step, 100
  ),
  "TF's CheckpointSaverHook (save_steps 1000)": lambda tg, log_dir: (
    tf.train.CheckpointSaverHook(log_dir, save_steps=1000, saver=tg.saver)
  ),
  "TF's SummarySaverHook (save_steps 100)": lambda tg, log_dir: (
    tf.train.SummarySaverHook(
      save_steps=100, output_dir=log_dir, summary_op=tf.summary.merge_all()
    )
  ),
}

# Hooks measured one at a time (plus TF's own savers and probes).
_SINGLE_HOOKS = (
  'StopAtStepHook',
  'SignalStopHook',
  'DivergenceHook',
  'StepLoggingHook',
  'EvaluationHook',
  'LoopCheckpointSaverHook',
  'LoopSummarySaverHook',
  *_PROBES,
)


def _interleaved(data_sets, data_dir, steps, block):
  """Per-step times of every variant, run round-robin."""
  variants = [
    _Variant(
      'tf1 loop: run([train_op, loss])', data_sets, data_dir, None, 'tf1'
    ),
    _Variant(
      'plain Session: run(train_op)', data_sets, data_dir, None, 'plain'
    ),
    _Variant(
      'plain Session: run(train_op, options, run_metadata)',
      data_sets,
      data_dir,
      None,
      'metadata',
    ),
    _Variant(
      'tf1 loop via Session.make_callable',
      data_sets,
      data_dir,
      None,
      'callable',
    ),
    _Variant('MTS bare (no hooks)', data_sets, data_dir, 'none'),
  ]
  variants += [
    _Variant(f'MTS + {name}', data_sets, data_dir, name)
    for name in _SINGLE_HOOKS
  ]
  variants.append(
    _Variant('graphnet (run_training hooks)', data_sets, data_dir, None)
  )
  with contextlib.ExitStack() as stack:
    for v in variants:
      v.open(stack)
    installed = variants[-1].hook_names()
    for v in variants:
      v.run(20)  # Warm-up: first runs allocate.
      v.times.clear()
    for _ in range(-(-steps // block)):
      for v in variants:
        start = len(v.times)
        v.run(block)
        v.blocks.append(v.times[start:])
  for v in variants:
    v.close()
  return variants, installed


def _next_batch_seconds(data_sets, variant, steps):
  """Median seconds of building one step's feed dict (next_batch)."""
  times, inputs = [], variant.tg.inputs
  for _ in range(steps):
    start = time.perf_counter()
    inputs.feed_dict()
    times.append(time.perf_counter() - start)
  return statistics.median(times)


# ---------------------------------------------------------------- cProfile


def _profile(data_sets, data_dir, steps):
  """Profiles the graphnet variant's loop; rows grouped per component."""
  variant = _Variant('graphnet', data_sets, data_dir, None)
  with contextlib.ExitStack() as stack:
    variant.open(stack)
    variant.run(20)
    hooks = list(variant.sess._hooks)  # noqa: SLF001
    profiler = cProfile.Profile()
    profiler.enable()
    variant.run(steps)
    profiler.disable()
  variant.close()
  stats = pstats.Stats(profiler).stats
  feed_dict = type(variant.tg.inputs).feed_dict
  return _group(stats, hooks, feed_dict, steps)


def _code_key(fn):
  """The key pstats gives a Python function."""
  code = fn.__code__
  return (code.co_filename, code.co_firstlineno, code.co_name)


def _cum(stats, fn):
  """Cumulative seconds of `fn` (0 when it never ran)."""
  key = _code_key(fn)
  return stats[key][3] if key in stats else 0.0


def _hook_rows(stats, hooks):
  """(label, seconds) of each hook class's before_run + after_run."""
  rows, seen = [], set()
  for hook in hooks:
    cls = type(hook)
    if cls in seen:
      continue
    seen.add(cls)
    spent = _cum(stats, cls.before_run) + _cum(stats, cls.after_run)
    rows.append((f'hook {cls.__name__}: before_run + after_run', spent))
    for method in ('evaluate', '_save'):
      fn = getattr(cls, method, None)
      if fn is not None and _cum(stats, fn):
        rows.append((f'  of which {method} (periodic)', _cum(stats, fn)))
  return rows


def _group(stats, hooks, feed_dict, steps):
  """Rows (component, µs per step) of the profile of `steps` steps."""
  from tensorflow.python.client import session as session_lib
  from tensorflow.python.training import monitored_session as ms

  rows = _hook_rows(stats, hooks)
  hooks_total = sum(s for label, s in rows if label.startswith('hook '))
  base_run = _code_key(session_lib.BaseSession.run)
  wrapped = _code_key(ms._WrappedSession.run)  # noqa: SLF001
  # The training run reaches BaseSession.run from _WrappedSession.run;
  # hooks' own session.run calls (step re-reads, evaluations, saves) come
  # from the hooks and are in their rows.
  callers = stats[base_run][4] if base_run in stats else {}
  train_run = callers[wrapped][3] if wrapped in callers else 0.0
  c_call = sum(
    v[2] for k, v in stats.items() if 'TF_SessionRun_wrapper' in k[2]
  )
  all_runs = stats[base_run][3] if base_run in stats else 0.0
  # The C call's share that belongs to the training run, by proportion.
  train_c = c_call * (train_run / all_runs) if all_runs else 0.0
  monitored = _cum(stats, ms._MonitoredSession.run)  # noqa: SLF001
  rows += [
    ('all hooks', hooks_total),
    (
      'MonitoredSession.run wrappers (minus hooks and the training '
      'session.run)',
      monitored - hooks_total - train_run,
    ),
    (
      'MonitoredSession.should_stop',
      _cum(stats, ms._MonitoredSession.should_stop),  # noqa: SLF001
    ),
    (
      'training session.run, Python part (feeds, fetches, RunMetadata)',
      train_run - train_c,
    ),
    ('training session.run, C call TF_SessionRun_wrapper (approx.)', train_c),
    ('feed_dict() incl. next_batch', _cum(stats, feed_dict)),
    (
      '  of which DataSet.next_batch',
      _cum(stats, input_data.DataSet.next_batch),
    ),
    ('profiled total', sum(v[2] for v in stats.values())),
  ]
  return [(label, seconds * 1e6 / steps) for label, seconds in rows]


# ------------------------------------------------------------------- trace


def _op_type(node):
  label = node.timeline_label
  if ' = ' in label:
    return label.split(' = ', 1)[1].split('(', 1)[0]
  return node.node_name.split(':', 1)[0]


def _trace(sess, fetch, feed_fn, runs, steps_per_run=1):
  """Kernel time per op type of traced runs, per training step.

  A node's kernel time is op_end_rel_micros - op_start_rel_micros. Each
  op type's figure is its median over the runs (a run the machine's other
  load preempted does not skew it), so the table adds up to its total.

  Returns:
    ({op type: (median, min) µs per step}, median span per step in µs:
    first start to last end of a run). The minimum is what a kernel takes
    when nothing else on the machine preempts it.
  """
  by_run, spans = [], []
  options = tf.RunOptions(trace_level=tf.RunOptions.FULL_TRACE)
  for _ in range(runs):
    metadata = tf.RunMetadata()
    sess.run(fetch, feed_dict=feed_fn(), options=options, run_metadata=metadata)
    micros, first, last = {}, None, None
    for device in metadata.step_stats.dev_stats:
      for node in device.node_stats:
        op = _op_type(node)
        kernel = node.op_end_rel_micros - node.op_start_rel_micros
        micros[op] = micros.get(op, 0) + kernel
        start = node.all_start_micros
        end = start + node.all_end_rel_micros
        first = start if first is None else min(first, start)
        last = end if last is None else max(last, end)
    by_run.append(micros)
    spans.append((last - first) / steps_per_run)
  types = set().union(*by_run)
  per_step = {
    op: (
      statistics.median(m.get(op, 0) for m in by_run) / steps_per_run,
      min(m.get(op, 0) for m in by_run) / steps_per_run,
    )
    for op in types
  }
  return per_step, statistics.median(spans)


def _trace_feed(data_sets, data_dir, runs):
  """Trace of the tf1 loop on graphnet's graph (feed path)."""
  variant = _Variant('trace', data_sets, data_dir, None, 'tf1')
  with contextlib.ExitStack() as stack:
    variant.open(stack)
    variant.run(50)
    fetch = [variant.tg.train_op, variant.tg.loss]
    result = _trace(variant.sess, fetch, variant.tg.inputs.feed_dict, runs)
  variant.close()
  return result


def _trace_loop(data_sets, data_dir, runs, pipeline, steps_per_run=100):
  """Trace and untraced step time of an in-graph loop of `pipeline`.

  The untraced time includes making each run's feed (the fed loop draws
  its batches in Python).
  """
  log_dir = tempfile.mkdtemp(prefix='profile-loop-')
  config = _config(
    log_dir,
    data_dir,
    '--input_pipeline',
    pipeline,
    '--steps_per_run',
    str(steps_per_run),
  )
  tg = train_graph.build_train_graph(config, data_sets)
  with (
    tg.graph.as_default(),
    tf.Session(config=session_config.make_config(config.session)) as sess,
  ):
    sess.run(tf.global_variables_initializer())
    sess.run(
      tf.local_variables_initializer(),
      feed_dict=tg.inputs.local_init_feed_dict,
    )
    times = []
    for _ in range(22):
      start = time.perf_counter()
      sess.run(tg.train_op, feed_dict=tg.inputs.feed_dict())
      times.append((time.perf_counter() - start) / steps_per_run)
    traced = _trace(sess, tg.train_op, tg.inputs.feed_dict, runs, steps_per_run)
  shutil.rmtree(log_dir, ignore_errors=True)
  # The first runs allocate.
  return traced, statistics.median(times[2:])


# ------------------------------------------------- hook overhead per run


def _overhead_session(config, data_sets, variant):
  """(graph, session, trivial train op, feed function) of one variant.

  The train op computes the loss (as the real step does, so fetching it
  costs no extra kernels) and increments the global step, without the
  backward pass and updates: the differences between variants are what
  the hooks and MonitoredSession add.
  """
  tg = train_graph.build_train_graph(config, data_sets)
  with tg.graph.as_default():
    train_op = tf.group(tf.assign_add(tg.global_step, 1), tg.loss)
    stop = signals.StopOnSignals()
    hooks, chief_only, session = _graphnet_hooks(config, tg, data_sets, stop)
    if variant == 'bare':
      hooks, chief_only = [], []
      session = dict(session, checkpoint_dir=None)
    elif variant == 'tf':
      hooks = [
        _PROBES[name](tg, config.log_dir)
        for name in _PROBES
        if name.startswith("TF's")
      ]
      chief_only, session = [], dict(session, checkpoint_dir=None)
    elif variant == 'fetching':
      # What the same hooks do in a cluster, where other workers move the
      # global step: fetch it with every run.
      for hook in hooks + chief_only:
        steps = getattr(hook, '_steps', None)
        if steps is not None:
          steps._counted = False  # noqa: SLF001
    sess = tf.train.MonitoredTrainingSession(
      scaffold=tf.train.Scaffold(saver=tg.saver),
      hooks=hooks,
      chief_only_hooks=chief_only,
      **session,
    )
  return tg.graph, sess, train_op, tg.inputs.feed_dict


_OVERHEAD_VARIANTS = (
  ('MTS bare (no hooks)', 'bare'),
  ('run_training hooks (count_steps, as run_training)', 'counting'),
  ('the same hooks fetching the global step every run (a cluster)', 'fetching'),
  ("TF's CheckpointSaverHook + SummarySaverHook only", 'tf'),
)


def _hook_overhead(data_sets, data_dir, rounds, runs=200):
  """[(variant, median µs per run, paired µs vs MTS bare)], trivial op."""
  made = []
  for name, variant in _OVERHEAD_VARIANTS:
    config = _config(tempfile.mkdtemp(prefix='profile-overhead-'), data_dir)
    made.append((name, *_overhead_session(config, data_sets, variant)))
  times = {name: [] for name, *_ in made}
  for _ in range(rounds):
    for name, graph, sess, train_op, feed in made:
      with graph.as_default():
        start = time.perf_counter()
        for _ in range(runs):
          if not sess.should_stop():
            sess.run(train_op, feed_dict=feed())
        times[name].append((time.perf_counter() - start) / runs * 1e6)
  for _, graph, sess, *_ in made:
    with graph.as_default():
      sess.close()
  bare = times[_OVERHEAD_VARIANTS[0][0]]
  return [
    (
      name,
      statistics.median(t),
      statistics.median(a - b for a, b in zip(t, bare, strict=True)),
    )
    for name, t in times.items()
  ]


# ------------------------------------------------------------------ report


def _load():
  out = subprocess.run(['uptime'], capture_output=True, text=True).stdout
  return out.strip().split('load average:')[-1].strip()


def _kernel_table(title, per_type, span, step_us):
  lines = [
    '',
    title,
    '',
    '| op type | kernel µs per step, median of traced runs | share | '
    'min of traced runs |',
    '|---|---:|---:|---:|',
  ]
  total = sum(med for med, _ in per_type.values())
  least = sum(low for _, low in per_type.values())
  ranked = sorted(per_type.items(), key=lambda kv: -kv[1][0])
  for op, (med, low) in ranked[:15]:
    lines.append(f'| {op} | {med:.1f} | {med / total:.0%} | {low:.1f} |')
  lines.append(
    f'| all kernels | {total:.1f} | 100% | {least:.1f} |\n\nTraced span '
    f'(first start to last end) {span:.1f} µs per step; untraced step '
    f'{step_us:.1f} µs: kernels are {total / step_us:.0%} of the step '
    f'(minima: {least / step_us:.0%}).'
  )
  return lines


def _paired(a, b):
  """Median over rounds of (median step of a - median step of b), µs.

  Both ran in the same round, moments apart, so load that changes from
  round to round cancels out.
  """
  return 1e6 * statistics.median(
    statistics.median(x) - statistics.median(y)
    for x, y in zip(a.blocks, b.blocks, strict=True)
  )


def _report(
  args, variants, installed, next_batch, profile, feed, fast, load, overhead
):
  by_name = {v.name: v for v in variants}
  med = {v.name: statistics.median(v.times) * 1e6 for v in variants}
  mean = {v.name: statistics.fmean(v.times) * 1e6 for v in variants}
  tf1 = med[variants[0].name]
  bare_v = by_name['MTS bare (no hooks)']
  plain_v = by_name['plain Session: run(train_op)']

  def vs_bare(name):
    return _paired(by_name[name], bare_v)

  def vs_tf1(name):
    return _paired(by_name[name], variants[0])

  plain_delta = _paired(variants[0], plain_v)
  metadata = _paired(
    by_name['plain Session: run(train_op, options, run_metadata)'], plain_v
  )
  callable_ = -vs_tf1('tf1 loop via Session.make_callable')
  wrappers = -_paired(plain_v, bare_v)
  graphnet_delta = vs_tf1('graphnet (run_training hooks)')
  graphnet = tf1 + graphnet_delta
  lines = [
    f'## Per-step profile, feed path ({args.steps} steps per variant, '
    f'blocks of {args.block}, interleaved)',
    '',
    f'- Load (uptime) before / after: {load[0]} / {load[1]}',
    f'- graphnet installs: {", ".join(installed)}',
    '',
    "Paired figures: per round, the difference of two variants' median "
    'steps; the median of those over the rounds.',
    '',
    '| variant | median µs/step | mean µs/step (with periodic work) | '
    'paired vs MTS bare | paired vs tf1 loop | tf1 loop speed ratio |',
    '|---|---:|---:|---:|---:|---:|',
  ]
  for v in variants:
    delta = vs_tf1(v.name)
    lines.append(
      f'| {v.name} | {med[v.name]:.0f} | {mean[v.name]:.0f} | '
      f'{vs_bare(v.name):+.0f} | {delta:+.0f} | {tf1 / (tf1 + delta):.2f}x |'
    )
  kernels = sum(med for med, _ in feed[0].values())
  singles = [
    (v.name[len('MTS + ') :], vs_bare(v.name))
    for v in variants
    if v.name.startswith('MTS + ')
  ]
  nb = next_batch * 1e6
  lines += [
    '',
    '### Where the microseconds of a step go (medians)',
    '',
    '| part | µs per step |',
    '|---|---:|',
    f'| TF kernels (trace sum, tf1 loop) | {kernels:.0f} |',
    f'| feed_dict() = next_batch + dict | {nb:.0f} |',
    '| session.run rest: executor, Python session.run, feed/fetch '
    f'conversion (tf1 loop - kernels - feed) | {tf1 - kernels - nb:.0f} |',
    f'| = tf1 loop step | {tf1:.0f} |',
    '| fetching the loss too (tf1 loop - plain train_op) | '
    f'{plain_delta:+.0f} |',
    f'| MonitoredSession wrappers (MTS bare - plain train_op) | '
    f'{wrappers:+.0f} |',
    '| of which passing RunOptions + RunMetadata (plain with them - '
    f'plain) | {metadata:+.0f} |',
    '| saved by Session.make_callable (tf1 loop - tf1 via make_callable) | '
    f'{callable_:+.0f} |',
  ]
  lines += [f'| hook {name} alone | {delta:+.0f} |' for name, delta in singles]
  lines += [
    f'| sum of single hooks | {sum(d for _, d in singles):+.0f} |',
    f'| all graphnet hooks together (graphnet - MTS bare) | '
    f'{vs_bare("graphnet (run_training hooks)"):+.0f} |',
    f'| = graphnet step | {graphnet:.0f} ({tf1 / graphnet:.2f}x the tf1 '
    'loop) |',
    '',
    '### cProfile of the graphnet loop, µs per step (profiler-inflated)',
    '',
    '| component | µs per step |',
    '|---|---:|',
  ]
  lines += [f'| {label} | {micros:.1f} |' for label, micros in profile]
  lines += [
    '',
    '### Per-run cost of the hooks on a forward-only train op (loss, global'
    f' step + 1; {args.overhead_rounds} interleaved rounds of 200 runs, feed'
    ' included)',
    '',
    '| variant | median µs per run | paired vs MTS bare |',
    '|---|---:|---:|',
  ]
  lines += [f'| {n} | {m:.1f} | {d:+.1f} |' for n, m, d in overhead]
  lines += _kernel_table(
    '### RunMetadata trace of the tf1 loop step (FULL_TRACE), feed path',
    feed[0],
    feed[1],
    tf1,
  )
  titles = {
    'feed': 'the CLI default (100 fed batches per run)',
    'resident': 'the fast path (resident, 100 steps per run)',
  }
  for pipeline, ((per_type, span), step) in (fast or {}).items():
    lines += _kernel_table(
      f'### RunMetadata trace of {titles[pipeline]}, per step',
      per_type,
      span,
      step * 1e6,
    )
  return '\n'.join(lines)


def main():
  parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
  parser.add_argument('--steps', type=int, default=2000)
  parser.add_argument('--block', type=int, default=100)
  parser.add_argument('--trace_steps', type=int, default=30)
  parser.add_argument('--no_fast', action='store_true')
  parser.add_argument('--overhead_rounds', type=int, default=30)
  parser.add_argument('--data_dir', default=None)
  parser.add_argument('--out', help='Also write the markdown report here.')
  args = parser.parse_args()
  tmp = None
  if args.data_dir is None:
    tmp = args.data_dir = tempfile.mkdtemp(prefix='profile-mnist-')
  load = [_load()]
  data_sets = input_data.read_data_sets(args.data_dir)
  variants, installed = _interleaved(
    data_sets, args.data_dir, args.steps, args.block
  )
  next_batch = _next_batch_seconds(data_sets, variants[0], args.steps)
  profile = _profile(data_sets, args.data_dir, args.steps)
  feed = _trace_feed(data_sets, args.data_dir, args.trace_steps)
  fast = None
  if not args.no_fast:
    runs = max(5, args.trace_steps // 3)
    fast = {
      pipeline: _trace_loop(data_sets, args.data_dir, runs, pipeline)
      for pipeline in ('feed', 'resident')
    }
  overhead = _hook_overhead(data_sets, args.data_dir, args.overhead_rounds)
  load.append(_load())
  report = _report(
    args, variants, installed, next_batch, profile, feed, fast, load, overhead
  )
  print(report)
  if args.out:
    with open(args.out, 'w') as f:
      f.write(report + '\n')
  if tmp:
    shutil.rmtree(tmp, ignore_errors=True)


if __name__ == '__main__':
  main()
