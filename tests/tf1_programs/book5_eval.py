"""The book's chapter-5 `mnist_eval.py`: a separate process evaluating the
trainer's latest checkpoint with the moving averages restored in place of
the variables (`ExponentialMovingAverage.variables_to_restore`).

Every `--eval_interval_secs` it restores the newest checkpoint of
`--model_dir` and prints the validation accuracy, as the book's loop; it
stops after `--max_evals` evaluations (0: never, as the book), or when the
checkpoint it finds is the trainer's last one, then also printing the
test accuracy. With no checkpoint yet it waits (the book's returned), so
that it can start beside the trainer. Only the import lines differ from
the TF1 program.

    python book5_eval.py --data_dir /tmp/data --model_dir /tmp/model
"""

import time

import book5_inference
import book5_train

import graphnet.compat.v1 as tf
from graphnet import input_data

flags = tf.app.flags
flags.DEFINE_integer('eval_interval_secs', 10, 'Seconds between evaluations.')
flags.DEFINE_integer('max_evals', 0, 'Evaluations before stopping (0: never).')
FLAGS = flags.FLAGS


def evaluate(mnist):
  with tf.Graph().as_default():
    x = tf.placeholder(
      tf.float32, [None, book5_inference.INPUT_NODE], name='x-input'
    )
    y_ = tf.placeholder(
      tf.float32, [None, book5_inference.OUTPUT_NODE], name='y-input'
    )
    validate_feed = {x: mnist.validation.images, y_: mnist.validation.labels}
    test_feed = {x: mnist.test.images, y_: mnist.test.labels}

    y = book5_inference.inference(x, None)
    correct_prediction = tf.equal(tf.argmax(y, 1), tf.argmax(y_, 1))
    accuracy = tf.reduce_mean(tf.cast(correct_prediction, tf.float32))

    variable_averages = tf.train.ExponentialMovingAverage(
      book5_train.MOVING_AVERAGE_DECAY
    )
    variables_to_restore = variable_averages.variables_to_restore()
    saver = tf.train.Saver(variables_to_restore)

    evaluations = 0
    while True:
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
          evaluations += 1
          if int(global_step) >= FLAGS.training_steps:
            test_score = sess.run(accuracy, feed_dict=test_feed)
            print('test accuracy = %g' % test_score)  # noqa: UP031
            return
          if FLAGS.max_evals and evaluations >= FLAGS.max_evals:
            return
        else:
          print('No checkpoint file found')
      time.sleep(FLAGS.eval_interval_secs)


def main(argv=None):
  mnist = input_data.read_data_sets(FLAGS.data_dir, one_hot=True)
  evaluate(mnist)


if __name__ == '__main__':
  tf.app.run()
