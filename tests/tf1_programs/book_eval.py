"""A book-style evaluator: restores the moving averages of book_train.py.

The chapter-5 `mnist_eval.py` of TF1 books: a new graph without training
ops, a Saver built from `ExponentialMovingAverage.variables_to_restore()`
so each weight is loaded from its shadow, and the validation accuracy of
the newest checkpoint (evaluated once instead of every 10 seconds).

    python book_eval.py --data_dir /tmp/data --model_dir /tmp/model
"""

import tensorflow.compat.v1 as tf

from graphnet import input_data
from graphnet import mnist

tf.disable_eager_execution()

flags = tf.app.flags
flags.DEFINE_string('data_dir', '/tmp/data', 'Where MNIST is (or goes).')
flags.DEFINE_string('model_dir', '/tmp/model', 'Where checkpoints are.')
FLAGS = flags.FLAGS

LAYER1_NODE = 500
MOVING_AVERAGE_DECAY = 0.99


def evaluate(data):
  with tf.Graph().as_default():
    x = tf.placeholder(tf.float32, [None, mnist.IMAGE_PIXELS], name='x-input')
    y_ = tf.placeholder(tf.float32, [None, mnist.NUM_CLASSES], name='y-input')
    validate_feed = {x: data.validation.images, y_: data.validation.labels}

    y = mnist.inference(x, LAYER1_NODE, 0)
    correct_prediction = tf.equal(tf.argmax(y, 1), tf.argmax(y_, 1))
    accuracy = tf.reduce_mean(tf.cast(correct_prediction, tf.float32))

    variable_averages = tf.train.ExponentialMovingAverage(MOVING_AVERAGE_DECAY)
    variables_to_restore = variable_averages.variables_to_restore()
    saver = tf.train.Saver(variables_to_restore)

    with tf.Session() as sess:
      ckpt = tf.train.get_checkpoint_state(FLAGS.model_dir)
      if ckpt and ckpt.model_checkpoint_path:
        saver.restore(sess, ckpt.model_checkpoint_path)
        global_step = ckpt.model_checkpoint_path.split('/')[-1].split('-')[-1]
        accuracy_score = sess.run(accuracy, feed_dict=validate_feed)
        print(
          'After %s training step(s), validation accuracy = %g'  # noqa: UP031
          % (global_step, accuracy_score)
        )
      else:
        print('No checkpoint file found')


def main(argv=None):
  data = input_data.read_data_sets(FLAGS.data_dir, one_hot=True)
  evaluate(data)


if __name__ == '__main__':
  tf.app.run()
