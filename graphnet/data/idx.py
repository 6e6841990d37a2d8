"""Reads, validates and writes gzipped IDX files (the MNIST file format).

An IDX file is big-endian: a 4-byte magic number (2051 for images, 2049 for
labels), one 4-byte count per dimension, then the unsigned bytes. MNIST
ships them gzip-compressed. Readers here validate the structure fully and
raise `graphnet.errors.DataFormatError` (a `ValueError`) naming the file for
every problem, never a bare zlib, struct, numpy or EOF error. They never
allocate more than the file can hold, so a hostile file fails fast.

Images of any size are read (the size comes from the header); labels are
checked against a class count (MNIST's 10 unless told otherwise).

Example:
  images = idx.read_idx_images('/tmp/mnist/t10k-images-idx3-ubyte.gz')
  labels = idx.read_idx_labels('/tmp/mnist/t10k-labels-idx1-ubyte.gz')
  images.shape, labels.shape  # ((10000, 28, 28, 1), (10000,))
  idx.write_idx_labels('/tmp/tiny-labels-idx1-ubyte.gz', labels[:10])
"""

import gzip
import hashlib
import os
import struct
import zlib

import numpy as np

from graphnet import contract
from graphnet import errors
from graphnet.data import checks
from graphnet.data import read_ahead as read_ahead_lib
from graphnet.data import temp_files

__all__ = [
  'IMAGES_MAGIC',
  'LABELS_MAGIC',
  'read_ahead',
  'read_idx_images',
  'read_idx_labels',
  'write_idx_images',
  'write_idx_labels',
  'md5_of_decompressed',
]

IMAGES_MAGIC = 2051  # 0x00000803: unsigned bytes, 3 dimensions.
LABELS_MAGIC = 2049  # 0x00000801: unsigned bytes, 1 dimension.

_GZIP_MAGIC = b'\x1f\x8b'
# Deflate cannot expand a stream by more than about 1032:1; a header that
# declares more bytes than that bound is a lie, found without inflating.
_MAX_DEFLATE_RATIO = 1100
_GZIP_SLACK = 1024
_HASH_CHUNK = 1 << 22


def _read_file(path):
  """Returns the raw bytes of `path`, or raises DataError naming it."""
  try:
    with open(path, 'rb') as f:
      return f.read()
  except FileNotFoundError:
    raise errors.DataError(
      f'{path}: file not found; expected a gzipped IDX file there.',
      path=path,
    ) from None
  except OSError as e:
    raise errors.DataError(
      f'{path}: cannot read the file ({e.strerror or e}).', path=path
    ) from None


def _read_source(source):
  """Returns (name, raw bytes) of a path or of an open binary file object.

  A file object (TF1's `extract_images(f)` takes one) is named by its
  `name` attribute in messages, or by its repr when it has none.
  """
  if not hasattr(source, 'read'):
    return source, _read_file(source)
  name = _name(source)
  try:
    raw = source.read()
  except OSError as e:
    raise errors.DataError(
      f'{name}: cannot read the file ({e.strerror or e}).', path=name
    ) from None
  if not isinstance(raw, bytes):
    raise errors.DataError(
      f'{name}: expected a file opened in binary mode (rb), found one '
      f'that reads {type(raw).__name__}.',
      path=name,
    )
  return name, raw


def _check_gzip(path, raw):
  """Raises DataFormatError unless `raw` starts like a gzip stream."""
  if not raw:
    raise errors.DataFormatError(
      f'{path}: the file is empty; expected a gzipped IDX file.', path=path
    )
  if raw[:2] != _GZIP_MAGIC:
    raise errors.DataFormatError(
      f'{path}: not a gzip file: expected the gzip magic bytes 1f 8b, '
      f'found {raw[:2].hex(" ") or "nothing"}. IDX files must be gzipped.',
      path=path,
    )


def _inflate(path, decomp, data, max_length):
  """Inflates up to `max_length` bytes, turning zlib errors into ours."""
  try:
    return decomp.decompress(data, max_length)
  except zlib.error as e:
    raise errors.DataFormatError(
      f'{path}: corrupt gzip data ({e}); the file is damaged or not a '
      'gzipped IDX file.',
      path=path,
    ) from None


def _read_idx(source, magic, num_dims):
  """Decompresses and validates one IDX file (see `_parse_idx`).

  Args:
    source: a gzipped IDX file: a path or an open binary file object.
    magic: the expected magic number.
    num_dims: how many dimension sizes follow the magic number.

  Raises:
    DataError: the file cannot be read.
  """
  path, raw = _read_source(source)
  ahead = read_ahead_lib.take(raw, (magic, num_dims))
  if ahead is not None:
    return ahead
  return _parse_idx(path, raw, (magic, num_dims))


