package dev.hedge.converter.report;

/**
 * One compressed layer in the report.
 *
 * @param params weight elements
 * @param sparsity fraction of stored weights that are exactly zero
 * @param bits bits per weight as stored (codebook: index bits)
 * @param bytesBefore payload bytes of the layer's constants in the fp32 file
 * @param bytesAfter payload bytes of the layer's constants in the compressed file (index buffers and palettes
 *     included)
 * @param sqnrDb SQNR of the layer's output against the original's on the evaluation data (NaN: not measured)
 * @param macsBefore multiply-accumulates per run in the original (-1: not measured)
 * @param macsAfter the same in the compressed model, counting only stored (non-zero) weights of sparse layers
 * @param refitSqnrBefore reconstruction: SQNR (dB) of the layer's output on the calibration data before the
 *     least-squares refit (NaN: not refit)
 * @param refitSqnrAfter the same after the refit
 */
public record LayerRow(String name, String op, long params, double sparsity, String precision, int bits,
        long bytesBefore, long bytesAfter, double sqnrDb, long macsBefore, long macsAfter, double refitSqnrBefore,
        double refitSqnrAfter, String note) {
}
