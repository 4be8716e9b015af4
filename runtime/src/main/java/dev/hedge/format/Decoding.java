package dev.hedge.format;

import dev.hedge.runtime.Tensor;
import dev.hedge.runtime.UnsupportedModelException;

/** Decodes encoded constants (sparse, codebook) to dense tensors for kernels that need dense data. */
public final class Decoding {

    private Decoding() {
    }

    public static Tensor densify(Tensor t) {
        if (!t.isEncoded()) {
            return t;
        }
        throw new UnsupportedModelException("decoding of encoded constants is not implemented yet");
    }
}
