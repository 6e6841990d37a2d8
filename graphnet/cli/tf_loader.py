"""`graphnet.tf_loader` under its earlier name, for callers not yet moved.

The loader lives at the top of the package (`graphnet/tf_loader.py`), where
every layer may import it; `graphnet.compat.v1` and its tests still import
it from here.
"""

from graphnet.tf_loader import DEFERRED_MODULES
from graphnet.tf_loader import import_tensorflow

__all__ = ['DEFERRED_MODULES', 'import_tensorflow']
