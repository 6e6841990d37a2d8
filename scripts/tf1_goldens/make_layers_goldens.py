r"""Goldens for graphnet's tf.layers, made by real TensorFlow 1.15.

Run under TF 1.15 (the oracle; the MNIST .gz files are copied from
../shared/datasets/mnist, or --mnist_dir, into a temporary data dir):

    ../tf1venv/bin/python scripts/tf1_goldens/make_layers_goldens.py

The sources are graphnet's: the zoo (layers_zoo.py beside this script) and
the programs tests/tf1_programs/layers_cnn.py and conv_autoencoder.py, each
loaded with its import lines swapped back to TF1's
(scripts/tf1_programs_accuracy.py's `to_tf1`). It writes, into
tests/goldens/tf1_layers/<model>/:

- `model.ckpt.index`, `model.ckpt.data-00000-of-00001` (no .meta);
- `variables.json`: [name, shape] of every global variable in creation
  order, the TRAINABLE_VARIABLES names, how many REGULARIZATION_LOSSES and
  UPDATE_OPS the graph holds, and the outputs' static shapes;
- `outputs.npz`: the fixed inputs and the outputs on them.

`zoo`: variables as initialized (graph seed 0); inputs from a seeded NumPy
RandomState; `eval/<name>` (training fed False) and `train/<name>` (True;
not the dropout outputs), then `after/<variable>` for each moving mean and
variance after one run of UPDATE_OPS with training True.
`layers_cnn` and `conv_autoencoder`: trained TRAIN_STEPS steps on MNIST
(graph seed 1, batches from TF1's `next_batch`); `images` (the first
N_FIXED test images), `logits` (evaluation mode) or `reconstruction`; for
the CNN also `labels` and `after/<variable>` after one run of UPDATE_OPS
on `images` with training True; then `step_loss` and `step/<variable>`
(every trainable variable) after one Adam step on `images` (training off).
"""

import argparse
import json
import os
import shutil
import sys
import tempfile
import types

import numpy as np
import tensorflow as tf
from tensorflow.examples.tutorials.mnist import input_data

_HERE = os.path.dirname(os.path.abspath(__file__))
_REPO = os.path.dirname(os.path.dirname(_HERE))
sys.path.insert(0, os.path.dirname(_HERE))
import tf1_programs_accuracy  # noqa: E402  (scripts/, for to_tf1)

GOLDEN_DIR = os.path.join(_REPO, 'tests', 'goldens', 'tf1_layers')
ZOO = os.path.join(_HERE, 'layers_zoo.py')
PROGRAMS = os.path.join(_REPO, 'tests', 'tf1_programs')
TRAIN_STEPS = 60
N_FIXED = 16
ZOO_BATCH = 4


def load(path, name):
  """The module of `path`'s source with its imports swapped to TF1's."""
  with open(path) as f:
    source = tf1_programs_accuracy.to_tf1(f.read())
  module = types.ModuleType(name)
  module.__file__ = path
  exec(compile(source, path, 'exec'), module.__dict__)
  return module


def zoo_feeds(batch=ZOO_BATCH):
  """The zoo's fixed inputs: {placeholder name: float32 array}."""
  rng = np.random.RandomState(0)
  shapes = {
    'img': [batch, 8, 8, 3],
    'seq': [batch, 10, 4],
    'vol': [batch, 4, 6, 6, 2],
    'vec': [batch, 6],
  }
  return {
    name: rng.standard_normal(shape).astype(np.float32)
    for name, shape in sorted(shapes.items())
  }


def describe(outputs):
  """The graph's variables and collections, as variables.json holds them."""
  return {
    'global_variables': [
      [v.op.name, v.shape.as_list()] for v in tf.global_variables()
    ],
    'trainable_variables': [v.op.name for v in tf.trainable_variables()],
    'regularization_losses': len(
      tf.get_collection(tf.GraphKeys.REGULARIZATION_LOSSES)
    ),
    'update_ops': len(tf.get_collection(tf.GraphKeys.UPDATE_OPS)),
    'output_shapes': {
      name: tensor.shape.as_list() for name, tensor in sorted(outputs.items())
    },
  }


def moving_statistics():
  return [v for v in tf.global_variables() if '/moving_' in v.op.name]


