"""A tf.layers CNN on MNIST, as TF1 tutorials and courses wrote it (2017-18).

Two conv/pool blocks (the second with batch normalization), a dense layer
with an L2 penalty, dropout and a softmax layer, trained with Adam on a
`training` placeholder that switches dropout and batch norm, the batch-norm
updates run through `UPDATE_OPS`. Only the import lines differ from the
TF1 program (`import tensorflow as tf`, `from tensorflow.examples.
tutorials.mnist import input_data`).

    python layers_cnn.py --data_dir /tmp/data --steps 2000
"""

import argparse
import sys
import time

import numpy as np

import graphnet.compat.v1 as tf
from graphnet import input_data

FLAGS = None

WEIGHT_DECAY = 1e-4


def cnn(images, training):
  """Logits [batch, 10] of images [batch, 784]; training: bool tensor."""
  x = tf.reshape(images, [-1, 28, 28, 1])
  conv1 = tf.layers.conv2d(
    x, filters=8, kernel_size=5, padding='same', activation=tf.nn.relu
  )
  pool1 = tf.layers.max_pooling2d(conv1, pool_size=2, strides=2)
  conv2 = tf.layers.conv2d(pool1, 16, [5, 5], padding='SAME', use_bias=False)
  norm2 = tf.layers.batch_normalization(conv2, training=training)
  pool2 = tf.layers.max_pooling2d(tf.nn.relu(norm2), 2, 2)
  flat = tf.layers.flatten(pool2)
  print('flattened features:', flat.get_shape()[1].value)
  dense = tf.layers.dense(
    flat,
    units=32,
    activation=tf.nn.relu,
    kernel_regularizer=lambda w: WEIGHT_DECAY * tf.nn.l2_loss(w),
  )
  dropped = tf.layers.dropout(dense, rate=0.4, training=training)
  return tf.layers.dense(dropped, units=10)


def build_graph(learning_rate):
  """The training graph; returns a dict of its tensors and ops."""
  images = tf.placeholder(tf.float32, [None, 784], name='images')
  labels = tf.placeholder(tf.int64, [None], name='labels')
  training = tf.placeholder_with_default(False, [], name='training')
  logits = cnn(images, training)
  cross_entropy = tf.losses.sparse_softmax_cross_entropy(labels, logits)
  loss = cross_entropy + tf.losses.get_regularization_loss()
  global_step = tf.train.get_or_create_global_step()
  update_ops = tf.get_collection(tf.GraphKeys.UPDATE_OPS)
  with tf.control_dependencies(update_ops):
    train_op = tf.train.AdamOptimizer(learning_rate).minimize(
      loss, global_step=global_step
    )
  correct = tf.equal(tf.argmax(logits, 1), labels)
  accuracy = tf.reduce_mean(tf.cast(correct, tf.float32))
  return {
    'images': images,
    'labels': labels,
    'training': training,
    'logits': logits,
    'loss': loss,
    'train_op': train_op,
    'accuracy': accuracy,
  }


def evaluate(sess, graph, data_set, batch_size=1000):
  """Accuracy over a whole data set, batch by batch."""
  correct = 0.0
  for start in range(0, data_set.num_examples, batch_size):
    images = data_set.images[start : start + batch_size]
    labels = data_set.labels[start : start + batch_size]
    feed = {graph['images']: images, graph['labels']: labels}
    correct += sess.run(graph['accuracy'], feed) * len(labels)
  return correct / data_set.num_examples


def main(_):
  tf.set_random_seed(FLAGS.seed)
  np.random.seed(FLAGS.seed)
  mnist = input_data.read_data_sets(FLAGS.data_dir)
  graph = build_graph(FLAGS.learning_rate)
  saver = tf.train.Saver()
  start = time.time()
  with tf.Session() as sess:
    sess.run(tf.global_variables_initializer())
    for step in range(1, FLAGS.steps + 1):
      images, labels = mnist.train.next_batch(FLAGS.batch_size)
      feed = {
        graph['images']: images,
        graph['labels']: labels,
        graph['training']: True,
      }
      _, loss = sess.run([graph['train_op'], graph['loss']], feed)
      if step % 500 == 0:
        print(f'step {step}, loss {loss:.4f} ({time.time() - start:.1f} s)')
    if FLAGS.model_dir:
      saver.save(sess, FLAGS.model_dir + '/model.ckpt', global_step=step)
    print(f'test accuracy {evaluate(sess, graph, mnist.test):.4f}')


if __name__ == '__main__':
  parser = argparse.ArgumentParser()
  parser.add_argument('--data_dir', default='/tmp/mnist_data')
  parser.add_argument('--steps', type=int, default=2000)
  parser.add_argument('--batch_size', type=int, default=50)
  parser.add_argument('--learning_rate', type=float, default=1e-3)
  parser.add_argument('--seed', type=int, default=1)
  parser.add_argument('--model_dir', default='', help='Checkpoint dir.')
  FLAGS, unparsed = parser.parse_known_args()
  tf.app.run(main=main, argv=[sys.argv[0]] + unparsed)
