package dev.hedge.kernels.ref;

import dev.hedge.kernels.KernelRegistry;
import dev.hedge.kernels.ref.rnn.GruKernel;
import dev.hedge.kernels.ref.rnn.LstmKernel;
import dev.hedge.kernels.ref.rnn.RnnKernel;
import dev.hedge.ops.Op;

/** LSTM, GRU and RNN. */
public final class RecurrentKernels {

    private RecurrentKernels() {
    }

    public static void register(KernelRegistry r) {
        r.register(Op.LSTM, LstmKernel::new);
        r.register(Op.GRU, GruKernel::new);
        r.register(Op.RNN, RnnKernel::new);
    }
}
