"""The book's chapter-5 `mnist_train.py`, with `tf.contrib.layers.
l2_regularizer` as the book wrote it.

Exponentially decaying learning rate, L2 penalty through the 'losses'
collection, moving averages of every trainable variable, a checkpoint
every `--save_every` steps in `--model_dir` for the evaluator
(book5_eval.py, a separate process). Only the import lines differ from
the TF1 program (`import tensorflow as tf`, `from tensorflow.examples.
tutorials.mnist import input_data`); the paths and step count, constants
in the book, are flags here.

    python book5_train.py --data_dir /tmp/data --model_dir /tmp/model
"""

import os

import book5_inference

import graphnet.compat.v1 as tf
from graphnet import input_data

flags = tf.app.flags
flags.DEFINE_string('data_dir', '/tmp/data', 'Where MNIST is.')
flags.DEFINE_string('model_dir', 'model', 'Where checkpoints go.')
flags.DEFINE_integer('training_steps', 30000, 'Training steps.')
flags.DEFINE_integer('save_every', 1000, 'Steps between checkpoints.')
flags.DEFINE_integer('seed', 1, 'Random seed of weights and batches.')
FLAGS = flags.FLAGS

BATCH_SIZE = 100
LEARNING_RATE_BASE = 0.8
LEARNING_RATE_DECAY = 0.99
REGULARIZATION_RATE = 0.0001
MOVING_AVERAGE_DECAY = 0.99
MODEL_NAME = 'model.ckpt'


def train(mnist):
  x = tf.placeholder(
    tf.float32, [None, book5_inference.INPUT_NODE], name='x-input'
  )
  y_ = tf.placeholder(
    tf.float32, [None, book5_inference.OUTPUT_NODE], name='y-input'
  )

  regularizer = tf.contrib.layers.l2_regularizer(REGULARIZATION_RATE)
  y = book5_inference.inference(x, regularizer)
  global_step = tf.Variable(0, trainable=False)

  variable_averages = tf.train.ExponentialMovingAverage(
    MOVING_AVERAGE_DECAY, global_step
  )
  variables_averages_op = variable_averages.apply(tf.trainable_variables())
  cross_entropy = tf.nn.sparse_softmax_cross_entropy_with_logits(
    logits=y, labels=tf.argmax(y_, 1)
  )
  cross_entropy_mean = tf.reduce_mean(cross_entropy)
  loss = cross_entropy_mean + tf.add_n(tf.get_collection('losses'))
  learning_rate = tf.train.exponential_decay(
    LEARNING_RATE_BASE,
    global_step,
    mnist.train.num_examples / BATCH_SIZE,
    LEARNING_RATE_DECAY,
  )
  train_step = tf.train.GradientDescentOptimizer(learning_rate).minimize(
    loss, global_step=global_step
  )
  with tf.control_dependencies([train_step, variables_averages_op]):
    train_op = tf.no_op(name='train')

  saver = tf.train.Saver()
  with tf.Session() as sess:
    tf.global_variables_initializer().run()

    for i in range(FLAGS.training_steps):
      xs, ys = mnist.train.next_batch(BATCH_SIZE)
      _, loss_value, step = sess.run(
        [train_op, loss, global_step], feed_dict={x: xs, y_: ys}
      )
      if i % FLAGS.save_every == 0 or i + 1 == FLAGS.training_steps:
        print(
          'After %d training step(s), loss on training batch is %g.'  # noqa: UP031
          % (step, loss_value)
        )
        saver.save(
          sess,
          os.path.join(FLAGS.model_dir, MODEL_NAME),
          global_step=global_step,
        )


def main(argv=None):
  tf.set_random_seed(FLAGS.seed)
  mnist = input_data.read_data_sets(
    FLAGS.data_dir, one_hot=True, seed=FLAGS.seed
  )
  train(mnist)


if __name__ == '__main__':
  tf.app.run()
