"""Dispatch rows of the decompositions (docs/numpy-support.md, "Linear algebra"): QR, SVD,
svdvals, lstsq, pinv through np.linalg and scipy.linalg.  The matrices keep LAPACK's signs fixed
over the differences' stencil (tests/test_decompositions.py has every keyword variant)."""

import numpy as np

D = "fd"
ARGUMENTS = {
    "tall43": np.array([[0.4, 1.2, 0.8], [-0.8, -0.6, 1.1], [-1.5, 1.0, 0.9],
                        [-0.1, -0.6, -0.7]]),
    "wide34": np.array([[-0.7, -0.2, 0.0, 0.2], [1.5, 0.9, 0.4, 1.5], [-0.9, -1.0, 0.3, -1.4]]),
}
CONSTANTS = {"B4": np.array([0.5, -1.0, 0.8, 0.3])}
HELPERS = {"sl": __import__("scipy.linalg", fromlist=["linalg"])}
TABLE = {"Linear algebra": [
    ("np.linalg.qr", "np.linalg.qr(x).R", "tall43", "qr_r", D),
    ("np.linalg.qr", "np.linalg.qr(x, mode='complete').Q[:, :3]", "tall43", "qr_q", D),
    ("np.linalg.qr", "np.linalg.qr(x).Q", "wide34", "qr_q", D),
    ("np.linalg.svd", "np.linalg.svd(x).S", "tall43", "svd_values", D),
    ("np.linalg.svd", "np.linalg.svd(x)[0][:, :3]", "tall43", "svd_u", D),
    ("np.linalg.svd", "np.linalg.svd(x, full_matrices=False).Vh", "wide34", "svd_vh", D),
    ("np.linalg.svdvals", "np.linalg.svdvals(x)", "wide34", "svd_values", D),
    ("np.linalg.lstsq", "np.linalg.lstsq(x, B4)[0]", "tall43", "lstsq", D),
    ("np.linalg.lstsq", "np.linalg.lstsq(x, B4, rcond=None)[1]", "tall43", "lstsq", D),
    ("np.linalg.pinv", "np.linalg.pinv(x)", "wide34", "pinv", D),
    ("scipy.linalg.qr", "sl.qr(x)[1]", "tall43", "qr_r", D),
    ("scipy.linalg.qr", "sl.qr(x, mode='economic')[0]", "tall43", "qr_q", D),
    ("scipy.linalg.svd", "sl.svd(x)[0][:, :3]", "tall43", "svd_u", D),
    ("scipy.linalg.svd", "sl.svd(x, compute_uv=False)", "wide34", "svd_values", D),
    ("scipy.linalg.svdvals", "sl.svdvals(x)", "tall43", "svd_values", D),
    ("scipy.linalg.lstsq", "sl.lstsq(x, B4)[0]", "tall43", "lstsq", D),
    ("scipy.linalg.pinv", "sl.pinv(x)", "tall43", "pinv", D),
]}
