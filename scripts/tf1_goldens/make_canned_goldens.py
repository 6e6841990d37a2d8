r"""Goldens for graphnet's premade estimators, made by real TensorFlow 1.15.

Two steps, because scikit-learn may be missing from the TF 1.15 venv:

  1. Under graphnet's venv (TF 2.21, scikit-learn), write the data sets:

       python scripts/tf1_goldens/make_canned_goldens.py \
           --write_data

     tests/goldens/tf1_canned/iris.npz (scikit-learn's Iris split 120/30
     with a fixed permutation) and tabular.npz (a census-like table made
     from a seeded NumPy RandomState: numbers, words and a 0/1 label).

  2. Under TF 1.15 (the oracle), train the premade estimators on them:

       ../tf1venv/bin/python scripts/tf1_goldens/make_canned_goldens.py

     For each model it writes tests/goldens/tf1_canned/<model>/: the last
     checkpoint (.index and .data; the .meta, graph and events are left
     out to keep the goldens small), the `checkpoint` state file,
     `variables.json` ({name: shape} of the checkpoint), `metrics.json`
     (what `evaluate` returned on the eval split) and `predictions.json`
     (what `predict` returned for the first eval rows) and `resumed.json`
     (what `evaluate` returned after resuming the checkpoint and training
     20 more steps on the train split in order: TF1's train op, checked).

Models: `iris_dnn` (DNNClassifier [10, 10] on four numeric_columns, three
classes), `wide_deep` (DNNLinearCombinedClassifier with vocabulary, hash
bucket, crossed, bucketized, embedding and indicator columns), `linear_reg`
(LinearRegressor) and `dnn_reg` (DNNRegressor).
"""

import argparse
import json
import os
import shutil
import sys

import numpy as np

_REPO = os.path.dirname(
  os.path.dirname(os.path.dirname(os.path.abspath(__file__)))
)
GOLDEN_DIR = os.path.join(_REPO, 'tests', 'goldens', 'tf1_canned')
IRIS_FEATURES = ('sepal_length', 'sepal_width', 'petal_length', 'petal_width')
EDUCATION = ('Bachelors', 'HS-grad', 'Masters', 'Doctorate', 'Some-college')
RELATIONSHIP = ('Husband', 'Wife', 'Own-child', 'Unmarried')
OCCUPATIONS = tuple(f'occ-{i}' for i in range(12))
TRAIN_STEPS = 300
RESUME_STEPS = 20
N_PREDICT = 8


def write_data():
  """Writes iris.npz and tabular.npz into GOLDEN_DIR."""
  from sklearn import datasets

  os.makedirs(GOLDEN_DIR, exist_ok=True)
  iris = datasets.load_iris()
  order = np.random.RandomState(0).permutation(len(iris.target))
  x = iris.data[order].astype(np.float32)
  y = iris.target[order].astype(np.int64)
  np.savez(
    os.path.join(GOLDEN_DIR, 'iris.npz'),
    x_train=x[:120],
    y_train=y[:120],
    x_eval=x[120:],
    y_eval=y[120:],
  )
  rng = np.random.RandomState(22)
  n = 1200
  age = np.clip(rng.normal(40.0, 12.0, n), 17, 90).astype(np.float32)
  hours = np.clip(rng.normal(40.0, 10.0, n), 5, 90).astype(np.float32)
  edu = rng.randint(len(EDUCATION), size=n)
  occ = rng.randint(len(OCCUPATIONS), size=n)
  rel = rng.randint(len(RELATIONSHIP), size=n)
  score = (
    0.06 * (age - 40)
    + 0.05 * (hours - 40)
    + np.array([0.8, -0.6, 1.2, 1.6, -0.2])[edu]
    + np.linspace(-1.0, 1.0, len(OCCUPATIONS))[occ]
    + np.array([0.7, 0.5, -1.2, -0.4])[rel]
    + 0.5 * ((edu == 2) & (occ > 8))
  )
  label = (score + rng.logistic(size=n) * 0.7 > 0.3).astype(np.int64)
  target = (0.02 * age + np.array([1.0, 0.0, 1.5, 2.0, 0.5])[edu]).astype(
    np.float32
  ) + rng.normal(0, 0.1, n).astype(np.float32)
  np.savez(
    os.path.join(GOLDEN_DIR, 'tabular.npz'),
    age=age,
    hours=hours,
    education=np.array(EDUCATION, dtype='S')[edu],
    occupation=np.array(OCCUPATIONS, dtype='S')[occ],
    relationship=np.array(RELATIONSHIP, dtype='S')[rel],
    label=label,
    target=target,
  )


