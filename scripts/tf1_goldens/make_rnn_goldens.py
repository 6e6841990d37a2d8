r"""Goldens for graphnet's RNN cells, made by real TensorFlow 1.15.

Run under the TF 1.15 venv (the oracle, never a dependency):

  ../tf1venv/bin/python scripts/tf1_goldens/make_rnn_goldens.py \
      --mnist_dir ../shared/datasets/mnist

It copies the four MNIST .gz files into a temporary data dir (so TF 1.15's
tutorial input_data does not download), then for each model of
rnn_models.py (static_lstm, dynamic_lstm, multi_dropout, gru,
bidirectional, layer_norm) builds it in a fresh graph (graph seed 0),
trains it TRAIN_STEPS Adam steps on batches of BATCH training images (dropout
keep_prob 0.8 where the model has it) and writes
tests/goldens/tf1_rnn/<model>/:

  model.ckpt.index, model.ckpt.data-*   every global variable (no .meta)
  variables.json                        [[name, shape], ...] in order
  outputs.npz                           images [N, 28, 28] and labels [N]
                                        (the first N test images), logits
                                        [N, 10] (keep_prob 1.0), and
                                        stepped_logits after one more Adam
                                        step on those images from the
                                        checkpoint

and tests/goldens/tf1_rnn/naming.json: the variables ([[name, shape]])
and cell names that rnn_models.build_naming() makes (scope uniquification,
reuse, wrappers, nested stacks). About 1.3 MB in all.
"""

import argparse
import json
import os
import shutil
import sys
import tempfile

import numpy as np
import tensorflow as tf
from tensorflow.examples.tutorials.mnist import input_data

sys.path.insert(0, os.path.dirname(os.path.abspath(__file__)))
import rnn_models  # noqa: E402

_REPO = os.path.dirname(
  os.path.dirname(os.path.dirname(os.path.abspath(__file__)))
)
GOLDEN_DIR = os.path.join(_REPO, 'tests', 'goldens', 'tf1_rnn')
TRAIN_STEPS = 40
BATCH = 64
N_OUTPUTS = 32
TRAIN_KEEP_PROB = 0.8


def _variables():
  return [[v.op.name, v.shape.as_list()] for v in tf.global_variables()]


def make_model(name, build, mnist):
  """Trains one model and writes its golden directory."""
  out_dir = os.path.join(GOLDEN_DIR, name)
  shutil.rmtree(out_dir, ignore_errors=True)
  os.makedirs(out_dir)
  with tf.Graph().as_default() as graph:
    tf.set_random_seed(0)
    model = build()
    x = graph.get_tensor_by_name('x:0')
    y = graph.get_tensor_by_name('y:0')
    keep_prob = graph.get_tensor_by_name('keep_prob:0')
    saver = tf.train.Saver()
    with tf.Session() as sess:
      sess.run(tf.global_variables_initializer())
      for _ in range(TRAIN_STEPS):
        images, labels = mnist.train.next_batch(BATCH)
        sess.run(
          model['train_op'],
          {
            x: images.reshape(-1, 28, 28),
            y: labels,
            keep_prob: TRAIN_KEEP_PROB,
          },
        )
      images = mnist.test.images[:N_OUTPUTS].reshape(-1, 28, 28)
      labels = mnist.test.labels[:N_OUTPUTS]
      logits = sess.run(model['logits'], {x: images})
      saver.save(
        sess,
        os.path.join(out_dir, 'model.ckpt'),
        write_meta_graph=False,
        write_state=False,
      )
      # One more Adam step from the checkpoint, on the fixed batch.
      sess.run(model['train_op'], {x: images, y: labels})
      stepped = sess.run(model['logits'], {x: images})
    with open(os.path.join(out_dir, 'variables.json'), 'w') as f:
      json.dump(_variables(), f, indent=0)
  np.savez(
    os.path.join(out_dir, 'outputs.npz'),
    images=images,
    labels=labels,
    logits=logits,
    stepped_logits=stepped,
  )
  print(name, 'logits[0]:', np.round(logits[0], 3))


def make_naming():
  with tf.Graph().as_default():
    names = rnn_models.build_naming()
    record = {'variables': _variables(), 'cell_names': names}
  with open(os.path.join(GOLDEN_DIR, 'naming.json'), 'w') as f:
    json.dump(record, f, indent=0, sort_keys=True)


def main():
  parser = argparse.ArgumentParser(description=__doc__.split('\n')[0])
  parser.add_argument('--mnist_dir', default='../shared/datasets/mnist')
  parser.add_argument(
    '--models',
    default=','.join(rnn_models.MODELS),
    help='Comma-separated models to (re)make; naming.json always.',
  )
  args = parser.parse_args()
  data_dir = tempfile.mkdtemp(prefix='rnn_goldens_')
  try:
    for name in os.listdir(args.mnist_dir):
      if name.endswith('.gz'):
        shutil.copy(os.path.join(args.mnist_dir, name), data_dir)
    np.random.seed(0)  # input_data shuffles with NumPy's global state.
    mnist = input_data.read_data_sets(data_dir)
    os.makedirs(GOLDEN_DIR, exist_ok=True)
    for name in args.models.split(','):
      make_model(name, rnn_models.MODELS[name], mnist)
    make_naming()
  finally:
    shutil.rmtree(data_dir)


if __name__ == '__main__':
  main()
