"""A custom model_fn Estimator reading a tf.data pipeline (as in 2018).

Classifies small MNIST digits (14x14, an npz of x_train/y_train/x_test/
y_test) with a two-layer network built from `tf.get_variable`, trained by
Adam, evaluated with accuracy, top-3 accuracy and mean per-class
accuracy. Only the import line differs from the TF 1.15 program that made
tests/goldens/tf1_estimator (scripts/tf1_goldens/make_estimator_goldens.py
runs this very file under TF 1.15 with `import tensorflow as tf`).

    python estimator_dataset.py --data digits.npz --model_dir /tmp/m \
        --train_steps 300          # trains, evaluates, prints the metrics
    python estimator_dataset.py --data digits.npz --model_dir /tmp/m \
        --train_steps 0            # evaluates only
    TF_CONFIG=... python estimator_dataset.py --data digits.npz \
        --model_dir /tmp/m --train_and_evaluate   # one task of a cluster
"""

import argparse
import json
import sys

import numpy as np

import graphnet.compat.v1 as tf

HIDDEN = 64
CLASSES = 10


def dense(inputs, units, name, activation=None):
  with tf.variable_scope(name):
    kernel = tf.get_variable(
      'kernel',
      [int(inputs.shape[-1]), units],
      initializer=tf.glorot_uniform_initializer(),
    )
    bias = tf.get_variable('bias', [units], initializer=tf.zeros_initializer())
    outputs = tf.nn.bias_add(tf.matmul(inputs, kernel), bias)
  return activation(outputs) if activation else outputs


def model_fn(features, labels, mode, params):
  images = tf.cast(features['image'], tf.float32) / 255.0
  hidden = dense(images, params['hidden'], 'hidden', tf.nn.relu)
  logits = dense(hidden, CLASSES, 'logits')
  classes = tf.argmax(logits, axis=1)
  predictions = {'classes': classes, 'probabilities': tf.nn.softmax(logits)}
  if mode == tf.estimator.ModeKeys.PREDICT:
    return tf.estimator.EstimatorSpec(
      mode,
      predictions=predictions,
      export_outputs={
        'serving_default': tf.estimator.export.PredictOutput(predictions)
      },
    )
  loss = tf.losses.sparse_softmax_cross_entropy(labels, logits)
  if mode == tf.estimator.ModeKeys.EVAL:
    metrics = {
      'accuracy': tf.metrics.accuracy(labels, classes),
      'top_3': tf.metrics.mean(
        tf.cast(tf.nn.in_top_k(logits, labels, 3), tf.float32)
      ),
      'mean_per_class': tf.metrics.mean_per_class_accuracy(
        labels, classes, CLASSES
      ),
    }
    return tf.estimator.EstimatorSpec(mode, loss=loss, eval_metric_ops=metrics)
  optimizer = tf.train.AdamOptimizer(params['learning_rate'])
  train_op = optimizer.minimize(loss, global_step=tf.train.get_global_step())
  return tf.estimator.EstimatorSpec(mode, loss=loss, train_op=train_op)


def train_input_fn(images, labels, batch_size, seed):
  def input_fn():
    data = tf.data.Dataset.from_tensor_slices(({'image': images}, labels))
    return data.shuffle(len(labels), seed=seed).repeat().batch(batch_size)

  return input_fn


def eval_input_fn(images, labels, batch_size=100):
  def input_fn():
    data = tf.data.Dataset.from_tensor_slices(({'image': images}, labels))
    return data.batch(batch_size)

  return input_fn


def make_estimator(model_dir, seed=1):
  config = tf.estimator.RunConfig(
    model_dir=model_dir,
    tf_random_seed=seed,
    save_checkpoints_steps=100,
    log_step_count_steps=100,
  )
  return tf.estimator.Estimator(
    model_fn, config=config, params={'hidden': HIDDEN, 'learning_rate': 3e-3}
  )


def main(argv=None):
  parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
  parser.add_argument('--data', required=True)
  parser.add_argument('--model_dir', required=True)
  parser.add_argument('--train_steps', type=int, default=300)
  parser.add_argument('--batch_size', type=int, default=64)
  parser.add_argument('--seed', type=int, default=1)
  parser.add_argument('--train_and_evaluate', action='store_true')
  parser.add_argument('--throttle_secs', type=int, default=1)
  args = parser.parse_args(argv)
  data = np.load(args.data)
  x_train = data['x_train'].reshape(len(data['x_train']), -1)
  x_test = data['x_test'].reshape(len(data['x_test']), -1)
  y_train = data['y_train'].astype(np.int32)
  y_test = data['y_test'].astype(np.int32)
  estimator = make_estimator(args.model_dir, args.seed)
  if args.train_and_evaluate:
    train_spec = tf.estimator.TrainSpec(
      train_input_fn(x_train, y_train, args.batch_size, args.seed),
      max_steps=args.train_steps,
    )
    eval_spec = tf.estimator.EvalSpec(
      eval_input_fn(x_test, y_test),
      steps=None,
      start_delay_secs=0,
      throttle_secs=args.throttle_secs,
    )
    metrics, _ = tf.estimator.train_and_evaluate(
      estimator, train_spec, eval_spec
    )
    result = {k: float(v) for k, v in (metrics or {}).items()}
    print(json.dumps(result, sort_keys=True))
    return result
  if args.train_steps:
    estimator.train(
      train_input_fn(x_train, y_train, args.batch_size, args.seed),
      steps=args.train_steps,
    )
  metrics = estimator.evaluate(eval_input_fn(x_test, y_test))
  result = {k: float(v) for k, v in metrics.items()}
  print(json.dumps(result, sort_keys=True))
  return result


if __name__ == '__main__':
  tf.logging.set_verbosity(tf.logging.INFO)
  main(sys.argv[1:])
