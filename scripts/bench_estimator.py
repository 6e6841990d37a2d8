r"""Estimator training speed: graphnet on TF 2.21 against real TF 1.15.

The same `model_fn` (an MLP 784-128-32-10 with Adam, MNIST's shapes) and
`input_fn` over 2000 random in-memory examples, shuffled, batch 100 (with
`--input dataset`, a `tf.data` pipeline; with `--input numpy`, TF1
tutorials' `tf.estimator.inputs.numpy_input_fn`, a queue runner under TF
1.15) train under each TensorFlow, in turn, in a child process:
`train(steps=200)` to warm up, then one timed `train(steps=N)` call
(graph, session and checkpoints included), with the Estimator's own
logging, summaries and checkpoints at their defaults. Speeds are steps
per wall second and per CPU second of the process over the whole call
(the latter moves less when other processes share the cores), and the
median `global_step/sec` the Estimator logged during it (TensorBoard's
figure, without the call's set-up and saves). Set
GRAPHNET_ESTIMATOR_STEPS_PER_RUN=1 to time graphnet with one step per
run.

    python scripts/bench_estimator.py                  # both, 3 rounds
    python scripts/bench_estimator.py --steps 3000 --rounds 5
    python scripts/bench_estimator.py --input numpy     # numpy_input_fn
    python scripts/bench_estimator.py --child graphnet  # one run, prints JSON

The TF 1.15 interpreter is ../tf1venv/bin/python (override with
--tf1_python); graphnet's is the one running this script.
"""

import argparse
import json
import os
import statistics
import subprocess
import sys
import tempfile
import time

_HERE = os.path.abspath(__file__)
_WARMUP = 200
# In-memory examples: a 6 MB constant in the graph (graph.pbtxt and every
# .meta hold it, as TF1 programs using from_tensor_slices had it).
_EXAMPLES = 2000


def _child(flavour, steps, batch_size, input_kind):
  import numpy as np

  if flavour == 'graphnet':
    import graphnet.compat.v1 as tf
  else:
    import tensorflow as tf
  tf.logging.set_verbosity(tf.logging.ERROR)

  rng = np.random.RandomState(0)
  images = rng.rand(_EXAMPLES, 784).astype(np.float32)
  labels = rng.randint(0, 10, _EXAMPLES).astype(np.int32)

  def dense(x, units, name, activation=None):
    with tf.variable_scope(name):
      w = tf.get_variable('kernel', [int(x.shape[-1]), units])
      b = tf.get_variable('bias', [units], initializer=tf.zeros_initializer())
      y = tf.matmul(x, w) + b
    return activation(y) if activation else y

  def model_fn(features, labels, mode):
    hidden = dense(features['x'], 128, 'hidden1', tf.nn.relu)
    hidden = dense(hidden, 32, 'hidden2', tf.nn.relu)
    logits = dense(hidden, 10, 'logits')
    loss = tf.losses.sparse_softmax_cross_entropy(labels, logits)
    train_op = tf.train.AdamOptimizer(1e-3).minimize(
      loss, tf.train.get_global_step()
    )
    return tf.estimator.EstimatorSpec(mode, loss=loss, train_op=train_op)

  def dataset_input_fn():
    data = tf.data.Dataset.from_tensor_slices(({'x': images}, labels))
    return data.shuffle(_EXAMPLES).repeat().batch(batch_size).prefetch(1)

  input_fn = dataset_input_fn
  if input_kind == 'numpy':
    input_fn = tf.estimator.inputs.numpy_input_fn(
      {'x': images}, labels, batch_size, num_epochs=None, shuffle=True
    )

  with tempfile.TemporaryDirectory() as model_dir:
    estimator = tf.estimator.Estimator(model_fn, model_dir=model_dir)
    # Warm-up: graph building, first checkpoint, kernels' first runs.
    estimator.train(input_fn, steps=_WARMUP)
    started, cpu_started = time.time(), time.process_time()
    # Timed: a whole train() call (its graph, session, checkpoints too).
    estimator.train(input_fn, steps=steps)
    secs = time.time() - started
    cpu_secs = time.process_time() - cpu_started
    logged = _logged_rates(tf, model_dir)
  print(
    json.dumps(
      {
        'steps_per_sec': steps / secs,
        'steps_per_cpu_sec': steps / cpu_secs,
        'logged_steps_per_sec': statistics.median(logged),
        'train_secs': secs,
      }
    )
  )


