r"""Goldens for graphnet's tf.contrib.layers and slim, made by TF 1.15.

Run under TF 1.15 (the oracle; the MNIST .gz files are copied from
../shared/datasets/mnist, or --mnist_dir, into a temporary data dir):

    ../tf1venv/bin/python scripts/tf1_goldens/make_contrib_goldens.py

For each network of contrib_models.py (`contrib_mlp`: contrib
`fully_connected` with L2 and moving averages; `slim_cnn`: slim conv +
batch_norm + fully_connected under `arg_scope`, Momentum through
`slim.learning.create_train_op`; `contrib_decoder`: contrib conv2d and
conv2d_transpose, an autoencoder) it trains TRAIN_STEPS steps on MNIST with
fixed seeds and writes tests/goldens/tf1_contrib/<model>/:

- `model.ckpt.index`, `model.ckpt.data-00000-of-00001` (no .meta);
- `variables.json`: [name, shape] of every global variable in creation
  order, the names in MODEL_VARIABLES and TRAINABLE_VARIABLES, and how
  many REGULARIZATION_LOSSES and UPDATE_OPS the graph holds;
- `outputs.npz`: `images` and `labels` (N_FIXED test examples), `logits`
  (evaluation mode), `train_logits` (batch statistics, dropout off), then
  one deterministic training step on those examples from the checkpoint:
  `step_loss` and `after/<variable>` for every variable after it; for the
  MLP also `ema_logits` (the model restored from its moving averages).

And tests/goldens/tf1_contrib/naming.json: the variables, collections and
output shapes of `build_naming()` (many layer calls, nothing trained).
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
import contrib_models  # noqa: E402 (found next to this script)

_REPO = os.path.dirname(
  os.path.dirname(os.path.dirname(os.path.abspath(__file__)))
)
GOLDEN_DIR = os.path.join(_REPO, 'tests', 'goldens', 'tf1_contrib')
MNIST_FILES = (
  'train-images-idx3-ubyte.gz',
  'train-labels-idx1-ubyte.gz',
  't10k-images-idx3-ubyte.gz',
  't10k-labels-idx1-ubyte.gz',
)
SEED = 21
TRAIN_STEPS = 200
BATCH_SIZE = 50
N_FIXED = 16


def _collections(graph):
  """What variables.json records of a built graph."""
  return {
    'global': [
      [v.op.name, v.shape.as_list()]
      for v in graph.get_collection(tf.GraphKeys.GLOBAL_VARIABLES)
    ],
    'model': [
      v.op.name for v in graph.get_collection(tf.GraphKeys.MODEL_VARIABLES)
    ],
    'trainable': [
      v.op.name for v in graph.get_collection(tf.GraphKeys.TRAINABLE_VARIABLES)
    ],
    'regularization_losses': len(
      graph.get_collection(tf.GraphKeys.REGULARIZATION_LOSSES)
    ),
    'update_ops': len(graph.get_collection(tf.GraphKeys.UPDATE_OPS)),
  }


def make(name, data, out_dir):
  """Trains one model and writes its goldens into out_dir."""
  os.makedirs(out_dir, exist_ok=True)
  np.random.seed(SEED)
  graph = tf.Graph()
  with graph.as_default():
    tf.set_random_seed(SEED)
    model = getattr(contrib_models, f'build_{name}')()
    saver = tf.train.Saver()
    x, y = model['x'], model['y']
    images = data.test.images[:N_FIXED]
    labels = data.test.labels[:N_FIXED].astype(np.int64)
    outputs = {'images': images, 'labels': labels}
    with tf.Session() as sess:
      sess.run(tf.global_variables_initializer())
      for _ in range(TRAIN_STEPS):
        xs, ys = data.train.next_batch(BATCH_SIZE)
        feed = {x: xs, y: ys}
        feed.update(model['train_feed'])
        sess.run(model['train_op'], feed)
      prefix = saver.save(
        sess, os.path.join(out_dir, 'model.ckpt'), write_meta_graph=False
      )
      outputs['logits'] = sess.run(model['logits'], {x: images})
      step_feed = {x: images, y: labels}
      step_feed.update(model['step_feed'])
      outputs['train_logits'] = sess.run(model['logits'], step_feed)
      outputs['step_loss'] = sess.run(model['loss'], step_feed)
      sess.run(model['train_op'], step_feed)
      for var in tf.global_variables():
        outputs[f'after/{var.op.name}'] = sess.run(var)
    with open(os.path.join(out_dir, 'variables.json'), 'w') as f:
      json.dump(_collections(graph), f)
  # The checkpoint state file would name this machine's path; tests use
  # the prefix.
  del prefix
  if name == 'contrib_mlp':
    with tf.Graph().as_default():
      x, logits, ema_saver = contrib_models.mlp_ema_logits()
      with tf.Session() as sess:
        ema_saver.restore(sess, os.path.join(out_dir, 'model.ckpt'))
        outputs['ema_logits'] = sess.run(logits, {x: outputs['images']})
  np.savez_compressed(os.path.join(out_dir, 'outputs.npz'), **outputs)


def make_naming(out_dir):
  """Writes naming.json: collections and output shapes of build_naming."""
  graph = tf.Graph()
  with graph.as_default():
    outputs = contrib_models.build_naming()
    record = _collections(graph)
    record['shapes'] = {
      label: tensor.shape.as_list() for label, tensor in outputs.items()
    }
  with open(os.path.join(out_dir, 'naming.json'), 'w') as f:
    json.dump(record, f)


def main():
  parser = argparse.ArgumentParser(description=__doc__.split('\n')[0])
  parser.add_argument('--mnist_dir', default='../shared/datasets/mnist')
  parser.add_argument('--out_dir', default=GOLDEN_DIR)
  parser.add_argument(
    '--models',
    default=','.join(contrib_models.MODELS),
    help='Comma-separated models to (re)make.',
  )
  parser.add_argument(
    '--naming_only', action='store_true', help='Write naming.json only.'
  )
  args = parser.parse_args()
  data_dir = tempfile.mkdtemp(prefix='contrib_goldens_')
  try:
    for name in MNIST_FILES:
      shutil.copy(os.path.join(args.mnist_dir, name), data_dir)
    data = input_data.read_data_sets(data_dir, one_hot=False)
    os.makedirs(args.out_dir, exist_ok=True)
    make_naming(args.out_dir)
    for name in () if args.naming_only else args.models.split(','):
      make(name, data, os.path.join(args.out_dir, name))
      print('wrote', os.path.join(args.out_dir, name))
  finally:
    shutil.rmtree(data_dir, ignore_errors=True)


if __name__ == '__main__':
  main()
