"""TF1's "Build a CNN with Estimators" tutorial (cnn_mnist.py, 2018).

Two convolution + max-pooling layers, a dense layer with dropout and a
softmax over the 10 digits, written with `tf.layers` in a `model_fn`, fed
by `tf.estimator.inputs.numpy_input_fn`. Only the two import lines
(`tensorflow` and the tutorials' `input_data`) differ from the program
run under TF 1.15 (scripts/estimator_accuracy.py runs both).

    python estimator_cnn.py --data_dir /tmp/data --model_dir /tmp/cnn \
        --steps 1000
"""

import argparse
import json
import sys

import numpy as np

import graphnet.compat.v1 as tf
from graphnet import input_data


def cnn_model_fn(features, labels, mode, params):
  input_layer = tf.reshape(features['x'], [-1, 28, 28, 1])
  conv1 = tf.layers.conv2d(
    inputs=input_layer,
    filters=params['conv1'],
    kernel_size=[5, 5],
    padding='same',
    activation=tf.nn.relu,
  )
  pool1 = tf.layers.max_pooling2d(inputs=conv1, pool_size=[2, 2], strides=2)
  conv2 = tf.layers.conv2d(
    inputs=pool1,
    filters=params['conv2'],
    kernel_size=[5, 5],
    padding='same',
    activation=tf.nn.relu,
  )
  pool2 = tf.layers.max_pooling2d(inputs=conv2, pool_size=[2, 2], strides=2)
  pool2_flat = tf.reshape(pool2, [-1, 7 * 7 * params['conv2']])
  dense = tf.layers.dense(
    inputs=pool2_flat, units=params['dense'], activation=tf.nn.relu
  )
  dropout = tf.layers.dropout(
    inputs=dense, rate=0.4, training=mode == tf.estimator.ModeKeys.TRAIN
  )
  logits = tf.layers.dense(inputs=dropout, units=10)

  predictions = {
    'classes': tf.argmax(input=logits, axis=1),
    'probabilities': tf.nn.softmax(logits, name='softmax_tensor'),
  }
  if mode == tf.estimator.ModeKeys.PREDICT:
    return tf.estimator.EstimatorSpec(mode=mode, predictions=predictions)

  loss = tf.losses.sparse_softmax_cross_entropy(labels=labels, logits=logits)
  if mode == tf.estimator.ModeKeys.TRAIN:
    optimizer = tf.train.GradientDescentOptimizer(
      learning_rate=params['learning_rate']
    )
    train_op = optimizer.minimize(
      loss=loss, global_step=tf.train.get_global_step()
    )
    return tf.estimator.EstimatorSpec(mode=mode, loss=loss, train_op=train_op)

  eval_metric_ops = {
    'accuracy': tf.metrics.accuracy(
      labels=labels, predictions=predictions['classes']
    )
  }
  return tf.estimator.EstimatorSpec(
    mode=mode, loss=loss, eval_metric_ops=eval_metric_ops
  )


def main(argv=None):
  parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
  parser.add_argument('--data_dir', default='/tmp/mnist_data')
  parser.add_argument('--model_dir', default='/tmp/mnist_convnet_model')
  parser.add_argument('--steps', type=int, default=20000)
  parser.add_argument('--batch_size', type=int, default=100)
  parser.add_argument('--learning_rate', type=float, default=0.001)
  parser.add_argument('--conv1', type=int, default=32)
  parser.add_argument('--conv2', type=int, default=64)
  parser.add_argument('--dense', type=int, default=1024)
  parser.add_argument('--train_size', type=int, default=None)
  parser.add_argument('--eval_size', type=int, default=None)
  parser.add_argument('--seed', type=int, default=1)
  args = parser.parse_args(argv)

  mnist = input_data.read_data_sets(args.data_dir)
  train_data = mnist.train.images[: args.train_size]
  train_labels = np.asarray(mnist.train.labels, dtype=np.int32)[
    : args.train_size
  ]
  eval_data = mnist.test.images[: args.eval_size]
  eval_labels = np.asarray(mnist.test.labels, dtype=np.int32)[: args.eval_size]

  classifier = tf.estimator.Estimator(
    model_fn=cnn_model_fn,
    model_dir=args.model_dir,
    config=tf.estimator.RunConfig(tf_random_seed=args.seed),
    params={
      'conv1': args.conv1,
      'conv2': args.conv2,
      'dense': args.dense,
      'learning_rate': args.learning_rate,
    },
  )
  tensors_to_log = {'probabilities': 'softmax_tensor'}
  logging_hook = tf.train.LoggingTensorHook(
    tensors=tensors_to_log, every_n_iter=max(args.steps, 1)
  )
  train_input_fn = tf.estimator.inputs.numpy_input_fn(
    x={'x': train_data},
    y=train_labels,
    batch_size=args.batch_size,
    num_epochs=None,
    shuffle=True,
  )
  classifier.train(
    input_fn=train_input_fn, steps=args.steps, hooks=[logging_hook]
  )
  eval_input_fn = tf.estimator.inputs.numpy_input_fn(
    x={'x': eval_data}, y=eval_labels, num_epochs=1, shuffle=False
  )
  eval_results = classifier.evaluate(input_fn=eval_input_fn)
  result = {k: float(v) for k, v in eval_results.items()}
  print(json.dumps(result, sort_keys=True))
  return result


if __name__ == '__main__':
  tf.logging.set_verbosity(tf.logging.INFO)
  main(sys.argv[1:])
