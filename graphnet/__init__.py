"""graphnet: TensorFlow 1 graph-mode training, kept alive on TensorFlow 2.

`from graphnet import input_data, mnist` is TF1's tutorial API;
`graphnet.train(model, data_sets, log_dir, **options)` and
`graphnet.fit(model, images, labels, epochs)` train any graph-mode model
(e.g. one of `graphnet.layers`) on any data. Importing the package itself
loads nothing (no TensorFlow): those three names load on first use.
The tree is the map (BUILD.md, "Architecture"): `data/`, `nn/`,
`training/`, `checkpoints/`, `distributed/`, `serving/`, `cli/` and
`compat/` (the TF1 namespace); at the top stand only the names users type:
the TF1 drop-ins (`input_data`, `mnist`, `layers`, `hooks`, `predictor`),
the foundations (`errors`, `contract`, `options`) and the entry points.
"""

import importlib

__version__ = '0.1.0'

__all__ = ['train', 'fit', 'layers']

# Public name -> (module, attribute or None for the module itself).
_LAZY = {
  'train': ('graphnet.training.api', 'train'),
  'fit': ('graphnet.training.api', 'fit'),
  'layers': ('graphnet.layers', None),
}


def __getattr__(name):
  """Loads `train`, `fit` and `layers` (and TensorFlow) on first use."""
  if name not in _LAZY:
    raise AttributeError(f'module {__name__!r} has no attribute {name!r}')
  module_name, attribute = _LAZY[name]
  module = importlib.import_module(module_name)
  return module if attribute is None else getattr(module, attribute)
