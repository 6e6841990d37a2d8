"""A TF-Slim CNN on MNIST, trained by slim.learning.train (2017-18 style).

LeNet under `slim.arg_scope` (conv2d + batch_norm, fully_connected,
weight decay), dropout, `slim.losses`, `slim.learning.create_train_op` and
`slim.learning.train` with a log dir (checkpoints and summaries) and a
number of steps; batches come from a `tf.data` generator. A second graph
then restores the last checkpoint (`slim.get_variables_to_restore`) and
evaluates on the test set with `slim.metrics.streaming_accuracy`. Only the
import lines differ from the TF1 program (`import tensorflow as tf`,
`import tensorflow.contrib.slim as slim`, `from tensorflow.examples.
tutorials.mnist import input_data`).

    python slim_cnn.py --data_dir /tmp/data --train_dir /tmp/slim --steps 1000
"""

import argparse
import sys

import numpy as np

import graphnet.compat.v1 as tf
import graphnet.compat.v1.contrib.slim as slim
from graphnet import input_data

FLAGS = None


def lenet_arg_scope(weight_decay=0.0005):
  with slim.arg_scope(
    [slim.conv2d, slim.fully_connected],
    weights_regularizer=slim.l2_regularizer(weight_decay),
    weights_initializer=tf.truncated_normal_initializer(stddev=0.1),
    activation_fn=tf.nn.relu,
  ):
    with slim.arg_scope([slim.conv2d], padding='SAME') as sc:
      return sc


def lenet(images, is_training=False, scope='LeNet'):
  with tf.variable_scope(scope, 'LeNet', [images]):
    net = tf.reshape(images, [-1, 28, 28, 1])
    with slim.arg_scope(
      [slim.conv2d],
      normalizer_fn=slim.batch_norm,
      normalizer_params={'is_training': is_training, 'decay': 0.95},
    ):
      net = slim.conv2d(net, 16, [5, 5], scope='conv1')
      net = slim.max_pool2d(net, [2, 2], 2, scope='pool1')
      net = slim.conv2d(net, 32, [5, 5], scope='conv2')
      net = slim.max_pool2d(net, [2, 2], 2, scope='pool2')
    net = slim.flatten(net)
    net = slim.fully_connected(net, 256, scope='fc3')
    net = slim.dropout(net, 0.5, is_training=is_training, scope='dropout3')
    logits = slim.fully_connected(net, 10, activation_fn=None, scope='fc4')
  return logits


def train(mnist):
  def batches():
    while True:
      images, labels = mnist.train.next_batch(FLAGS.batch_size)
      yield images, labels.astype(np.int64)

  with tf.Graph().as_default():
    tf.set_random_seed(FLAGS.seed)
    dataset = tf.data.Dataset.from_generator(
      batches, (tf.float32, tf.int64), ([None, 784], [None])
    )
    images, labels = dataset.make_one_shot_iterator().get_next()
    with slim.arg_scope(lenet_arg_scope()):
      logits = lenet(images, is_training=True)
    slim.losses.sparse_softmax_cross_entropy(logits, labels)
    total_loss = slim.losses.get_total_loss()
    tf.summary.scalar('losses/total_loss', total_loss)
    optimizer = tf.train.AdamOptimizer(1e-3)
    train_op = slim.learning.create_train_op(total_loss, optimizer)
    final_loss = slim.learning.train(
      train_op,
      FLAGS.train_dir,
      number_of_steps=FLAGS.steps,
      log_every_n_steps=100,
      save_summaries_secs=30,
      save_interval_secs=60,
    )
    print('Finished training. Last batch loss %f' % final_loss)  # noqa: UP031


def evaluate(mnist):
  with tf.Graph().as_default():
    images = tf.placeholder(tf.float32, [None, 784])
    labels = tf.placeholder(tf.int64, [None])
    with slim.arg_scope(lenet_arg_scope()):
      logits = lenet(images, is_training=False)
    predictions = tf.argmax(logits, 1)
    accuracy, update_op = slim.metrics.streaming_accuracy(predictions, labels)
    saver = tf.train.Saver(slim.get_variables_to_restore())
    with tf.Session() as sess:
      sess.run(tf.local_variables_initializer())
      saver.restore(sess, tf.train.latest_checkpoint(FLAGS.train_dir))
      for start in range(0, mnist.test.num_examples, 1000):
        sess.run(
          update_op,
          feed_dict={
            images: mnist.test.images[start : start + 1000],
            labels: mnist.test.labels[start : start + 1000],
          },
        )
      print('test accuracy %g' % sess.run(accuracy))  # noqa: UP031


def main(_):
  tf.logging.set_verbosity(tf.logging.INFO)
  mnist = input_data.read_data_sets(FLAGS.data_dir, seed=FLAGS.seed)
  train(mnist)
  evaluate(mnist)


if __name__ == '__main__':
  parser = argparse.ArgumentParser()
  parser.add_argument('--data_dir', type=str, default='/tmp/mnist_data')
  parser.add_argument('--train_dir', type=str, default='slim_train')
  parser.add_argument('--steps', type=int, default=1000)
  parser.add_argument('--batch_size', type=int, default=50)
  parser.add_argument('--seed', type=int, default=1)
  FLAGS, unparsed = parser.parse_known_args()
  tf.app.run(main=main, argv=[sys.argv[0]] + unparsed)
