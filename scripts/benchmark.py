"""Benchmarks graphnet's training paths against plain loops and frameworks.

Every contender trains the same model (784-128-32-10 MLP, ReLU, batch 100,
SGD lr 0.01) on the same bundled MNIST, each in its own subprocess (so the
peak RSS is its own), with the same thread settings:

  baseline       a plain TF1 loop written here: tf.compat.v1.Session,
                 placeholders, feed_dict, sess.run([train_op, loss]) per
                 step, no hooks;
  graphnet feed  trainer.run_training, --input_pipeline feed
                 --steps_per_run 1: TF1's one session.run per step (CLI
                 default intervals: log 100, eval 1000, checkpoints 1000);
  graphnet loop  the same with --steps_per_run 100 (the CLI's default):
                 100 batches of next_batch fed per session.run;
  graphnet fast  trainer.run_training, --input_pipeline resident
                 --steps_per_run 100 (same intervals);
  tf.keras       tf.keras Sequential model.fit on the NumPy arrays;
  pytorch        a plain PyTorch loop (when torch is importable).

Training speed is the median over windows of `--window` steps after a
warm-up (graphnet: the windows between its `Step` lines, leaving out those
holding an evaluation, which the baseline does not do), in steps per wall
second and in steps per CPU-second of the process (less inflated by other
processes' load). The FLOP bound is the step rate the machine's measured
matmul speed on the model's own shapes allows (forward, dW of all
layers, dX of layers 2 and 3).

`--worker NAME --target` (baseline, keras, torch) trains with the common
recipe of `scripts/time_to_accuracy.py` (SGD lr 0.1, batch 100, the test
set checked every 500 steps) and prints a `CHECK <steps> <precision>` line
per check until precision >= 0.97; that script times it from process start.

"Whole job" (`--whole_job`) times whole processes instead, alternating
A B A B with a fresh log dir each time: `python -m
graphnet.fully_connected_feed --max_steps N` against
`scripts/tf1_fully_connected_feed.py` (TF1's Mechanics 101 program: Session,
feed_dict, summaries every 100 steps, a checkpoint and an evaluation of all
three sets in batches of 100 every 1000 steps). It reports wall and CPU
seconds (getrusage of the children), the time from process start to the
first `Step 0` line, the last test precision, and where graphnet's start-up
goes (`python -X importtime`, and a harness timing data loading, graph
building and session creation inside `run_training`).

Usage:
  python scripts/benchmark.py [--quick] [--out FILE] [--threads N]
  python scripts/benchmark.py --whole_job [--steps 10000] [--repeats 3]
"""

import argparse
import datetime
import json
import os
import platform
import resource
import shutil
import statistics
import subprocess
import sys
import tempfile
import time

import numpy as np

_REPO = os.path.dirname(os.path.dirname(os.path.abspath(__file__)))
# Run from a checkout without installing graphnet.
sys.path.insert(0, _REPO)
CONTENDERS = ('baseline', 'feed', 'loop', 'fast', 'keras', 'torch')
TITLES = {
  'baseline': 'TF1 loop (baseline)',
  'feed': 'graphnet feed (1 step/run)',
  'loop': 'graphnet feed, 100 batches fed/run (CLI default)',
  'fast': 'graphnet fast (resident, 100 steps/run)',
  'keras': 'tf.keras fit',
  'torch': 'PyTorch loop',
}
_BATCH = 100
_SIZES = (784, 128, 32, 10)
_TARGET = 0.97
_RECIPE_LR = 0.1
_EVAL_EVERY = 500


# ----------------------------------------------------------------- workers


def _data(data_dir):
  from graphnet.data import mnist_reader as input_data

  return input_data.read_data_sets(data_dir, seed=0)


def _windows(times, steps, window, busy=()):
  """Steps/s of consecutive windows of `window` steps.

  Args:
    times: wall times at the global steps `steps` (same length).
    steps: increasing global steps.
    window: window length in steps.
    busy: indices into `steps`; a window ending at one of them is left out
      (it holds periodic work, e.g. an evaluation, that the rate of
      training steps should not include).
  """
  rates, start = [], 0
  for i in range(1, len(steps)):
    if steps[i] - steps[start] >= window:
      if i not in busy:
        rates.append((steps[i] - steps[start]) / (times[i] - times[start]))
      start = i
  return rates


def _tf_threads(threads):
  import tensorflow.compat.v1 as tf

  return tf.ConfigProto(
    intra_op_parallelism_threads=threads,
    inter_op_parallelism_threads=threads,
  )