def _parse_idx(path, raw, kind):
  """Decompresses and validates the bytes of one IDX file.

  Args:
    path: how messages name the file.
    raw: the file's bytes (gzip).
    kind: (magic, num_dims): the expected magic number and how many
      dimension sizes follow it.

  Returns:
    (dims, payload): the declared dimension sizes (tuple of ints) and the
    decompressed data after the header (bytes, exactly prod(dims) long).

  Raises:
    DataFormatError: the file is empty, not gzip, corrupt, truncated, has a
      wrong magic number, or holds fewer or more bytes than declared.
  """
  magic, num_dims = kind
  _check_gzip(path, raw)
  header_len = 4 * (1 + num_dims)
  decomp = zlib.decompressobj(16 + zlib.MAX_WBITS)
  header = _inflate(path, decomp, raw, header_len)
  # The magic number is checked first: a file of the other kind is the
  # likelier mistake than a truncated one, and deserves that message.
  if len(header) >= 4:
    (found_magic,) = struct.unpack('>I', header[:4])
    if found_magic != magic:
      raise errors.DataFormatError(
        f'{path}: wrong IDX magic number: expected {magic}, found '
        f'{found_magic}.',
        path=path,
      )
  if len(header) < header_len:
    state = (
      'the gzip stream is truncated'
      if not decomp.eof
      else 'the decompressed file ends there'
    )
    raise errors.DataFormatError(
      f'{path}: expected a {header_len}-byte IDX header, found only '
      f'{len(header)} bytes ({state}).',
      path=path,
    )
  dims = struct.unpack(f'>{num_dims}I', header[4:])
  expected = 1
  for d in dims:
    expected *= d
  # Compared before inflating the payload, so a header claiming 10**9
  # images is rejected at once instead of exhausting memory.
  limit = len(raw) * _MAX_DEFLATE_RATIO + _GZIP_SLACK
  if expected > limit:
    raise errors.DataFormatError(
      f'{path}: the header declares {dims} items ({expected} bytes), but a '
      f'{len(raw)}-byte gzip file can hold at most about {limit} bytes; '
      'the header is wrong or the file is truncated.',
      path=path,
    )
  # One byte more than declared reveals trailing data without inflating it.
  payload = _inflate(path, decomp, decomp.unconsumed_tail, expected + 1)
  if len(payload) > expected:
    raise errors.DataFormatError(
      f'{path}: trailing data: the header declares {dims} items '
      f'({expected} bytes) but the file holds more; expected exactly '
      f'{header_len + expected} decompressed bytes.',
      path=path,
    )
  if not decomp.eof:
    raise errors.DataFormatError(
      f'{path}: the gzip stream is truncated: expected {expected} data '
      f'bytes after the header and a gzip trailer, it ends after '
      f'{len(payload)} data bytes.',
      path=path,
    )
  if len(payload) < expected:
    raise errors.DataFormatError(
      f'{path}: the IDX data is shorter than the header says: header '
      f'declares {dims} items ({expected} bytes), found {len(payload)} '
      'bytes.',
      path=path,
    )
  if decomp.unused_data:
    raise errors.DataFormatError(
      f'{path}: trailing data: {len(decomp.unused_data)} bytes follow the '
      'end of the gzip stream; expected nothing after it.',
      path=path,
    )
  return tuple(dims), payload


def read_ahead(files):
  """Starts inflating gzipped IDX files on a thread (see `read_ahead`).

  Later reads of files holding exactly these bytes reuse the result.

  Args:
    files: (path, magic) pairs, magic IMAGES_MAGIC or LABELS_MAGIC, in the
      order they will be read.

  Returns:
    the reading thread, or None when no file could be found.
  """
  dims = {IMAGES_MAGIC: 3, LABELS_MAGIC: 1}
  return read_ahead_lib.start(
    [(path, (magic, dims[magic])) for path, magic in files], _parse_idx
  )


def read_idx_images(path, rows=None, cols=None):
  """Reads a gzipped IDX image file of any image size.

  Args:
    path: a gzipped IDX3 file (magic 2051): a path, or an open binary file
      object (as TF1's `extract_images` took).
    rows: the image height the file must declare, or None for any.
    cols: the image width the file must declare, or None for any.

  Returns:
    A read-only, C-contiguous uint8 array of shape [N, rows, cols, 1] with
    the raw pixel values 0..255; rows and cols as the file declares them.

  Raises:
    DataError: the file is missing or unreadable.
    DataFormatError: the file is not a well-formed gzipped IDX image file
      or its images are not rows x cols (when those are given).
  """
  (count, found_rows, found_cols), payload = _read_idx(path, IMAGES_MAGIC, 3)
  want_rows = found_rows if rows is None else rows
  want_cols = found_cols if cols is None else cols
  if (found_rows, found_cols) != (want_rows, want_cols):
    raise errors.DataFormatError(
      f'{_name(path)}: expected {want_rows}x{want_cols} images, found '
      f'{found_rows}x{found_cols}.',
      path=_name(path),
    )
  images = np.frombuffer(payload, dtype=np.uint8)
  return images.reshape(count, found_rows, found_cols, 1)