def iris_columns(tf):
  return [tf.feature_column.numeric_column(k) for k in IRIS_FEATURES]


def wide_deep_columns(tf):
  """(linear_feature_columns, dnn_feature_columns) of the wide & deep model."""
  fc = tf.feature_column
  education = fc.categorical_column_with_vocabulary_list(
    'education', list(EDUCATION)
  )
  occupation = fc.categorical_column_with_hash_bucket(
    'occupation', hash_bucket_size=20
  )
  relationship = fc.categorical_column_with_vocabulary_list(
    'relationship', list(RELATIONSHIP)
  )
  age = fc.numeric_column('age')
  age_buckets = fc.bucketized_column(age, boundaries=[25, 35, 45, 55, 65])
  wide = [
    education,
    occupation,
    age_buckets,
    fc.crossed_column(['education', 'occupation'], hash_bucket_size=50),
  ]
  deep = [
    age,
    fc.numeric_column('hours'),
    fc.indicator_column(education),
    fc.embedding_column(occupation, dimension=4),
    fc.embedding_column(relationship, dimension=3),
  ]
  return wide, deep


def regression_columns(tf):
  fc = tf.feature_column
  return [
    fc.numeric_column('age'),
    fc.categorical_column_with_vocabulary_list('education', list(EDUCATION)),
  ]


def regression_dnn_columns(tf):
  fc = tf.feature_column
  education = fc.categorical_column_with_vocabulary_list(
    'education', list(EDUCATION)
  )
  return [fc.numeric_column('age'), fc.embedding_column(education, 2)]


def load_iris():
  data = np.load(os.path.join(GOLDEN_DIR, 'iris.npz'))

  def split(x, y):
    return {k: x[:, i] for i, k in enumerate(IRIS_FEATURES)}, y

  return (
    split(data['x_train'], data['y_train']),
    split(data['x_eval'], data['y_eval']),
  )


def load_tabular(label_key):
  data = np.load(os.path.join(GOLDEN_DIR, 'tabular.npz'))
  keys = ('age', 'hours', 'education', 'occupation', 'relationship')
  x = {k: data[k] for k in keys}
  y = data[label_key]
  train = ({k: v[:1000] for k, v in x.items()}, y[:1000])
  evals = ({k: v[1000:] for k, v in x.items()}, y[1000:])
  return train, evals


def build(tf, name, model_dir):
  """(estimator, train data, eval data) of one golden model."""
  config = tf.estimator.RunConfig(tf_random_seed=22)
  est = tf.estimator
  if name == 'iris_dnn':
    model = est.DNNClassifier(
      hidden_units=[10, 10],
      feature_columns=iris_columns(tf),
      n_classes=3,
      model_dir=model_dir,
      config=config,
    )
    return (model,) + load_iris()
  if name == 'wide_deep':
    wide, deep = wide_deep_columns(tf)
    model = est.DNNLinearCombinedClassifier(
      linear_feature_columns=wide,
      dnn_feature_columns=deep,
      dnn_hidden_units=[16, 8],
      model_dir=model_dir,
      config=config,
    )
    return (model,) + load_tabular('label')
  if name == 'linear_reg':
    model = est.LinearRegressor(
      feature_columns=regression_columns(tf),
      model_dir=model_dir,
      config=config,
    )
    return (model,) + load_tabular('target')
  if name == 'dnn_reg':
    model = est.DNNRegressor(
      hidden_units=[8],
      feature_columns=regression_dnn_columns(tf),
      model_dir=model_dir,
      config=config,
    )
    return (model,) + load_tabular('target')
  raise ValueError(name)


MODELS = ('iris_dnn', 'wide_deep', 'linear_reg', 'dnn_reg')


def _jsonable(value):
  if isinstance(value, bytes):
    return value.decode()
  value = np.asarray(value)
  if value.dtype.kind in 'SO':
    return [_jsonable(v) for v in value] if value.ndim else _jsonable(value[()])
  return value.tolist()


