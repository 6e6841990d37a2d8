"""A tf.contrib.layers MLP on MNIST, as TF1 courses wrote it (2017-18).

Two ReLU `fully_connected` layers with an L2 penalty
(`tf.contrib.layers.l2_regularizer`, collected in REGULARIZATION_LOSSES),
a linear output layer, Adam, and exponential moving averages of the
weights evaluated at the end next to the raw ones. Only the import lines
differ from the TF1 program (`import tensorflow as tf`,
`from tensorflow.examples.tutorials.mnist import input_data`).

    python contrib_mlp.py --data_dir /tmp/data --steps 2000
"""

import argparse
import sys

import graphnet.compat.v1 as tf
from graphnet import input_data

FLAGS = None


def mlp(x):
  regularizer = tf.contrib.layers.l2_regularizer(scale=1e-4)
  net = tf.contrib.layers.fully_connected(
    x, 256, weights_regularizer=regularizer, scope='hidden1'
  )
  net = tf.contrib.layers.fully_connected(
    net, 128, weights_regularizer=regularizer, scope='hidden2'
  )
  return tf.contrib.layers.fully_connected(
    net, 10, activation_fn=None, scope='logits'
  )


def main(_):
  tf.set_random_seed(FLAGS.seed)
  mnist = input_data.read_data_sets(
    FLAGS.data_dir, one_hot=True, seed=FLAGS.seed
  )

  x = tf.placeholder(tf.float32, [None, 784])
  y_ = tf.placeholder(tf.float32, [None, 10])
  y = mlp(x)

  cross_entropy = tf.reduce_mean(
    tf.nn.softmax_cross_entropy_with_logits_v2(labels=y_, logits=y)
  )
  reg_losses = tf.get_collection(tf.GraphKeys.REGULARIZATION_LOSSES)
  loss = cross_entropy + tf.add_n(reg_losses)

  global_step = tf.train.get_or_create_global_step()
  train_step = tf.train.AdamOptimizer(1e-3).minimize(
    loss, global_step=global_step
  )
  ema = tf.train.ExponentialMovingAverage(0.99, global_step)
  with tf.control_dependencies([train_step]):
    train_op = ema.apply(tf.trainable_variables())

  correct_prediction = tf.equal(tf.argmax(y, 1), tf.argmax(y_, 1))
  accuracy = tf.reduce_mean(tf.cast(correct_prediction, tf.float32))

  with tf.Session() as sess:
    sess.run(tf.global_variables_initializer())
    for i in range(FLAGS.steps):
      batch_xs, batch_ys = mnist.train.next_batch(100)
      _, loss_value = sess.run(
        [train_op, loss], feed_dict={x: batch_xs, y_: batch_ys}
      )
      if i % 500 == 0:
        print('step %d, loss %g' % (i, loss_value))  # noqa: UP031
    test_feed = {x: mnist.test.images, y_: mnist.test.labels}
    raw = sess.run(accuracy, feed_dict=test_feed)
    # Swap the averages in, as the book's evaluators do by restoring them.
    sess.run([tf.assign(v, ema.average(v)) for v in tf.trainable_variables()])
    averaged = sess.run(accuracy, feed_dict=test_feed)
    print('raw weights test accuracy %g' % raw)  # noqa: UP031
    print('test accuracy %g' % averaged)  # noqa: UP031


if __name__ == '__main__':
  parser = argparse.ArgumentParser()
  parser.add_argument('--data_dir', type=str, default='/tmp/mnist_data')
  parser.add_argument('--steps', type=int, default=2000)
  parser.add_argument('--seed', type=int, default=1)
  FLAGS, unparsed = parser.parse_known_args()
  tf.app.run(main=main, argv=[sys.argv[0]] + unparsed)
