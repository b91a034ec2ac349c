"""Row-major vectorization, the convention of the article and of PyTorch.

`vec(M)` lays the rows of `M` one after another in a single row; `devec` undoes it.
"""

import numpy as np


def vec(matrix: np.ndarray) -> np.ndarray:
    """Flatten a matrix to a 1 × size row, row after row.

    >>> vec(np.array([[1, 2], [3, 4]]))
    array([[1, 2, 3, 4]])
    """
    return np.asarray(matrix).reshape(1, -1)


def devec(row: np.ndarray, shape: tuple[int, int]) -> np.ndarray:
    """Fold a 1 × size row back into a matrix of `shape`, filling row after row.

    >>> devec(np.array([[1, 2, 3, 4]]), (2, 2))
    array([[1, 2],
           [3, 4]])
    """
    return np.asarray(row).reshape(shape)
