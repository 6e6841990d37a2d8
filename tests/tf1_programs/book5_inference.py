"""The book's chapter-5 `mnist_inference.py`: the network, shared by the
trainer (book5_train.py) and the evaluator (book5_eval.py).

One hidden layer of 500 ReLU units; the weights come from
`tf.get_variable` in the variable scopes 'layer1' and 'layer2', so the
evaluator rebuilds the same names; a regularizer, when given, puts each
weight matrix's penalty in the 'losses' collection. Only the import line
differs from the TF1 program (`import tensorflow as tf`).
"""

import graphnet.compat.v1 as tf

INPUT_NODE = 784
OUTPUT_NODE = 10
LAYER1_NODE = 500


def get_weight_variable(shape, regularizer):
  weights = tf.get_variable(
    'weights', shape, initializer=tf.truncated_normal_initializer(stddev=0.1)
  )
  if regularizer != None:  # noqa: E711 (the book's own test)
    tf.add_to_collection('losses', regularizer(weights))
  return weights


def inference(input_tensor, regularizer):
  with tf.variable_scope('layer1'):
    weights = get_weight_variable([INPUT_NODE, LAYER1_NODE], regularizer)
    biases = tf.get_variable(
      'biases', [LAYER1_NODE], initializer=tf.constant_initializer(0.0)
    )
    layer1 = tf.nn.relu(tf.matmul(input_tensor, weights) + biases)

  with tf.variable_scope('layer2'):
    weights = get_weight_variable([LAYER1_NODE, OUTPUT_NODE], regularizer)
    biases = tf.get_variable(
      'biases', [OUTPUT_NODE], initializer=tf.constant_initializer(0.0)
    )
    layer2 = tf.matmul(layer1, weights) + biases

  return layer2
