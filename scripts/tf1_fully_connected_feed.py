r"""The TF1 Mechanics 101 program, as the whole-job benchmark's contender.

What TensorFlow 1's `tutorials/mnist/fully_connected_feed.py` did, written
again on `tf.compat.v1` so that `scripts/benchmark.py --whole_job` can time
it against `python -m graphnet.fully_connected_feed` with the same settings:

  * the same MNIST, read with `graphnet.input_data.read_data_sets` (data
    loading counts for both);
  * a 784-128-32-10 ReLU network built with `tf.Variable`s in name scopes,
    mean sparse cross-entropy, plain SGD at 0.01, batches of 100 fed
    through fixed-shape placeholders with `feed_dict` into a `tf.Session`;
  * every 100 steps: print `Step %d: loss = %.2f (%.3f sec)` and write the
    `loss` summary with a `FileWriter`;
  * every 1000 steps and at the last step: save a checkpoint with a
    `tf.train.Saver`, then evaluate train, validation and test in batches
    of `batch_size` drawn with `next_batch` (TF1's `do_eval`, which counts
    only whole batches) and print TF1's `Num examples: ...` lines.

Unlike TF1 it does not delete `--log_dir` first (the benchmark always gives
a fresh one).

Usage:
  python scripts/tf1_fully_connected_feed.py --max_steps 2000 \
      --log_dir /tmp/tf1-logs --input_data_dir /tmp/mnist
"""

import argparse
import math
import os
import sys
import time

# As graphnet's entry point does, before TensorFlow is imported: the same
# start-up chatter is hidden for both contenders.
os.environ.setdefault('TF_CPP_MIN_LOG_LEVEL', '1')

import tensorflow.compat.v1 as tf  # noqa: E402

_REPO = os.path.dirname(os.path.dirname(os.path.abspath(__file__)))
# Run from a checkout without installing graphnet.
sys.path.insert(0, _REPO)

from graphnet.contract import IMAGE_PIXELS  # noqa: E402
from graphnet.contract import NUM_CLASSES  # noqa: E402
from graphnet.data import mnist_reader as input_data  # noqa: E402

_ROOT = os.getenv('TEST_TMPDIR', '/tmp')
_LOG_EVERY = 100
_EVAL_EVERY = 1000


def placeholder_inputs(batch_size):
  """(images float32 [batch_size, 784], labels int32 [batch_size])."""
  images = tf.placeholder(tf.float32, shape=(batch_size, IMAGE_PIXELS))
  labels = tf.placeholder(tf.int32, shape=(batch_size,))
  return images, labels


def _dense(inputs, fan_in, units, scope):
  """The affine layer `inputs @ weights + biases`: [batch, units]."""
  with tf.name_scope(scope):
    weights = tf.Variable(
      tf.truncated_normal([fan_in, units], stddev=1.0 / math.sqrt(fan_in)),
      name='weights',
    )
    biases = tf.Variable(tf.zeros([units]), name='biases')
    return tf.matmul(inputs, weights) + biases


def inference(images, hidden1_units, hidden2_units):
  """Logits float32 [batch, 10] of the two-hidden-layer ReLU network."""
  hidden1 = tf.nn.relu(_dense(images, IMAGE_PIXELS, hidden1_units, 'hidden1'))
  hidden2 = tf.nn.relu(_dense(hidden1, hidden1_units, hidden2_units, 'hidden2'))
  return _dense(hidden2, hidden2_units, NUM_CLASSES, 'softmax_linear')


def loss(logits, labels):
  """Mean sparse softmax cross-entropy, float32 scalar."""
  return tf.losses.sparse_softmax_cross_entropy(
    labels=tf.cast(labels, tf.int64), logits=logits
  )


def training(loss_tensor, learning_rate):
  """The SGD step that also counts `global_step`; adds the loss summary."""
  tf.summary.scalar('loss', loss_tensor)
  optimizer = tf.train.GradientDescentOptimizer(learning_rate)
  global_step = tf.Variable(0, name='global_step', trainable=False)
  return optimizer.minimize(loss_tensor, global_step=global_step)