def _run_baseline(args, lr, target):
  import tensorflow.compat.v1 as tf

  data = _data(args.data_dir)
  t0 = time.perf_counter()
  with tf.Graph().as_default():
    tf.set_random_seed(0)
    images = tf.placeholder(tf.float32, [None, 784])
    labels = tf.placeholder(tf.int32, [None])
    net = images
    for i, (fan_in, units) in enumerate(zip(_SIZES, _SIZES[1:], strict=False)):
      w = tf.get_variable(
        f'w{i}',
        [fan_in, units],
        initializer=tf.truncated_normal_initializer(stddev=fan_in**-0.5),
      )
      b = tf.get_variable(f'b{i}', [units], initializer=tf.zeros_initializer())
      net = tf.nn.xw_plus_b(net, w, b)
      if units != _SIZES[-1]:
        net = tf.nn.relu(net)
    loss = tf.reduce_mean(
      tf.nn.sparse_softmax_cross_entropy_with_logits(
        labels=tf.cast(labels, tf.int64), logits=net
      )
    )
    train_op = tf.train.GradientDescentOptimizer(lr).minimize(loss)
    correct = tf.reduce_sum(tf.cast(tf.nn.in_top_k(net, labels, 1), tf.int32))
    with tf.Session(config=_tf_threads(args.threads)) as sess:
      sess.run(tf.global_variables_initializer())

      def step():
        x, y = data.train.next_batch(_BATCH)
        sess.run([train_op, loss], {images: x, labels: y})

      def precision():
        return (
          sess.run(
            correct,
            {images: data.test.images, labels: data.test.labels},
          )
          / data.test.num_examples
        )

      return _drive(args, step, precision, t0, target)


def _check(steps, precision):
  """Reports a check to scripts/time_to_accuracy.py; True at the target."""
  print(f'CHECK {steps} {precision:.4f}', flush=True)
  return precision >= _TARGET


def _drive(args, step, precision, t0, target):
  """Runs `step` per training step; throughput windows or time to target."""
  if target:
    done = 0
    while time.perf_counter() - t0 < args.cap:
      for _ in range(_EVAL_EVERY):
        step()
      done += _EVAL_EVERY
      if _check(done, precision()):
        return {'seconds': time.perf_counter() - t0, 'steps': done}
    return {'seconds': None, 'steps': done}
  for _ in range(args.warmup):
    step()
  times, steps = [time.perf_counter()], [0]
  cpu0 = time.process_time()
  cpus = [cpu0]
  for i in range(1, args.steps + 1):
    step()
    if i % args.window == 0:
      times.append(time.perf_counter())
      cpus.append(time.process_time())
      steps.append(i)
      if times[-1] - times[0] > args.cap:
        break
  cpu = time.process_time() - cpu0
  return {
    'rates': _windows(times, steps, args.window),
    'cpu_rate': steps[-1] / cpu,
    'cpu_window_rates': _windows(cpus, steps, args.window),
  }


# run_training options of each graphnet contender.
_GRAPHNET_PATHS = {
  'feed': dict(input_pipeline='feed', steps_per_run=1),
  'loop': dict(input_pipeline='feed', steps_per_run=100),
  'fast': dict(input_pipeline='resident', steps_per_run=100),
}


def _run_graphnet(args, lr, path):
  from graphnet.training import config as config_lib
  from graphnet.training import schedules
  from graphnet.training import session_config
  from graphnet.training import trainer

  log_dir = tempfile.mkdtemp(prefix='bench-logs-')
  total = args.warmup + args.steps
  config = config_lib.TrainConfig(
    log_dir=log_dir,
    input_data_dir=args.data_dir,
    schedule=schedules.Schedule('constant', lr),
    max_steps=total,
    eval_every=1000,
    seed=0,
    session=session_config.SessionOptions(
      device='cpu',
      intra_op_parallelism_threads=args.threads,
      inter_op_parallelism_threads=args.threads,
    ),
    **_GRAPHNET_PATHS[path],
  )
  times, steps, cpus = [], [], []
  busy = set()

  def printer(line):
    if line.startswith('Step '):
      times.append(time.perf_counter())
      cpus.append(time.process_time())
      steps.append(int(line.split()[1].rstrip(':')))
    elif line.endswith(' Data Eval:'):
      # The window ending at the next Step line holds this evaluation.
      busy.add(len(steps))

  cpu0 = time.process_time()
  trainer.run_training(config, printer=printer)
  cpu = time.process_time() - cpu0
  shutil.rmtree(log_dir, ignore_errors=True)
  keep = [i for i, s in enumerate(steps) if s >= args.warmup]
  busy = {j for j, i in enumerate(keep) if i in busy}
  times = [times[i] for i in keep]
  cpus = [cpus[i] for i in keep]
  steps = [steps[i] for i in keep]
  return {
    # Windows holding an evaluation (every 1000 steps) are left out: the
    # baseline loop evaluates nothing.
    'rates': _windows(times, steps, args.window, busy),
    # Includes graph building and evaluations: a lower bound.
    'cpu_rate': total / cpu,
    'cpu_window_rates': _windows(cpus, steps, args.window, busy),
  }


