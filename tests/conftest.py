"""Fixtures shared by the test modules."""

import pytest

from graphnet.data import mnist_reader as input_data


@pytest.fixture(scope='session')
def data_dir(tmp_path_factory):
  """A directory holding the bundled MNIST IDX files (a pathlib.Path).

  Copied once per test session; tests only read it.
  """
  path = tmp_path_factory.mktemp('mnist_data')
  input_data.read_data_sets(str(path))  # Copies the bundled files.
  return path