def evaluation(logits, labels):
  """int32 scalar: the examples of the batch whose top-1 class is right."""
  correct = tf.nn.in_top_k(logits, labels, 1)
  return tf.reduce_sum(tf.cast(correct, tf.int32))


def fill_feed_dict(data_set, images_pl, labels_pl, batch_size):
  """The feed of the next `batch_size` examples of `data_set`."""
  images_feed, labels_feed = data_set.next_batch(batch_size)
  return {images_pl: images_feed, labels_pl: labels_feed}


def do_eval(sess, eval_correct, images_pl, labels_pl, data_set, batch_size):
  """Counts right answers over the whole batches of one epoch; prints it."""
  steps_per_epoch = data_set.num_examples // batch_size
  num_examples = steps_per_epoch * batch_size
  true_count = 0
  for _ in range(steps_per_epoch):
    feed = fill_feed_dict(data_set, images_pl, labels_pl, batch_size)
    true_count += sess.run(eval_correct, feed_dict=feed)
  precision = float(true_count) / num_examples
  print(
    f'Num examples: {num_examples}  Num correct: {true_count}  '
    f'Precision @ 1: {precision:0.04f}'
  )


def run_training(args):
  """Trains `args.max_steps` steps, as TF1's `run_training` did."""
  data_sets = input_data.read_data_sets(args.input_data_dir)
  with tf.Graph().as_default():
    images_pl, labels_pl = placeholder_inputs(args.batch_size)
    logits = inference(images_pl, args.hidden1, args.hidden2)
    loss_tensor = loss(logits, labels_pl)
    train_op = training(loss_tensor, args.learning_rate)
    eval_correct = evaluation(logits, labels_pl)
    summary = tf.summary.merge_all()
    init = tf.global_variables_initializer()
    saver = tf.train.Saver()
    sess = tf.Session()
    summary_writer = tf.summary.FileWriter(args.log_dir, sess.graph)
    sess.run(init)
    checkpoint_file = os.path.join(args.log_dir, 'model.ckpt')
    evaluated = (
      ('Training', data_sets.train),
      ('Validation', data_sets.validation),
      ('Test', data_sets.test),
    )
    for step in range(args.max_steps):
      start_time = time.time()
      feed = fill_feed_dict(
        data_sets.train, images_pl, labels_pl, args.batch_size
      )
      _, loss_value = sess.run([train_op, loss_tensor], feed_dict=feed)
      duration = time.time() - start_time
      if step % _LOG_EVERY == 0:
        print(f'Step {step}: loss = {loss_value:.2f} ({duration:.3f} sec)')
        summary_writer.add_summary(sess.run(summary, feed_dict=feed), step)
        summary_writer.flush()
      if (step + 1) % _EVAL_EVERY == 0 or step + 1 == args.max_steps:
        saver.save(sess, checkpoint_file, global_step=step)
        for title, data_set in evaluated:
          print(f'{title} Data Eval:')
          do_eval(
            sess, eval_correct, images_pl, labels_pl, data_set, args.batch_size
          )
    summary_writer.close()
    sess.close()


def _parse_args(argv):
  parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
  parser.add_argument('--learning_rate', type=float, default=0.01)
  parser.add_argument('--max_steps', type=int, default=2000)
  parser.add_argument('--hidden1', type=int, default=128)
  parser.add_argument('--hidden2', type=int, default=32)
  parser.add_argument('--batch_size', type=int, default=100)
  parser.add_argument(
    '--input_data_dir',
    default=os.path.join(_ROOT, 'tensorflow/mnist/input_data'),
  )
  parser.add_argument(
    '--log_dir',
    default=os.path.join(_ROOT, 'tensorflow/mnist/logs/tf1_feed'),
  )
  args = parser.parse_args(argv)
  if args.max_steps < 1 or args.batch_size < 1:
    parser.error('--max_steps and --batch_size must be >= 1.')
  return args


def main(argv=None):
  args = _parse_args(argv)
  os.makedirs(args.log_dir, exist_ok=True)
  run_training(args)


if __name__ == '__main__':
  main()
