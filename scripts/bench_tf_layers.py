r"""Training-step speed: a tf.layers CNN against the same graphnet.layers net.

The network is the deep-MNIST CNN of TF1 tutorials at this script's
widths: conv 5x5 x32 'same' + ReLU, 2x2 max-pool, conv 5x5 x64 + ReLU,
2x2 max-pool, dense 256 + ReLU, dropout (keep 0.5), dense 10; Adam, batch
100 of random MNIST-shaped inputs. Variants, each its own graph in this
process, run in turns (round-robin, so a busy machine slows all alike):

- `graphnet.layers`: `Sequential([Reshape, Conv2D, MaxPool2D, ...])`.
- `tf.layers`: the same with `graphnet.compat.v1` and `training=True`.
- `tf.layers cond`: `training` a bool placeholder fed True (tf.cond inside
  dropout and batch norm), as most TF1 programs wrote it.
- `tf.layers ref vars`: as `tf.layers cond`, with TF1's reference variables
  and v1 control flow (what `tf.disable_v2_behavior()` gives).
- `+bn` variants: batch normalization after the second convolution
  (`BatchNorm()` normalizer / `tf.layers.batch_normalization`).

    python scripts/bench_tf_layers.py [--rounds 5] [--steps 30]

Prints the median wall and CPU milliseconds per step of each variant (CPU
time, all threads of this process, is the steadier figure on a shared
machine).
"""

import argparse
import statistics
import time

import numpy as np

import graphnet.compat.v1 as tf
from graphnet import layers as gl

BATCH = 100


def graphnet_net(batch_norm):
  def build(images, training):
    del training  # graphnet layers take a python bool.
    conv2 = gl.Conv2D(
      64,
      5,
      activation=tf.nn.relu,
      normalizer=gl.BatchNorm() if batch_norm else None,
    )
    model = gl.Sequential(
      [
        gl.Reshape([28, 28, 1]),
        gl.Conv2D(32, 5, activation=tf.nn.relu),
        gl.MaxPool2D(2),
        conv2,
        gl.MaxPool2D(2),
        gl.Flatten(),
        gl.Dense(256, activation=tf.nn.relu),
        gl.Dropout(0.5),
        gl.Dense(10),
      ]
    )
    return model(images, is_training=True)

  return build


def tf_layers_net(batch_norm):
  def build(images, training):
    net = tf.reshape(images, [-1, 28, 28, 1])
    net = tf.layers.conv2d(net, 32, 5, padding='same', activation=tf.nn.relu)
    net = tf.layers.max_pooling2d(net, 2, 2)
    if batch_norm:
      net = tf.layers.conv2d(net, 64, 5, padding='same', use_bias=False)
      net = tf.nn.relu(tf.layers.batch_normalization(net, training=training))
    else:
      net = tf.layers.conv2d(net, 64, 5, padding='same', activation=tf.nn.relu)
    net = tf.layers.max_pooling2d(net, 2, 2)
    net = tf.layers.dense(tf.layers.flatten(net), 256, activation=tf.nn.relu)
    net = tf.layers.dropout(net, rate=0.5, training=training)
    return tf.layers.dense(net, 10)

  return build


class Variant:
  """One network in its own graph and session, ready to step."""

  def __init__(self, build, placeholder_training, ref_variables=False):
    self.graph = tf.Graph()
    if ref_variables:
      tf.disable_resource_variables()
      tf.disable_control_flow_v2()
    try:
      with self.graph.as_default():
        tf.set_random_seed(0)
        self.images = tf.placeholder(tf.float32, [None, 784])
        self.labels = tf.placeholder(tf.int64, [None])
        self.training = (
          tf.placeholder(tf.bool, []) if placeholder_training else True
        )
        logits = build(self.images, self.training)
        loss = tf.losses.sparse_softmax_cross_entropy(self.labels, logits)
        with tf.control_dependencies(
          tf.get_collection(tf.GraphKeys.UPDATE_OPS)
        ):
          self.train_op = tf.train.AdamOptimizer(1e-4).minimize(loss)
        init = tf.global_variables_initializer()
    finally:
      if ref_variables:
        tf.enable_control_flow_v2()
        tf.enable_resource_variables()
    self.sess = tf.Session(graph=self.graph)
    self.sess.run(init)
    rng = np.random.RandomState(0)
    self.feed = {
      self.images: rng.uniform(size=[BATCH, 784]).astype(np.float32),
      self.labels: rng.randint(0, 10, size=[BATCH]),
    }
    if placeholder_training:
      self.feed[self.training] = True
    self.step(3)  # Warm-up: first runs allocate and optimise.

  def step(self, steps):
    """(wall, CPU) seconds per step over `steps` training steps."""
    start, cpu = time.perf_counter(), time.process_time()
    for _ in range(steps):
      self.sess.run(self.train_op, self.feed)
    return (
      (time.perf_counter() - start) / steps,
      (time.process_time() - cpu) / steps,
    )


def main():
  parser = argparse.ArgumentParser(description=__doc__.split('\n')[0])
  parser.add_argument('--rounds', type=int, default=5)
  parser.add_argument('--steps', type=int, default=30)
  args = parser.parse_args()
  variants = {}
  for bn in (False, True):
    suffix = ' +bn' if bn else ''
    variants['graphnet.layers' + suffix] = Variant(graphnet_net(bn), False)
    variants['tf.layers' + suffix] = Variant(tf_layers_net(bn), False)
    variants['tf.layers cond' + suffix] = Variant(tf_layers_net(bn), True)
    variants['tf.layers ref vars' + suffix] = Variant(
      tf_layers_net(bn), True, ref_variables=True
    )
  times = {name: [] for name in variants}
  for _ in range(args.rounds):
    for name, variant in variants.items():
      times[name].append(variant.step(args.steps))
  print('| variant | wall ms/step (median) | min | CPU ms/step (median) |')
  print('|---|---|---|---|')
  for name, values in times.items():
    walls = [v[0] for v in values]
    cpus = [v[1] for v in values]
    print(
      f'| {name} | {1000 * statistics.median(walls):.1f} | '
      f'{1000 * min(walls):.1f} | {1000 * statistics.median(cpus):.1f} |'
    )


if __name__ == '__main__':
  main()