def _logged_rates(tf, model_dir):
  """The `global_step/sec` values the timed call wrote (TensorBoard's)."""
  rates = []
  for name in sorted(os.listdir(model_dir)):
    if not name.startswith('events.out.tfevents'):
      continue
    for event in tf.train.summary_iterator(os.path.join(model_dir, name)):
      for value in event.summary.value:
        if value.tag == 'global_step/sec' and event.step > 2 * _WARMUP:
          rates.append(value.simple_value)
  return rates


def _run(python, flavour, steps, batch_size, input_kind):
  env = dict(os.environ, TF_CPP_MIN_LOG_LEVEL='2', CUDA_VISIBLE_DEVICES='')
  out = subprocess.run(
    [
      python,
      _HERE,
      '--child',
      flavour,
      '--steps',
      str(steps),
      '--batch_size',
      str(batch_size),
      '--input',
      input_kind,
    ],
    capture_output=True,
    text=True,
    env=env,
    timeout=900,
    check=False,
  )
  if out.returncode:
    sys.exit(f'{flavour} run failed:\n{out.stderr[-3000:]}')
  return json.loads(out.stdout.strip().splitlines()[-1])


def main():
  parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
  parser.add_argument('--child', choices=('graphnet', 'tf1'))
  parser.add_argument('--steps', type=int, default=3000)
  parser.add_argument('--batch_size', type=int, default=100)
  parser.add_argument('--rounds', type=int, default=3)
  parser.add_argument(
    '--input', choices=('dataset', 'numpy'), default='dataset'
  )
  parser.add_argument('--tf1_python', default='../tf1venv/bin/python')
  args = parser.parse_args()
  if args.child:
    _child(args.child, args.steps, args.batch_size, args.input)
    return
  rates = {'tf1': [], 'graphnet': []}
  cpu_rates = {'tf1': [], 'graphnet': []}
  logged = {'tf1': [], 'graphnet': []}
  for _ in range(args.rounds):
    for flavour, python in (
      ('tf1', args.tf1_python),
      ('graphnet', sys.executable),
    ):
      result = _run(python, flavour, args.steps, args.batch_size, args.input)
      rates[flavour].append(result['steps_per_sec'])
      cpu_rates[flavour].append(result['steps_per_cpu_sec'])
      logged[flavour].append(result['logged_steps_per_sec'])
      print(
        f'{flavour:9s} {result["steps_per_sec"]:8.1f} steps/s '
        f'{result["steps_per_cpu_sec"]:8.1f} steps/CPU-s '
        f'{result["logged_steps_per_sec"]:8.1f} global_step/sec '
        f'({result["train_secs"]:.1f} s for {args.steps} steps)',
        flush=True,
      )
  tf1 = statistics.median(rates['tf1'])
  ours = statistics.median(rates['graphnet'])
  print(
    f'median: TF 1.15 {tf1:.1f} steps/s, graphnet {ours:.1f} steps/s, '
    f'{ours / tf1:.2f}x'
  )
  tf1 = statistics.median(logged['tf1'])
  ours = statistics.median(logged['graphnet'])
  print(
    f'median global_step/sec (TensorBoard): TF 1.15 {tf1:.1f}, graphnet '
    f'{ours:.1f}, {ours / tf1:.2f}x'
  )
  tf1 = statistics.median(cpu_rates['tf1'])
  ours = statistics.median(cpu_rates['graphnet'])
  print(
    f'median per CPU second: TF 1.15 {tf1:.1f}, graphnet {ours:.1f}, '
    f'{ours / tf1:.2f}x'
  )


if __name__ == '__main__':
  main()
