"""Wide & deep on a census-like table, as TF's 2018 `wide_deep` tutorial.

Written for TensorFlow 1.x; only the import line changed
(`import tensorflow as tf` -> `import graphnet.compat.v1 as tf`). The
census CSVs are replaced by a small table of the same kind, stored beside
the goldens (tests/goldens/tf1_canned/tabular.npz: age, hours, education,
occupation, relationship and a 0/1 label; 1000 rows to train, 200 to test).

Usage: python wide_deep.py [--model_type wide_deep] [--train_epochs 20]
"""

import argparse
import os

import numpy as np

import graphnet.compat.v1 as tf

parser = argparse.ArgumentParser()
parser.add_argument('--model_dir', default=None)
parser.add_argument(
  '--model_type', default='wide_deep', choices=['wide', 'deep', 'wide_deep']
)
parser.add_argument('--train_epochs', default=20, type=int)
parser.add_argument('--epochs_between_evals', default=10, type=int)
parser.add_argument('--batch_size', default=40, type=int)
parser.add_argument('--seed', default=1, type=int)
parser.add_argument('--data', default=None, help='the table .npz file')

_DATA = os.path.join(
  os.path.dirname(os.path.abspath(__file__)),
  '..',
  'goldens',
  'tf1_canned',
  'tabular.npz',
)
_NUM_TRAIN = 1000


def build_model_columns():
  """Builds a set of wide and deep feature columns."""
  age = tf.feature_column.numeric_column('age')
  hours_per_week = tf.feature_column.numeric_column('hours')
  education = tf.feature_column.categorical_column_with_vocabulary_list(
    'education',
    ['Bachelors', 'HS-grad', 'Masters', 'Doctorate', 'Some-college'],
  )
  relationship = tf.feature_column.categorical_column_with_vocabulary_list(
    'relationship', ['Husband', 'Wife', 'Own-child', 'Unmarried']
  )
  # To show an example of hashing:
  occupation = tf.feature_column.categorical_column_with_hash_bucket(
    'occupation', hash_bucket_size=100
  )
  # Transformations.
  age_buckets = tf.feature_column.bucketized_column(
    age, boundaries=[18, 25, 30, 35, 40, 45, 50, 55, 60, 65]
  )
  # Wide columns and deep columns.
  base_columns = [education, relationship, occupation, age_buckets]
  crossed_columns = [
    tf.feature_column.crossed_column(
      ['education', 'occupation'], hash_bucket_size=100
    ),
    tf.feature_column.crossed_column(
      [age_buckets, 'education', 'occupation'], hash_bucket_size=100
    ),
  ]
  wide_columns = base_columns + crossed_columns
  deep_columns = [
    age,
    hours_per_week,
    tf.feature_column.indicator_column(education),
    tf.feature_column.indicator_column(relationship),
    # To show an example of embedding
    tf.feature_column.embedding_column(occupation, dimension=8),
  ]
  return wide_columns, deep_columns


def build_estimator(model_dir, model_type, seed):
  """Build an estimator appropriate for the given model type."""
  wide_columns, deep_columns = build_model_columns()
  hidden_units = [100, 75, 50, 25]
  run_config = tf.estimator.RunConfig(tf_random_seed=seed)
  if model_type == 'wide':
    return tf.estimator.LinearClassifier(
      model_dir=model_dir, feature_columns=wide_columns, config=run_config
    )
  if model_type == 'deep':
    return tf.estimator.DNNClassifier(
      model_dir=model_dir,
      feature_columns=deep_columns,
      hidden_units=hidden_units,
      config=run_config,
    )
  return tf.estimator.DNNLinearCombinedClassifier(
    model_dir=model_dir,
    linear_feature_columns=wide_columns,
    dnn_feature_columns=deep_columns,
    dnn_hidden_units=hidden_units,
    config=run_config,
  )


def load_table(path=None):
  data = np.load(path or _DATA)
  keys = ['age', 'hours', 'education', 'occupation', 'relationship']
  train = ({k: data[k][:_NUM_TRAIN] for k in keys}, data['label'][:_NUM_TRAIN])
  test = ({k: data[k][_NUM_TRAIN:] for k in keys}, data['label'][_NUM_TRAIN:])
  return train, test


def input_fn(data, num_epochs, shuffle, batch_size):
  """Generate an input function for the Estimator."""
  features, labels = data
  dataset = tf.data.Dataset.from_tensor_slices((dict(features), labels))
  if shuffle:
    dataset = dataset.shuffle(buffer_size=_NUM_TRAIN)
  dataset = dataset.repeat(num_epochs)
  return dataset.batch(batch_size)


def main(argv):
  flags = parser.parse_args(argv[1:])
  train, test = load_table(flags.data)
  model = build_estimator(flags.model_dir, flags.model_type, flags.seed)

  # Train and evaluate the model every `flags.epochs_between_evals` epochs.
  for n in range(flags.train_epochs // flags.epochs_between_evals):
    model.train(
      input_fn=lambda: input_fn(
        train, flags.epochs_between_evals, True, flags.batch_size
      )
    )
    results = model.evaluate(
      input_fn=lambda: input_fn(test, 1, False, flags.batch_size)
    )
    # Display evaluation metrics
    print('Results at epoch', (n + 1) * flags.epochs_between_evals)
    print('-' * 60)
    for key in sorted(results):
      print('%s: %s' % (key, results[key]))  # noqa: UP031 (as in 2018)


if __name__ == '__main__':
  tf.logging.set_verbosity(tf.logging.INFO)
  tf.app.run(main)
