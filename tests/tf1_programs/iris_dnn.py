"""Iris with a premade DNNClassifier, as TF's 2018 premade-estimator guide.

Written for TensorFlow 1.x; only the import line changed
(`import tensorflow as tf` -> `import graphnet.compat.v1 as tf`). The data
are scikit-learn's Iris, split 120/30 and stored beside the goldens
(tests/goldens/tf1_canned/iris.npz), since the guide's CSV download is
not at hand.

Usage: python iris_dnn.py [--batch_size 100] [--train_steps 1000] [--seed 1]
"""

import argparse
import os

import numpy as np

import graphnet.compat.v1 as tf

parser = argparse.ArgumentParser()
parser.add_argument('--batch_size', default=100, type=int, help='batch size')
parser.add_argument(
  '--train_steps', default=1000, type=int, help='number of training steps'
)
parser.add_argument('--seed', default=1, type=int, help='graph-level seed')
parser.add_argument('--model_dir', default=None, help='where to checkpoint')
parser.add_argument('--data', default=None, help='the iris .npz file')

CSV_COLUMN_NAMES = ['SepalLength', 'SepalWidth', 'PetalLength', 'PetalWidth']
SPECIES = ['Setosa', 'Versicolor', 'Virginica']
_DATA = os.path.join(
  os.path.dirname(os.path.abspath(__file__)),
  '..',
  'goldens',
  'tf1_canned',
  'iris.npz',
)


def load_data(path=None):
  """Returns the iris dataset as (train_x, train_y), (test_x, test_y)."""
  data = np.load(path or _DATA)

  def as_dict(x):
    return {name: x[:, i] for i, name in enumerate(CSV_COLUMN_NAMES)}

  return (as_dict(data['x_train']), data['y_train']), (
    as_dict(data['x_eval']),
    data['y_eval'],
  )


def train_input_fn(features, labels, batch_size):
  """An input function for training."""
  dataset = tf.data.Dataset.from_tensor_slices((dict(features), labels))
  # Shuffle, repeat, and batch the examples.
  return dataset.shuffle(1000).repeat().batch(batch_size)


def eval_input_fn(features, labels, batch_size):
  """An input function for evaluation or prediction."""
  features = dict(features)
  inputs = features if labels is None else (features, labels)
  dataset = tf.data.Dataset.from_tensor_slices(inputs)
  return dataset.batch(batch_size)


def main(argv):
  args = parser.parse_args(argv[1:])
  (train_x, train_y), (test_x, test_y) = load_data(args.data)

  my_feature_columns = []
  for key in train_x.keys():
    my_feature_columns.append(tf.feature_column.numeric_column(key=key))

  # Build 2 hidden layer DNN with 10, 10 units respectively.
  classifier = tf.estimator.DNNClassifier(
    feature_columns=my_feature_columns,
    hidden_units=[10, 10],
    n_classes=3,
    model_dir=args.model_dir,
    config=tf.estimator.RunConfig(tf_random_seed=args.seed),
  )

  classifier.train(
    input_fn=lambda: train_input_fn(train_x, train_y, args.batch_size),
    steps=args.train_steps,
  )

  eval_result = classifier.evaluate(
    input_fn=lambda: eval_input_fn(test_x, test_y, args.batch_size)
  )
  print('\nTest set accuracy: {accuracy:0.3f}\n'.format(**eval_result))

  # Generate predictions from the model
  expected = ['Setosa', 'Versicolor', 'Virginica']
  predict_x = {
    'SepalLength': [5.1, 5.9, 6.9],
    'SepalWidth': [3.3, 3.0, 3.1],
    'PetalLength': [1.7, 4.2, 5.4],
    'PetalWidth': [0.5, 1.5, 2.1],
  }
  predictions = classifier.predict(
    input_fn=lambda: eval_input_fn(predict_x, None, args.batch_size)
  )
  template = '\nPrediction is "{}" ({:.1f}%), expected "{}"'
  for pred_dict, expec in zip(predictions, expected):  # noqa: B905 (TF1 era)
    class_id = pred_dict['class_ids'][0]
    probability = pred_dict['probabilities'][class_id]
    print(template.format(SPECIES[class_id], 100 * probability, expec))


if __name__ == '__main__':
  tf.logging.set_verbosity(tf.logging.INFO)
  tf.app.run(main)
