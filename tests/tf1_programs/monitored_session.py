"""A MonitoredTrainingSession fed its learning rate by a hook (ResNet style).

TF1's ResNet trainer fed a learning-rate placeholder from its own
`_LearningRateSetterHook`; graphnet's drop-in `hooks.LearningRateSetterHook`
takes the schedule as boundaries and values (one value: a constant rate).
The loss is the tutorial `mnist.loss` read back through
`tf.losses.get_total_loss()`, as TF1 programs did.

    python monitored_session.py --data_dir /tmp/data --train_dir /tmp/logs
"""

import tensorflow.compat.v1 as tf

from graphnet import hooks
from graphnet import input_data
from graphnet import mnist

tf.disable_eager_execution()

flags = tf.app.flags
flags.DEFINE_string('data_dir', '/tmp/data', 'Where MNIST is (or goes).')
flags.DEFINE_string('train_dir', '/tmp/logs', 'Checkpoints and summaries.')
flags.DEFINE_integer('train_steps', 1000, 'Global step to stop at.')
flags.DEFINE_float('learning_rate', 0.1, 'Constant learning rate.')
flags.DEFINE_integer('seed', None, 'Random seed of weights and batches.')
FLAGS = flags.FLAGS

BATCH_SIZE = 100


def build_model(images, labels):
  logits = mnist.inference(images, 128, 32)
  mnist.loss(logits, labels)
  return logits, tf.losses.get_total_loss()


def train(data):
  with tf.Graph().as_default():
    tf.set_random_seed(FLAGS.seed)
    global_step = tf.train.get_or_create_global_step()
    images = tf.placeholder(tf.float32, [None, mnist.IMAGE_PIXELS])
    labels = tf.placeholder(tf.int32, [None])
    lrn_rate = tf.placeholder(tf.float32, [], name='learning_rate')
    _, loss = build_model(images, labels)
    tf.summary.scalar('learning_rate', lrn_rate)
    train_op = tf.train.GradientDescentOptimizer(lrn_rate).minimize(
      loss, global_step=global_step
    )
    rates = set()
    with tf.train.MonitoredTrainingSession(
      checkpoint_dir=FLAGS.train_dir,
      hooks=[
        tf.train.StopAtStepHook(last_step=FLAGS.train_steps),
        hooks.LearningRateSetterHook(lrn_rate, [], [FLAGS.learning_rate]),
        tf.train.NanTensorHook(loss),
      ],
    ) as mon_sess:
      while not mon_sess.should_stop():
        xs, ys = data.train.next_batch(BATCH_SIZE)
        _, rate = mon_sess.run(
          [train_op, lrn_rate], feed_dict={images: xs, labels: ys}
        )
        rates.add(round(float(rate), 6))
    print('Learning rates fed:', sorted(rates))


def evaluate(data):
  with tf.Graph().as_default():
    images = tf.placeholder(tf.float32, [None, mnist.IMAGE_PIXELS])
    labels = tf.placeholder(tf.int32, [None])
    logits, _ = build_model(images, labels)
    global_step = tf.train.get_or_create_global_step()
    correct = tf.nn.in_top_k(logits, labels, 1)
    accuracy = tf.reduce_mean(tf.cast(correct, tf.float32))
    saver = tf.train.Saver()
    with tf.Session() as sess:
      checkpoint = tf.train.latest_checkpoint(FLAGS.train_dir)
      saver.restore(sess, checkpoint)
      step = sess.run(global_step)
      score = sess.run(
        accuracy, {images: data.test.images, labels: data.test.labels}
      )
      print('Step %d: test accuracy = %.4f' % (step, score))  # noqa: UP031


def main(argv=None):
  data = input_data.read_data_sets(FLAGS.data_dir, seed=FLAGS.seed)
  train(data)
  evaluate(data)


if __name__ == '__main__':
  tf.app.run()