def make_golden(tf, name, work_dir):
  model_dir = os.path.join(work_dir, name)
  model, (x, y), (ex, ey) = build(tf, name, model_dir)
  model.train(
    tf.estimator.inputs.numpy_input_fn(
      x, y, batch_size=32, num_epochs=None, shuffle=True
    ),
    steps=TRAIN_STEPS,
  )
  eval_fn = tf.estimator.inputs.numpy_input_fn(
    ex, ey, batch_size=50, num_epochs=1, shuffle=False
  )
  metrics = model.evaluate(eval_fn)
  first = {k: v[:N_PREDICT] for k, v in ex.items()}
  predictions = list(
    model.predict(
      tf.estimator.inputs.numpy_input_fn(first, num_epochs=1, shuffle=False)
    )
  )
  out = os.path.join(GOLDEN_DIR, name)
  shutil.rmtree(out, ignore_errors=True)
  os.makedirs(out)
  prefix = tf.train.latest_checkpoint(model_dir)
  # TF1's Estimator saves sharded: global_step lands in its own shard.
  for path in tf.gfile.Glob(prefix + '.*'):
    if not path.endswith('.meta'):
      shutil.copy(path, out)
  base = os.path.basename(prefix)
  with open(os.path.join(out, 'checkpoint'), 'w') as f:
    f.write(
      f'model_checkpoint_path: "{base}"\nall_model_checkpoint_paths: "{base}"\n'
    )
  names = {n: list(s) for n, s in tf.train.list_variables(model_dir)}
  with open(os.path.join(out, 'variables.json'), 'w') as f:
    json.dump(names, f, indent=1, sort_keys=True)
  with open(os.path.join(out, 'metrics.json'), 'w') as f:
    json.dump(
      {k: _jsonable(v) for k, v in metrics.items()}, f, indent=1, sort_keys=True
    )
  with open(os.path.join(out, 'predictions.json'), 'w') as f:
    json.dump(
      [{k: _jsonable(v) for k, v in p.items()} for p in predictions],
      f,
      indent=1,
      sort_keys=True,
    )
  print(name, metrics)


def make_resumed(tf, name, work_dir):
  """resumed.json: metrics after RESUME_STEPS more steps, unshuffled.

  Resumes a copy of the golden checkpoint (optimizer slots included) and
  trains on the train split in order, so that graphnet, resuming the same
  files, must reach the same numbers if its train op is TF1's.
  """
  model_dir = os.path.join(work_dir, name + '_resumed')
  shutil.rmtree(model_dir, ignore_errors=True)
  shutil.copytree(os.path.join(GOLDEN_DIR, name), model_dir)
  model, (x, y), (ex, ey) = build(tf, name, model_dir)
  model.train(
    tf.estimator.inputs.numpy_input_fn(
      x, y, batch_size=32, num_epochs=None, shuffle=False
    ),
    steps=RESUME_STEPS,
  )
  metrics = model.evaluate(
    tf.estimator.inputs.numpy_input_fn(
      ex, ey, batch_size=50, num_epochs=1, shuffle=False
    )
  )
  with open(os.path.join(GOLDEN_DIR, name, 'resumed.json'), 'w') as f:
    json.dump(
      {k: _jsonable(v) for k, v in metrics.items()},
      f,
      indent=1,
      sort_keys=True,
    )
  print(name, 'resumed', metrics)


def main():
  parser = argparse.ArgumentParser(description=__doc__.split('\n')[0])
  parser.add_argument('--write_data', action='store_true')
  parser.add_argument('--work_dir', default='/tmp/tf1_canned_goldens')
  parser.add_argument('--models', default=','.join(MODELS))
  parser.add_argument(
    '--resumed_only',
    action='store_true',
    help='only (re)write resumed.json from the committed checkpoints',
  )
  args = parser.parse_args()
  if args.write_data:
    write_data()
    return
  import tensorflow as tf

  if not tf.__version__.startswith('1.15'):
    sys.exit(f'Run me under TensorFlow 1.15 (found {tf.__version__}).')
  tf.logging.set_verbosity(tf.logging.ERROR)
  shutil.rmtree(args.work_dir, ignore_errors=True)
  for name in args.models.split(','):
    if not args.resumed_only:
      make_golden(tf, name, args.work_dir)
    make_resumed(tf, name, args.work_dir)


if __name__ == '__main__':
  main()
