"""Data: IDX files, download, bundled MNIST, DataSet/Datasets, arrays."""
