#!/usr/bin/env python3
"""Writes the .npy fixtures NpyTest reads (NumPy is the independent reference). Run from this directory."""
import numpy as np

values = {
    "f2": [1.0, -0.5, 65504.0],
    "f4": [0.0, 1.5, -2.25, 1e30, -0.0, 7.0],
    "f8": [0.1, -1e300, 3.0, 4.5],
    "i1": [-128, 127, 0, 5],
    "i2": [-32768, 32767, 1],
    "i4": [-2**31, 2**31 - 1, 42],
    "i8": [-2**63, 2**63 - 1, 7],
    "u1": [0, 255, 7],
    "u2": [0, 65535, 9],
    "u4": [0, 2**32 - 1, 11],
    "u8": [0, 2**64 - 1, 13],
    "b1": [True, False, True],
}
for code, v in values.items():
    np.save(f"{code}.npy", np.array(v, dtype="<" + code))
    if code[1] != "1":
        np.save(f"{code}_be.npy", np.array(v, dtype=">" + code))
np.save("f4_2x3.npy", np.array(values["f4"], dtype="<f4").reshape(2, 3))
np.save("scalar.npy", np.float32(3.5))
np.save("empty.npy", np.zeros((0, 3), dtype="<f4"))
for version in [(2, 0), (3, 0)]:
    with open(f"i4_v{version[0]}.npy", "wb") as f:
        np.lib.format.write_array(f, np.array(values["i4"], dtype="<i4"), version=version)
np.save("fortran.npy", np.asfortranarray(np.arange(6, dtype="<f4").reshape(2, 3)))