def save(sess, out_dir, info, arrays):
  """Writes the checkpoint, variables.json and outputs.npz into out_dir."""
  if os.path.isdir(out_dir):
    shutil.rmtree(out_dir)
  os.makedirs(out_dir)
  tf.train.Saver().save(
    sess, os.path.join(out_dir, 'model.ckpt'), write_meta_graph=False
  )
  state = os.path.join(out_dir, 'checkpoint')
  if os.path.exists(state):
    os.remove(state)
  with open(os.path.join(out_dir, 'variables.json'), 'w') as f:
    json.dump(info, f, indent=1, sort_keys=True)
    f.write('\n')
  np.savez_compressed(os.path.join(out_dir, 'outputs.npz'), **arrays)


def make_zoo():
  zoo = load(ZOO, 'layers_zoo')
  with tf.Graph().as_default():
    tf.set_random_seed(0)
    outputs = zoo.build()
    graph = tf.get_default_graph()
    inputs = zoo_feeds()
    feed = {graph.get_tensor_by_name(k + ':0'): v for k, v in inputs.items()}
    training = graph.get_tensor_by_name('training:0')
    arrays = dict(inputs)
    with tf.Session() as sess:
      sess.run(tf.global_variables_initializer())
      info = describe(outputs)
      evals = sess.run(outputs, {**feed, training: False})
      trains = sess.run(
        {k: v for k, v in outputs.items() if k not in zoo.DROPPED},
        {**feed, training: True},
      )
      save(sess, os.path.join(GOLDEN_DIR, 'zoo'), info, {})
      sess.run(
        tf.get_collection(tf.GraphKeys.UPDATE_OPS),
        {**feed, training: True},
      )
      after = sess.run({v.op.name: v for v in moving_statistics()})
  arrays.update({'eval/' + k: v for k, v in evals.items()})
  arrays.update({'train/' + k: v for k, v in trains.items()})
  arrays.update({'after/' + k: v for k, v in after.items()})
  np.savez_compressed(os.path.join(GOLDEN_DIR, 'zoo', 'outputs.npz'), **arrays)


def make_program(name, data_dir):
  program = load(os.path.join(PROGRAMS, name + '.py'), name)
  mnist = input_data.read_data_sets(data_dir, seed=1)
  images = mnist.test.images[:N_FIXED]
  with tf.Graph().as_default():
    tf.set_random_seed(1)
    graph = program.build_graph(1e-3)
    output = 'logits' if 'logits' in graph and 'mse' not in graph else None
    output = output or 'reconstruction'
    with tf.Session() as sess:
      sess.run(tf.global_variables_initializer())
      for _ in range(TRAIN_STEPS):
        batch, labels = mnist.train.next_batch(50)
        feed = {graph['images']: batch}
        if 'labels' in graph:
          feed[graph['labels']] = labels
          feed[graph['training']] = True
        sess.run(graph['train_op'], feed)
      info = describe({output: graph[output]})
      value = sess.run(graph[output], {graph['images']: images})
      save(sess, os.path.join(GOLDEN_DIR, name), info, {})
      arrays = {'images': images, output: value}
      if 'training' in graph:
        sess.run(
          tf.get_collection(tf.GraphKeys.UPDATE_OPS),
          {graph['images']: images, graph['training']: True},
        )
        after = sess.run({v.op.name: v for v in moving_statistics()})
        arrays.update({'after/' + k: v for k, v in after.items()})
      # One deterministic Adam step on `images` (dropout off).
      feed = {graph['images']: images}
      if 'labels' in graph:
        feed[graph['labels']] = mnist.test.labels[:N_FIXED]
      arrays['step_loss'], _ = sess.run(
        [graph['loss'], graph['train_op']], feed
      )
      stepped = sess.run({v.op.name: v for v in tf.trainable_variables()})
      arrays.update({'step/' + k: v for k, v in stepped.items()})
      arrays['labels'] = mnist.test.labels[:N_FIXED]
  np.savez_compressed(os.path.join(GOLDEN_DIR, name, 'outputs.npz'), **arrays)


def main():
  parser = argparse.ArgumentParser(description=__doc__.split('\n')[0])
  parser.add_argument('--mnist_dir', default=tf1_programs_accuracy.MNIST_DIR)
  args = parser.parse_args()
  tf.logging.set_verbosity(tf.logging.ERROR)
  make_zoo()
  with tempfile.TemporaryDirectory() as data_dir:
    for gz in os.listdir(args.mnist_dir):
      shutil.copy(os.path.join(args.mnist_dir, gz), data_dir)
    for name in ('layers_cnn', 'conv_autoencoder'):
      make_program(name, data_dir)
  total = sum(
    os.path.getsize(os.path.join(root, f))
    for root, _, files in os.walk(GOLDEN_DIR)
    for f in files
  )
  print(f'wrote {GOLDEN_DIR} ({total / 1e6:.2f} MB)')


if __name__ == '__main__':
  main()
