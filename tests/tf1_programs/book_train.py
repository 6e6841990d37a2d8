"""A book-style trainer: EMA, L2 and exponential decay, saved for an evaluator.

The chapter-5 `mnist_train.py` of TF1 books, with `tf.contrib.layers.
l2_regularizer` and the book's own `mnist_inference` replaced by graphnet's
drop-in `mnist` (one hidden layer of 500 units, weights in the variable
scopes `hidden1` and `softmax_linear`).

    python book_train.py --data_dir /tmp/data --model_dir /tmp/model
"""

import os

import tensorflow.compat.v1 as tf

from graphnet import input_data
from graphnet import mnist

tf.disable_eager_execution()

flags = tf.app.flags
flags.DEFINE_string('data_dir', '/tmp/data', 'Where MNIST is (or goes).')
flags.DEFINE_string('model_dir', '/tmp/model', 'Where checkpoints go.')
flags.DEFINE_integer('training_steps', 30000, 'Training steps.')
flags.DEFINE_integer('seed', None, 'Random seed of weights and batches.')
FLAGS = flags.FLAGS

BATCH_SIZE = 100
LAYER1_NODE = 500
LEARNING_RATE_BASE = 0.8
LEARNING_RATE_DECAY = 0.99
REGULARIZATION_RATE = 0.0001
MOVING_AVERAGE_DECAY = 0.99
MODEL_NAME = 'model.ckpt'


def train(data):
  x = tf.placeholder(tf.float32, [None, mnist.IMAGE_PIXELS], name='x-input')
  y_ = tf.placeholder(tf.float32, [None, mnist.NUM_CLASSES], name='y-input')

  regularizer = mnist.l2_regularizer(REGULARIZATION_RATE)
  y = mnist.inference(x, LAYER1_NODE, 0, regularizer)
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
    data.train.num_examples / BATCH_SIZE,
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
      xs, ys = data.train.next_batch(BATCH_SIZE)
      _, loss_value, step = sess.run(
        [train_op, loss, global_step], feed_dict={x: xs, y_: ys}
      )
      if i % 100 == 0 or i + 1 == FLAGS.training_steps:
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
  data = input_data.read_data_sets(
    FLAGS.data_dir, one_hot=True, seed=FLAGS.seed
  )
  train(data)


if __name__ == '__main__':
  tf.app.run()