def _run_keras(args, lr, target):
  import tensorflow as tf2

  tf2.config.threading.set_intra_op_parallelism_threads(args.threads)
  tf2.config.threading.set_inter_op_parallelism_threads(args.threads)
  data = _data(args.data_dir)
  t0 = time.perf_counter()
  tf2.keras.utils.set_random_seed(0)
  model = tf2.keras.Sequential(
    [tf2.keras.Input((784,))]
    + [tf2.keras.layers.Dense(u, activation='relu') for u in _SIZES[1:-1]]
    + [tf2.keras.layers.Dense(_SIZES[-1])]
  )
  model.compile(
    optimizer=tf2.keras.optimizers.SGD(lr),
    loss=tf2.keras.losses.SparseCategoricalCrossentropy(from_logits=True),
    metrics=['accuracy'],
  )
  x, y = data.train.images, data.train.labels
  if target:
    done = 0
    while time.perf_counter() - t0 < args.cap:
      model.fit(
        x,
        y,
        batch_size=_BATCH,
        epochs=1,
        verbose=0,
        steps_per_epoch=_EVAL_EVERY,
      )
      done += _EVAL_EVERY
      _, acc = model.evaluate(
        data.test.images, data.test.labels, batch_size=10000, verbose=0
      )
      if _check(done, acc):
        return {'seconds': time.perf_counter() - t0, 'steps': done}
    return {'seconds': None, 'steps': done}

  times, steps = [], []

  class _Timer(tf2.keras.callbacks.Callback):
    def on_train_batch_end(self, batch, logs=None):
      times.append(time.perf_counter())
      steps.append(len(times))

  epochs = -(-(args.warmup + args.steps) // (len(x) // _BATCH))
  cpu0 = time.process_time()
  model.fit(
    x, y, batch_size=_BATCH, epochs=epochs, verbose=0, callbacks=[_Timer()]
  )
  cpu = time.process_time() - cpu0
  keep = slice(args.warmup, args.warmup + args.steps + 1)
  return {
    'rates': _windows(times[keep], steps[keep], args.window),
    'cpu_rate': len(times) / cpu,
  }


def _run_torch(args, lr, target):
  import torch

  if args.threads:
    torch.set_num_threads(args.threads)
  data = _data(args.data_dir)
  t0 = time.perf_counter()
  torch.manual_seed(0)
  layers = []
  for fan_in, units in zip(_SIZES, _SIZES[1:], strict=False):
    layers += [torch.nn.Linear(fan_in, units), torch.nn.ReLU()]
  model = torch.nn.Sequential(*layers[:-1])
  opt = torch.optim.SGD(model.parameters(), lr=lr)
  loss_fn = torch.nn.CrossEntropyLoss()
  x = torch.from_numpy(data.train.images)
  y = torch.from_numpy(data.train.labels.astype(np.int64))
  test_x = torch.from_numpy(data.test.images)
  test_y = torch.from_numpy(data.test.labels.astype(np.int64))
  gen = torch.Generator().manual_seed(0)
  state = {'perm': torch.randperm(len(x), generator=gen), 'pos': 0}

  def step():
    if state['pos'] + _BATCH > len(x):
      state['perm'], state['pos'] = torch.randperm(len(x), generator=gen), 0
    idx = state['perm'][state['pos'] : state['pos'] + _BATCH]
    state['pos'] += _BATCH
    opt.zero_grad(set_to_none=True)
    loss = loss_fn(model(x[idx]), y[idx])
    loss.backward()
    opt.step()
    return loss.item()  # The same sync point as fetching the loss in TF.

  def precision():
    with torch.no_grad():
      return (model(test_x).argmax(1) == test_y).float().mean().item()

  return _drive(args, step, precision, t0, target)


def _worker(args):
  lr = _RECIPE_LR if args.target else 0.01
  name = args.worker
  if name == 'baseline':
    result = _run_baseline(args, lr, args.target)
  elif name in _GRAPHNET_PATHS:
    result = _run_graphnet(args, lr, name)
  elif name == 'keras':
    result = _run_keras(args, lr, args.target)
  elif name == 'torch':
    result = _run_torch(args, lr, args.target)
  elif name == 'eval':
    result = _run_eval(args)
  elif name == 'startup_graphnet':
    result = _run_startup_graphnet(args)
  elif name == 'startup_tf1':
    result = _run_startup_tf1(args)
  elif name == 'flops':
    result = dict(
      zip(
        ('by_lib', 'best', 'rate', 'flops'),
        _matmul_bound(args.threads),
        strict=True,
      )
    )
  else:
    raise SystemExit(f'unknown worker {name!r}')
  # Linux reports ru_maxrss in KiB.
  result['peak_rss_mb'] = (
    resource.getrusage(resource.RUSAGE_SELF).ru_maxrss / 1024
  )
  print('RESULT ' + json.dumps(result), flush=True)


def _run_eval(args):
  """Seconds of one evaluation pass over train + validation + test."""
  import tensorflow.compat.v1 as tf

  from graphnet.training import config as config_lib
  from graphnet.training import train_graph

  data = _data(args.data_dir)
  config = config_lib.TrainConfig(log_dir='', input_data_dir=args.data_dir)
  tg = train_graph.build_train_graph(config, data)
  with tg.graph.as_default(), tf.Session(config=_tf_threads(args.threads)) as s:
    s.run(tf.global_variables_initializer())
    passes = []
    for _ in range(4):
      start = time.perf_counter()
      for data_set in data:
        tg.eval_tower.run(s, data_set)
      passes.append(time.perf_counter() - start)
  return {'eval_pass_seconds': statistics.median(passes[1:])}


# --------------------------------------------------------------- whole job

_TF1_SCRIPT = os.path.join(_REPO, 'scripts', 'tf1_fully_connected_feed.py')
_JOB_TITLES = {
  'graphnet': 'python -m graphnet.fully_connected_feed',
  'tf1': 'scripts/tf1_fully_connected_feed.py (TF1 Mechanics 101)',
}
# The parent's time.time() just before it starts a start-up worker.
_SPAWN_TIME_ENV = 'GRAPHNET_BENCH_SPAWN_TIME'


class _FirstStepReachedError(Exception):
  """Raised by the start-up harness's printer at the first `Step` line."""


def _job_command(name, steps, log_dir, data_dir):
  """The command line of one whole-job contender."""
  if name == 'tf1':
    program = [_TF1_SCRIPT]
  else:
    program = ['-m', 'graphnet.fully_connected_feed']
  return [
    sys.executable,
    *program,
    '--max_steps',
    str(steps),
    '--log_dir',
    log_dir,
    '--input_data_dir',
    data_dir,
  ]


def _job_env():
  env = dict(os.environ, PYTHONUNBUFFERED='1')
  env['PYTHONPATH'] = _REPO + os.pathsep + env.get('PYTHONPATH', '')
  return env


def parse_job_output(lines):
  """Reads a TF1-format training log.

  Args:
    lines: the stdout lines of either whole-job contender.

  Returns:
    dict: 'steps' (the `Step N` numbers printed), 'evaluations' (list of
    dicts title -> precision, one per evaluation block) and
    'test_precision' (the last test precision, or None).
  """
  steps, evaluations, title = [], [], None
  for line in lines:
    if line.startswith('Step '):
      steps.append(int(line.split()[1].rstrip(':')))
    elif line.endswith(' Data Eval:'):
      title = line[: -len(' Data Eval:')]
      if title == 'Training' or not evaluations:
        evaluations.append({})
    elif title and line.startswith('Num examples:'):
      evaluations[-1][title] = float(line.rsplit(' ', 1)[1])
      title = None
  tests = [e['Test'] for e in evaluations if 'Test' in e]
  return {
    'steps': steps,
    'evaluations': evaluations,
    'test_precision': tests[-1] if tests else None,
  }


def _run_job(name, args):
  """Runs one whole-job contender as its own process; times it."""
  log_dir = tempfile.mkdtemp(prefix=f'bench-job-{name}-')
  cmd = _job_command(name, args.steps, log_dir, args.data_dir)
  load = _load()
  with tempfile.TemporaryFile('w+') as err:
    cpu0 = resource.getrusage(resource.RUSAGE_CHILDREN)
    start = time.perf_counter()
    first_step = None
    lines = []
    proc = subprocess.Popen(
      cmd, stdout=subprocess.PIPE, stderr=err, text=True, env=_job_env()
    )
    for line in proc.stdout:
      if first_step is None and line.startswith('Step '):
        first_step = time.perf_counter() - start
      lines.append(line.rstrip('\n'))
    code = proc.wait()
    wall = time.perf_counter() - start
    cpu1 = resource.getrusage(resource.RUSAGE_CHILDREN)
    err.seek(0)
    tail = err.read().strip().splitlines()[-3:]
  checkpoints = [f for f in os.listdir(log_dir) if f.endswith('.index')]
  shutil.rmtree(log_dir, ignore_errors=True)
  if code:
    return {'error': f'exit {code}: ' + ' / '.join(tail), 'load': load}
  parsed = parse_job_output(lines)
  return {
    'wall': wall,
    'cpu': (cpu1.ru_utime - cpu0.ru_utime) + (cpu1.ru_stime - cpu0.ru_stime),
    'first_step': first_step,
    'test_precision': parsed['test_precision'],
    'evaluations': len(parsed['evaluations']),
    'checkpoints': len(checkpoints),
    'load': load,
  }


def _import_times(module):
  """Seconds `import module` takes, and its heaviest parts (-X importtime)."""
  proc = subprocess.run(
    [sys.executable, '-X', 'importtime', '-c', f'import {module}'],
    capture_output=True,
    text=True,
    env=_job_env(),
    timeout=600,
  )
  cumulative, graphnet_self = {}, 0.0
  for line in proc.stderr.splitlines():
    if not line.startswith('import time:') or 'imported package' in line:
      continue
    # 'import time: <self us> | <cumulative us> | <2 spaces per depth><name>'
    self_us, cumulative_us, name = line.split(':', 1)[1].split('|')
    name = name.strip()
    if name.startswith('graphnet'):
      graphnet_self += int(self_us) / 1e6
    # Each module is listed once, where it was first imported.
    cumulative[name] = int(cumulative_us) / 1e6
  return {
    'total': cumulative.get(module),
    'parts': {
      name: cumulative[name]
      for name in ('tensorflow', 'numpy', 'absl.flags', 'absl.app')
      if name in cumulative
    },
    'graphnet_self': graphnet_self,
  }


# Imports TensorFlow and prints the CPU seconds it took. With an argument,
# first makes TF's eager `import keras.src.optimizers` (tensorflow/__init__
# catches its ImportError) fail, so Keras 3 and what it pulls in (sklearn,
# scipy.stats, matplotlib when installed) stay unloaded; graphnet uses none.
_IMPORT_CPU = """
import resource, sys
if len(sys.argv) > 1:
  sys.modules['keras.src.optimizers'] = None
import tensorflow.compat.v1
sys.modules.pop('keras.src.optimizers', None)
usage = resource.getrusage(resource.RUSAGE_SELF)
print(usage.ru_utime + usage.ru_stime, 'keras.src' in sys.modules)
"""


def _import_cpu(block_keras):
  """(CPU seconds of `import tensorflow.compat.v1`, whether Keras loaded)."""
  cmd = [sys.executable, '-c', _IMPORT_CPU] + (['block'] if block_keras else [])
  proc = subprocess.run(
    cmd, capture_output=True, text=True, env=_job_env(), timeout=600
  )
  seconds, keras = proc.stdout.split()
  return float(seconds), keras == 'True'


def _since_spawn():
  return time.time() - float(os.environ[_SPAWN_TIME_ENV])


class _StageClock:
  """Wall and CPU seconds of consecutive start-up stages.

  Wall time counts from the parent's spawn (so the first stage holds the
  interpreter's own start); CPU time is this process's.
  """

  def __init__(self):
    self.stages = []
    self._wall = 0.0
    self._cpu = 0.0
    self.mark('python start, benchmark.py imports (numpy)')

  def mark(self, name):
    """Closes the stage `name`, which began at the previous mark."""
    wall, cpu = _since_spawn(), time.process_time()
    self.stages.append((name, wall - self._wall, cpu - self._cpu))
    self._wall, self._cpu = wall, cpu

  def timed(self, fn, before, during):
    """`fn`, marking stage `before` when called and `during` on return."""

    def _wrapper(*args, **kwargs):
      self.mark(before)
      try:
        return fn(*args, **kwargs)
      finally:
        self.mark(during)

    return _wrapper


def _run_startup_graphnet(args):
  """Stages of `run_training` up to the first `Step` line, as the CLI."""
  clock = _StageClock()
  # As the CLI: the bundled MNIST inflates on a thread while TF imports
  # (quiet.setup(): TF without its eager Keras import).
  from graphnet import tf_loader
  from graphnet.data import mnist_reader as input_data

  input_data.read_bundled_ahead()
  tf_loader.import_tensorflow()
  import tensorflow.compat.v1 as tf

  clock.mark(
    'import tensorflow.compat.v1 (graphnet.tf_loader; MNIST read ahead '
    'meanwhile, as the CLI)'
  )
  from graphnet import fully_connected_feed
  from graphnet.cli import train_flags
  from graphnet.training import hooks_save
  from graphnet.training import trainer

  clock.mark('import graphnet.fully_connected_feed (absl, graphnet)')
  log_dir = tempfile.mkdtemp(prefix='bench-startup-')
  argv = ['graphnet', '--max_steps', str(10**6), '--log_dir', log_dir]
  train_flags.FLAGS(argv + ['--input_data_dir', args.data_dir])
  config = fully_connected_feed.config_from_flags()
  clock.mark('parse flags, TrainConfig')
  input_data.read_data_sets = clock.timed(
    input_data.read_data_sets, 'make log_dir', 'read_data_sets'
  )
  trainer.build_train_graph = clock.timed(
    trainer.build_train_graph, '-', 'build_train_graph'
  )
  saver_hook = hooks_save.LoopCheckpointSaverHook
  saver_hook.after_create_session = clock.timed(
    saver_hook.after_create_session,
    'MTS: hooks begin(), finalize, create session, init variables',
    'MTS: LoopCheckpointSaverHook.after_create_session (events graph, '
    'step-0 checkpoint with .meta)',
  )
  tf.train.MonitoredTrainingSession = clock.timed(
    tf.train.MonitoredTrainingSession,
    'checkpoint checks, make hooks',
    'MTS: other hooks after_create_session',
  )

  def printer(line):
    if line.startswith('Step '):
      clock.mark('first run, first Step line')
      raise _FirstStepReachedError

  try:
    trainer.run_training(config, printer=printer)
  except _FirstStepReachedError:
    pass
  shutil.rmtree(log_dir, ignore_errors=True)
  return {'stages': [st for st in clock.stages if st[0] != '-']}


def _run_startup_tf1(args):
  """Stages of the TF1 program up to its first `Step` line."""
  import importlib.util

  clock = _StageClock()
  import tensorflow.compat.v1 as tf

  clock.mark('import tensorflow.compat.v1')
  spec = importlib.util.spec_from_file_location('tf1_feed', _TF1_SCRIPT)
  tf1 = importlib.util.module_from_spec(spec)
  spec.loader.exec_module(tf1)
  clock.mark('import the TF1 program (graphnet.input_data)')
  tf1.input_data.read_data_sets = clock.timed(
    tf1.input_data.read_data_sets, 'parse args, make log_dir', 'read_data_sets'
  )
  tf.Session = clock.timed(tf.Session, 'build the graph', 'tf.Session()')

  def printer(line):
    if line.startswith('Step '):
      clock.mark('FileWriter (graph), init, first run, first Step line')
      raise _FirstStepReachedError

  # The program's own print, as graphnet's printer above.
  tf1.print = printer
  log_dir = tempfile.mkdtemp(prefix='bench-startup-')
  argv = ['--max_steps', '10', '--log_dir', log_dir]
  try:
    tf1.main(argv + ['--input_data_dir', args.data_dir])
  except _FirstStepReachedError:
    pass
  shutil.rmtree(log_dir, ignore_errors=True)
  return {'stages': clock.stages}


def _spawn_startup(name, args):
  env = dict(_job_env(), TF_CPP_MIN_LOG_LEVEL='1')
  env[_SPAWN_TIME_ENV] = repr(time.time())
  cmd = [
    sys.executable,
    os.path.abspath(__file__),
    '--worker',
    name,
    '--data_dir',
    args.data_dir,
  ]
  proc = subprocess.run(
    cmd, capture_output=True, text=True, env=env, timeout=600
  )
  for line in proc.stdout.splitlines():
    if line.startswith('RESULT '):
      return json.loads(line[len('RESULT ') :])
  tail = (proc.stderr or proc.stdout).strip().splitlines()[-3:]
  return {'error': ' / '.join(tail)}


def _median_stages(runs):
  """[(stage, median wall s, median CPU s)] over runs of one stage list."""
  runs = [r['stages'] for r in runs if 'stages' in r]
  if not runs:
    return []
  return [
    (
      stage[0],
      statistics.median(run[i][1] for run in runs),
      statistics.median(run[i][2] for run in runs),
    )
    for i, stage in enumerate(runs[0])
  ]


def _whole_job(args):
  """Alternates the two whole-job contenders; returns the report."""
  results = {'graphnet': [], 'tf1': []}
  for repeat in range(args.repeats):
    for name in ('graphnet', 'tf1'):
      print(
        f'[benchmark] whole job {name} {repeat + 1}/{args.repeats} ...',
        file=sys.stderr,
        flush=True,
      )
      results[name].append(_run_job(name, args))
  startups = {'graphnet': [], 'tf1': []}
  for _ in range(args.repeats):
    for name in ('graphnet', 'tf1'):
      startups[name].append(_spawn_startup(f'startup_{name}', args))
  imports = {
    module: _import_times(module)
    for module in ('graphnet.fully_connected_feed', 'tensorflow.compat.v1')
  }
  keras_cost = {
    blocked: [_import_cpu(blocked) for _ in range(args.repeats)]
    for blocked in (False, True)
  }
  return _whole_job_table(args, results, startups, imports, keras_cost)


def _whole_job_table(args, results, startups, imports, keras_cost):
  lines = [
    f'## Whole job, {args.steps} steps ({datetime.date.today().isoformat()})',
    '',
    f'- CPU: {_cpu_model()}, {os.cpu_count()} cores; {args.repeats} runs '
    'each, alternating graphnet, TF1, graphnet, TF1, ...; fresh log dirs.',
    '',
    '| contender | wall s (median) | min-max | CPU s (median) | to Step 0 s '
    '| test precision | load (1/5/15 min) per run |',
    '|---|---:|---:|---:|---:|---:|---|',
  ]
  medians = {}
  for name, runs in results.items():
    good = [r for r in runs if 'wall' in r]
    if not good:
      errors = '; '.join(r.get('error', '?') for r in runs)
      lines.append(f'| {_JOB_TITLES[name]} | {errors} | | | | | |')
      continue
    walls = [r['wall'] for r in good]
    medians[name] = {
      key: statistics.median(r[key] for r in good)
      for key in ('wall', 'cpu', 'first_step')
    }
    precisions = ', '.join(_fmt(r['test_precision'], '.4f') for r in good)
    loads = '; '.join(r['load'] for r in good)
    m = medians[name]
    lines.append(
      f'| {_JOB_TITLES[name]} | {m["wall"]:.2f} | {min(walls):.2f}-'
      f'{max(walls):.2f} | {m["cpu"]:.2f} | {m["first_step"]:.2f} | '
      f'{precisions} | {loads} |'
    )
  if len(medians) == 2:
    g, t = medians['graphnet'], medians['tf1']
    pairs = [
      a['wall'] / b['wall']
      for a, b in zip(results['graphnet'], results['tf1'], strict=True)
      if 'wall' in a and 'wall' in b
    ]
    lines += [
      '',
      f'graphnet / TF1: wall {g["wall"] / t["wall"]:.2f}x (median of the '
      f'run-pair ratios {statistics.median(pairs):.2f}x), CPU '
      f'{g["cpu"] / t["cpu"]:.2f}x, start-up to Step 0 '
      f'{g["first_step"] / t["first_step"]:.2f}x.',
    ]
  for name in ('graphnet', 'tf1'):
    stages = _median_stages(startups[name])
    lines += [
      '',
      f'Start-up of {_JOB_TITLES[name]} to its first Step line (median of '
      f'{args.repeats} runs; wall from spawn, CPU of the process):',
      '',
      '| stage | wall s | CPU s |',
      '|---|---:|---:|',
    ]
    lines += [f'| {st} | {wall:.3f} | {cpu:.3f} |' for st, wall, cpu in stages]
    lines.append(
      f'| total | {sum(st[1] for st in stages):.3f} | '
      f'{sum(st[2] for st in stages):.3f} |'
    )
    errors = [r['error'] for r in startups[name] if 'error' in r]
    if errors:
      lines.append(f'\nerrors: {errors[0]}')
  for module, found in imports.items():
    parts = ', '.join(f'{k} {v:.2f} s' for k, v in found['parts'].items())
    lines.append(
      f'\n`python -X importtime -c "import {module}"`: '
      f'{_fmt(found["total"], ".2f")} s (of which, where first imported: '
      f"{parts}; graphnet modules' own code {found['graphnet_self']:.3f} s)."
    )
  normal, blocked = (
    statistics.median(cpu for cpu, _ in keras_cost[b]) for b in (False, True)
  )
  loaded = keras_cost[True][0][1]
  lines.append(
    f'\nCPU seconds of `import tensorflow.compat.v1` (median of '
    f"{args.repeats}): {normal:.2f} as is; {blocked:.2f} with TF's eager "
    '`import keras.src.optimizers` made to fail (Keras then '
    f'{"still" if loaded else "not"} loaded).'
  )
  return '\n'.join(lines)


# ------------------------------------------------------------------ driver


def _matmul_bound(threads, seconds=1.0):
  """(FLOP/s, steps/s) of the model's matmuls, numpy and torch; the best."""
  b = _BATCH
  l1, l2, l3 = zip(_SIZES, _SIZES[1:], strict=False)
  shapes = [(b, k, n) for k, n in (l1, l2, l3)]  # forward x @ W
  shapes += [(k, b, n) for k, n in (l1, l2, l3)]  # dW = x^T @ dz
  shapes += [(b, n, k) for k, n in (l2, l3)]  # dX = dz @ W^T, layers 2-3
  flops = sum(2 * m * k * n for m, k, n in shapes)
  rng = np.random.default_rng(0)
  pairs = [
    (
      rng.random((m, k), dtype=np.float32),
      rng.random((k, n), dtype=np.float32),
    )
    for m, k, n in shapes
  ]
  results = {}

  def measure(name, run):
    run()
    reps, start = 0, time.perf_counter()
    while time.perf_counter() - start < seconds:
      run()
      reps += 1
    per_step = (time.perf_counter() - start) / reps
    results[name] = flops / per_step

  measure('numpy', lambda: [a @ c for a, c in pairs])
  try:
    import torch

    if threads:
      torch.set_num_threads(threads)
    tpairs = [(torch.from_numpy(a), torch.from_numpy(c)) for a, c in pairs]
    measure('torch', lambda: [a @ c for a, c in tpairs])
  except ImportError:
    pass
  best = max(results.values())
  return results, best, best / flops, flops


def _spawn(name, args, target=False):
  cmd = [
    sys.executable,
    os.path.abspath(__file__),
    '--worker',
    name,
    '--data_dir',
    args.data_dir,
    '--threads',
    str(args.threads),
    '--steps',
    str(args.steps),
    '--warmup',
    str(args.warmup),
    '--window',
    str(args.window),
    '--cap',
    str(args.cap),
  ]
  if target:
    cmd.append('--target')
  env = dict(os.environ, TF_CPP_MIN_LOG_LEVEL='2')
  if args.threads:
    # numpy's BLAS and torch's OpenMP pools follow the same setting.
    for var in ('OMP_NUM_THREADS', 'OPENBLAS_NUM_THREADS', 'MKL_NUM_THREADS'):
      env[var] = str(args.threads)
  env['PYTHONPATH'] = _REPO + os.pathsep + env.get('PYTHONPATH', '')
  proc = subprocess.run(
    cmd, capture_output=True, text=True, env=env, timeout=args.cap + 600
  )
  for line in proc.stdout.splitlines():
    if line.startswith('RESULT '):
      return json.loads(line[len('RESULT ') :])
  tail = (proc.stderr or proc.stdout).strip().splitlines()[-3:]
  return {'error': ' / '.join(tail)}


def _versions():
  import importlib.metadata

  found = {}
  for name in ('tensorflow', 'numpy', 'torch', 'keras'):
    try:
      found[name] = importlib.metadata.version(name)
    except importlib.metadata.PackageNotFoundError:
      found[name] = 'absent'
  return found


def _cpu_model():
  try:
    with open('/proc/cpuinfo') as f:
      for line in f:
        if line.startswith('model name'):
          return line.split(':', 1)[1].strip()
  except OSError:
    pass
  return platform.processor() or 'unknown'


def has_torch():
  try:
    import torch  # noqa: F401
  except ImportError:
    return False
  return True


def _fmt(value, spec):
  return '-' if value is None else format(value, spec)


def _cpu_window_rate(result):
  """Median steps per CPU-second over a contender's windows, or None."""
  rates = result.get('cpu_window_rates')
  return statistics.median(rates) if rates else None


def _table(args, results, bound, eval_seconds, load):
  flops_by_lib, best_flops, bound_rate, step_flops = bound
  versions = _versions()
  lines = [
    f'## graphnet benchmark ({datetime.date.today().isoformat()})',
    '',
    f'- CPU: {_cpu_model()}, {os.cpu_count()} cores; threads setting: '
    f'{args.threads or "TF/torch default"}',
    f'- Load before / after (uptime): {load[0]} / {load[1]}',
    '- Versions: '
    + ', '.join(f'{k} {v}' for k, v in versions.items())
    + f', Python {platform.python_version()}',
    f'- Model 784-128-32-10 ReLU MLP, batch {_BATCH}, SGD lr 0.01; '
    f'{args.steps} timed steps after {args.warmup} warm-up, median of '
    f'{args.window}-step windows.',
    f'- Matmul FLOP/s on the model shapes ({step_flops / 1e6:.1f} MFLOP per '
    'step): '
    + ', '.join(f'{k} {v / 1e9:.1f} GFLOP/s' for k, v in flops_by_lib.items())
    + f' -> FLOP bound {bound_rate:.0f} steps/s.',
  ]
  if eval_seconds is not None:
    lines.append(
      f'- One evaluation pass over train+validation+test (70000 images, '
      f'batches of 10000): {eval_seconds:.3f} s.'
    )
  lines += [
    '',
    '| contender | steps/s (median) | min-max | vs baseline | of FLOP '
    'bound | steps/CPU-s | steps/CPU-s (median window) | vs baseline | '
    'peak RSS MB |',
    '|---|---:|---:|---:|---:|---:|---:|---:|---:|',
  ]
  base = results.get('baseline', {}).get('rate')
  base_cpu = _cpu_window_rate(results.get('baseline', {}))
  for name in CONTENDERS:
    r = results.get(name)
    if r is None:
      continue
    if 'error' in r or 'skipped' in r:
      lines.append(
        f'| {TITLES[name]} | {r.get("skipped") or r.get("error")} '
        '| | | | | | | |'
      )
      continue
    rate = r['rate']
    cpu_rate = _cpu_window_rate(r)
    lines.append(
      f'| {TITLES[name]} | {rate:.0f} | {min(r["rates"]):.0f}-'
      f'{max(r["rates"]):.0f} | {_fmt(rate / base if base else None, ".2f")}x'
      f' | {rate / bound_rate:.0%} | {r["cpu_rate"]:.0f} | '
      f'{_fmt(cpu_rate, ".0f")} | '
      f'{_fmt(cpu_rate / base_cpu if cpu_rate and base_cpu else None, ".2f")}x'
      f' | {r["peak_rss_mb"]:.0f} |'
    )
  lines.append('')
  lines.append(
    'steps/CPU-s: timed steps per CPU-second of the whole process (less '
    'sensitive to other load; graphnet rows include graph building and '
    'evaluations, so they are lower bounds). Median window: the median '
    'over the same windows as steps/s of steps per CPU-second of the '
    "process, which other processes' load inflates less than wall time."
  )
  return '\n'.join(lines)


def _load():
  try:
    return (
      subprocess.run(['uptime'], capture_output=True, text=True)
      .stdout.strip()
      .split('load average:')[-1]
      .strip()
    )
  except OSError:
    return 'unknown'


def main():
  parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
  parser.add_argument('--quick', action='store_true', help='< 2 minutes.')
  parser.add_argument('--out', help='Also write the markdown table here.')
  parser.add_argument(
    '--threads', type=int, default=0, help='intra/inter threads; 0: default.'
  )
  parser.add_argument('--steps', type=int, default=None)
  parser.add_argument('--warmup', type=int, default=None)
  parser.add_argument('--window', type=int, default=None)
  parser.add_argument('--cap', type=float, default=120.0)
  parser.add_argument('--only', default=','.join(CONTENDERS))
  parser.add_argument('--data_dir', default=None)
  parser.add_argument(
    '--whole_job',
    action='store_true',
    help='Time whole processes: graphnet CLI vs the TF1 program.',
  )
  parser.add_argument(
    '--repeats', type=int, default=3, help='--whole_job runs of each.'
  )
  parser.add_argument('--worker', help=argparse.SUPPRESS)
  parser.add_argument('--target', action='store_true', help=argparse.SUPPRESS)
  args = parser.parse_args()
  if args.steps is None and args.whole_job:
    args.steps = 3000 if args.quick else 10000
  if args.steps is None:
    args.steps = 1000 if args.quick else 10000
  if args.warmup is None:
    args.warmup = 200 if args.quick else 1000
  if args.window is None:
    args.window = 200 if args.quick else 500
  if args.worker:
    _worker(args)
    return
  tmp = None
  if args.data_dir is None:
    tmp = tempfile.mkdtemp(prefix='bench-mnist-')
    args.data_dir = tmp
  _data(args.data_dir)  # Copy the bundled files once.
  if args.whole_job:
    table = _whole_job(args)
    print(table)
    if args.out:
      with open(args.out, 'w') as f:
        f.write(table + '\n')
    if tmp:
      shutil.rmtree(tmp, ignore_errors=True)
    return
  load = [_load()]
  r = _spawn('flops', args)
  bound = (r['by_lib'], r['best'], r['rate'], r['flops'])
  results = {}
  for name in args.only.split(','):
    if name == 'torch' and not has_torch():
      results[name] = {'skipped': 'skipped: torch not importable'}
      continue
    print(f'[benchmark] {name} ...', file=sys.stderr, flush=True)
    r = _spawn(name, args)
    if 'rates' in r:
      r['rate'] = statistics.median(r['rates'])
    results[name] = r
  eval_seconds = None
  r = _spawn('eval', args)
  eval_seconds = r.get('eval_pass_seconds')
  load.append(_load())
  table = _table(args, results, bound, eval_seconds, load)
  print(table)
  if args.out:
    with open(args.out, 'w') as f:
      f.write(table + '\n')
  if tmp:
    shutil.rmtree(tmp, ignore_errors=True)


if __name__ == '__main__':
  main()
