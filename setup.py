"""Installs graphnet: TF1 graph-mode training on today's TensorFlow."""

import setuptools

_TEST_REQUIRES = [
  'pytest>=7',
  'pytest-timeout>=2.1',
  'pytest-xdist>=3',  # README's test command runs on both cores.
  'tensorboard>=2.16',  # EventAccumulator, the real reader of event files.
  'hypothesis>=6',
  'nbclient>=0.7',
  'nbformat>=5',
  'ipykernel>=6',
  'matplotlib>=3.5',
  'ruff==0.17.6',  # Pinned: test_style checks its exact formatting.
  'scikit-learn>=1.0',  # Its bundled UCI digits: real data, offline.
  'pandas>=1.5',  # tf.estimator.inputs.pandas_input_fn is tested.
]

setuptools.setup(
  name='graphnet',
  version='0.1.0',
  description=(
    'TensorFlow 1 graph-mode training (placeholders, variable scopes, '
    'MonitoredTrainingSession, Saver) kept alive on TensorFlow 2.'
  ),
  long_description=open('README.md', encoding='utf-8').read(),
  long_description_content_type='text/markdown',
  license='Apache-2.0',
  python_requires='>=3.10',
  packages=setuptools.find_packages(include=['graphnet', 'graphnet.*']),
  package_data={'graphnet': ['data/mnist/*.gz', 'data/mnist/README.md']},
  include_package_data=True,
  install_requires=[
    'tensorflow>=2.16',
    'numpy>=1.23',
    'absl-py>=1.0',
  ],
  extras_require={
    'test': _TEST_REQUIRES,
    'gpu': ['tensorflow[and-cuda]>=2.16'],
    'bench': ['torch'],
  },
  entry_points={
    'console_scripts': [
      'graphnet-train=graphnet.fully_connected_feed:run',
      'graphnet-eval=graphnet.mnist_eval:run',
      'graphnet-predict=graphnet.predict:run',
      'graphnet-export=graphnet.export:run',
    ],
  },
)
