"""An LSTM classifier over MNIST rows, as TF1 examples wrote it (2017-18).

Each image is read as 28 time steps of 28 pixels by a BasicLSTMCell
(`rnn.static_rnn` over `tf.unstack`ed rows, or `tf.nn.dynamic_rnn` with
--rnn dynamic); the last output goes through a softmax layer kept in
weights/biases dicts. Only the import lines differ from the TF1 program
(`import tensorflow as tf`, `from tensorflow.contrib import rnn`,
`from tensorflow.examples.tutorials.mnist import input_data`).

    python lstm_mnist.py --data_dir /tmp/data --steps 1000

It prints the loss every 200 steps, the median training step time (wall
and process CPU) after the first 20 steps, and the test accuracy.
"""

import argparse
import sys
import time

import numpy as np

import graphnet.compat.v1 as tf
from graphnet import input_data
from graphnet.compat.v1.contrib import rnn

FLAGS = None

TIMESTEPS = 28  # rows
NUM_INPUT = 28  # pixels per row
NUM_CLASSES = 10


def lstm_logits(x, weights, biases):
  """Logits [batch, 10] of x [batch, 28, 28]."""
  if FLAGS.rnn == 'static':
    # A list of 28 tensors [batch, 28], one per time step.
    rows = tf.unstack(x, TIMESTEPS, 1)
    lstm_cell = rnn.BasicLSTMCell(FLAGS.num_hidden, forget_bias=1.0)
    outputs, states = rnn.static_rnn(lstm_cell, rows, dtype=tf.float32)
    last = outputs[-1]
  else:
    lstm_cell = tf.nn.rnn_cell.BasicLSTMCell(FLAGS.num_hidden)
    outputs, states = tf.nn.dynamic_rnn(lstm_cell, x, dtype=tf.float32)
    last = states.h
  return tf.matmul(last, weights['out']) + biases['out']


def main(_):
  tf.set_random_seed(FLAGS.seed)
  np.random.seed(FLAGS.seed)
  mnist = input_data.read_data_sets(FLAGS.data_dir, one_hot=True)

  x = tf.placeholder('float', [None, TIMESTEPS, NUM_INPUT])
  y = tf.placeholder('float', [None, NUM_CLASSES])
  weights = {
    'out': tf.Variable(tf.random_normal([FLAGS.num_hidden, NUM_CLASSES]))
  }
  biases = {'out': tf.Variable(tf.random_normal([NUM_CLASSES]))}

  logits = lstm_logits(x, weights, biases)
  prediction = tf.nn.softmax(logits)
  loss_op = tf.reduce_mean(
    tf.nn.softmax_cross_entropy_with_logits(logits=logits, labels=y)
  )
  optimizer = tf.train.AdamOptimizer(learning_rate=FLAGS.learning_rate)
  train_op = optimizer.minimize(loss_op)
  correct_pred = tf.equal(tf.argmax(prediction, 1), tf.argmax(y, 1))
  accuracy = tf.reduce_mean(tf.cast(correct_pred, tf.float32))
  init = tf.global_variables_initializer()

  step_times = []
  step_cpu_times = []  # CPU seconds of all the process's threads
  with tf.Session() as sess:
    sess.run(init)
    for step in range(1, FLAGS.steps + 1):
      batch_x, batch_y = mnist.train.next_batch(FLAGS.batch_size)
      batch_x = batch_x.reshape((FLAGS.batch_size, TIMESTEPS, NUM_INPUT))
      start, start_cpu = time.time(), time.process_time()
      sess.run(train_op, feed_dict={x: batch_x, y: batch_y})
      step_times.append(time.time() - start)
      step_cpu_times.append(time.process_time() - start_cpu)
      if step % 200 == 0 or step == 1:
        loss, acc = sess.run(
          [loss_op, accuracy], feed_dict={x: batch_x, y: batch_y}
        )
        print(f'step {step}, minibatch loss {loss:.4f}, accuracy {acc:.3f}')
    timed = step_times[20:] or step_times
    timed_cpu = step_cpu_times[20:] or step_cpu_times
    print(f'median train step ms {1000 * np.median(timed):.2f}')
    print(f'median train step cpu ms {1000 * np.median(timed_cpu):.2f}')
    test_data = mnist.test.images.reshape((-1, TIMESTEPS, NUM_INPUT))
    test_acc = sess.run(
      accuracy, feed_dict={x: test_data, y: mnist.test.labels}
    )
    print(f'test accuracy {test_acc:.4f}')


if __name__ == '__main__':
  parser = argparse.ArgumentParser()
  parser.add_argument('--data_dir', default='/tmp/mnist_data')
  parser.add_argument('--steps', type=int, default=1000)
  parser.add_argument('--batch_size', type=int, default=128)
  parser.add_argument('--num_hidden', type=int, default=128)
  parser.add_argument('--learning_rate', type=float, default=1e-3)
  parser.add_argument('--rnn', choices=('static', 'dynamic'), default='static')
  parser.add_argument('--seed', type=int, default=1)
  FLAGS, unparsed = parser.parse_known_args()
  tf.app.run(main=main, argv=[sys.argv[0]] + unparsed)