def read_idx_labels(path, num_classes=contract.NUM_CLASSES):
  """Reads a gzipped IDX label file.

  Args:
    path: a gzipped IDX1 file (magic 2049): a path, or an open binary file
      object (as TF1's `extract_labels` took).
    num_classes: labels must be in 0..num_classes-1 (MNIST's 10 by
      default); None accepts every byte value, for data sets whose class
      count is read from the labels.

  Returns:
    A read-only uint8 array of shape [N].

  Raises:
    DataError: the file is missing or unreadable.
    DataFormatError: the file is not a well-formed gzipped IDX label file
      or holds a label >= num_classes.
  """
  _, payload = _read_idx(path, LABELS_MAGIC, 1)
  labels = np.frombuffer(payload, dtype=np.uint8)
  if num_classes is None:
    return labels
  found = checks.first_bad(labels, labels >= num_classes, 'bad labels')
  if found:
    raise errors.DataFormatError(
      f'{_name(path)}: labels must be in 0..{num_classes - 1} '
      f'({num_classes} classes); {found}.',
      path=_name(path),
    )
  return labels


def _name(source):
  """How messages name a path or a file object."""
  if not hasattr(source, 'read'):
    return source
  return getattr(source, 'name', None) or repr(source)


def md5_of_decompressed(path):
  """Returns the MD5 hex digest of a gzip file's decompressed content.

  Args:
    path: path of a gzip file.

  Returns:
    The 32-character lowercase hex MD5 digest (str).

  Raises:
    DataError: the file is missing or unreadable.
    DataFormatError: the file is empty, not gzip, corrupt or truncated.
  """
  raw = _read_file(path)
  _check_gzip(path, raw)
  decomp = zlib.decompressobj(16 + zlib.MAX_WBITS)
  digest = hashlib.md5()
  data = raw
  # Bounded chunks keep memory flat even for a gzip bomb.
  while not decomp.eof:
    chunk = _inflate(path, decomp, data, _HASH_CHUNK)
    digest.update(chunk)
    data = decomp.unconsumed_tail
    if not chunk and not data:
      break
  if not decomp.eof:
    raise errors.DataFormatError(
      f'{path}: the gzip stream is truncated; expected a complete gzip file.',
      path=path,
    )
  return digest.hexdigest()


def _write_gzip_atomically(path, chunks):
  """Writes gzip-compressed `chunks` to `path` via a temp file."""
  path = os.fspath(path)
  directory = os.path.dirname(os.path.abspath(path))
  fd, tmp = temp_files.create_temp_file(directory, os.path.basename(path))
  try:
    with os.fdopen(fd, 'wb') as f:
      # mtime=0 makes the output byte-for-byte reproducible.
      with gzip.GzipFile(fileobj=f, mode='wb', compresslevel=6, mtime=0) as g:
        for chunk in chunks:
          g.write(chunk)
    os.replace(tmp, path)
  except BaseException:
    try:
      os.remove(tmp)
    except OSError:
      pass
    raise


def _as_uint8(array, name):
  """Returns `array` as a C-contiguous uint8 array or raises DataError."""
  array = np.asarray(array)
  if array.dtype != np.uint8:
    raise errors.DataError(
      f'{name}: expected a uint8 array, found dtype {array.dtype}.'
    )
  return np.ascontiguousarray(array)


def write_idx_images(path, images):
  """Writes images as a gzipped IDX3 file (atomically).

  Args:
    path: destination file; replaced if it exists.
    images: uint8 array [N, rows, cols] or [N, rows, cols, 1]. Any image
      size is written, so tests can build files that readers must reject.

  Raises:
    DataError: `images` is not uint8 or has the wrong rank.
    OSError: the file cannot be written.
  """
  images = _as_uint8(images, 'images')
  if images.ndim == 4 and images.shape[3] == 1:
    images = images[..., 0]
  if images.ndim != 3:
    raise errors.DataError(
      'images: expected shape [N, rows, cols] or [N, rows, cols, 1], '
      f'found {images.shape}.'
    )
  header = struct.pack('>4I', IMAGES_MAGIC, *images.shape)
  _write_gzip_atomically(path, [header, images.tobytes()])


def write_idx_labels(path, labels):
  """Writes labels as a gzipped IDX1 file (atomically).

  Args:
    path: destination file; replaced if it exists.
    labels: uint8 array [N]. Values are not range-checked, so tests can
      build files that readers must reject.

  Raises:
    DataError: `labels` is not a uint8 vector.
    OSError: the file cannot be written.
  """
  labels = _as_uint8(labels, 'labels')
  if labels.ndim != 1:
    raise errors.DataError(f'labels: expected shape [N], found {labels.shape}.')
  header = struct.pack('>2I', LABELS_MAGIC, labels.shape[0])
  _write_gzip_atomically(path, [header, labels.tobytes()])
