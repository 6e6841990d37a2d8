"""A convolutional autoencoder on MNIST with tf.layers.conv2d_transpose.

The TF1 blog-post autoencoder (2017-18): two strided convolutions encode a
28x28 digit to 7x7x8, two transposed convolutions ('valid' then 'same'
padding) decode it, trained with Adam on sigmoid cross-entropy. It reports
the test set's mean squared reconstruction error. Only the import lines
differ from the TF1 program.

    python conv_autoencoder.py --data_dir /tmp/data --steps 1500
"""

import argparse
import sys
import time

import numpy as np

import graphnet.compat.v1 as tf
from graphnet import input_data

FLAGS = None


def encoder(images):
  """Codes [batch, 7, 7, 8] of images [batch, 784]."""
  x = tf.reshape(images, [-1, 28, 28, 1])
  with tf.variable_scope('encoder'):
    net = tf.layers.conv2d(x, 16, 3, strides=2, padding='same',
                           activation=tf.nn.relu)  # fmt: skip
    return tf.layers.conv2d(net, 8, 3, strides=(2, 2), padding='same',
                            activation=tf.nn.relu)  # fmt: skip


def decoder(codes):
  """Logits [batch, 28, 28, 1] of the reconstruction."""
  with tf.variable_scope('decoder'):
    net = tf.layers.conv2d_transpose(codes, 16, 2, strides=2,
                                     activation=tf.nn.relu)  # fmt: skip
    print('decoder hidden shape:', net.get_shape().as_list())
    return tf.layers.conv2d_transpose(net, 1, 3, strides=2, padding='same',
                                      name='reconstruction')  # fmt: skip


def build_graph(learning_rate):
  """The training graph; returns a dict of its tensors and ops."""
  images = tf.placeholder(tf.float32, [None, 784], name='images')
  logits = decoder(encoder(images))
  targets = tf.reshape(images, [-1, 28, 28, 1])
  loss = tf.reduce_mean(
    tf.nn.sigmoid_cross_entropy_with_logits(labels=targets, logits=logits)
  )
  reconstruction = tf.nn.sigmoid(logits)
  mse = tf.reduce_mean(tf.square(reconstruction - targets))
  global_step = tf.train.get_or_create_global_step()
  train_op = tf.train.AdamOptimizer(learning_rate).minimize(
    loss, global_step=global_step
  )
  return {
    'images': images,
    'logits': logits,
    'reconstruction': reconstruction,
    'loss': loss,
    'mse': mse,
    'train_op': train_op,
  }


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
      images, _ = mnist.train.next_batch(FLAGS.batch_size)
      _, loss = sess.run(
        [graph['train_op'], graph['loss']], {graph['images']: images}
      )
      if step % 500 == 0:
        print(f'step {step}, loss {loss:.4f} ({time.time() - start:.1f} s)')
    if FLAGS.model_dir:
      saver.save(sess, FLAGS.model_dir + '/model.ckpt', global_step=step)
    errors = [
      sess.run(graph['mse'], {graph['images']: mnist.test.images[i : i + 1000]})
      for i in range(0, mnist.test.num_examples, 1000)
    ]
    print(f'test mse {np.mean(errors):.5f}')


if __name__ == '__main__':
  parser = argparse.ArgumentParser()
  parser.add_argument('--data_dir', default='/tmp/mnist_data')
  parser.add_argument('--steps', type=int, default=1500)
  parser.add_argument('--batch_size', type=int, default=64)
  parser.add_argument('--learning_rate', type=float, default=2e-3)
  parser.add_argument('--seed', type=int, default=1)
  parser.add_argument('--model_dir', default='', help='Checkpoint dir.')
  FLAGS, unparsed = parser.parse_known_args()
  tf.app.run(main=main, argv=[sys.argv[0]] + unparsed)
