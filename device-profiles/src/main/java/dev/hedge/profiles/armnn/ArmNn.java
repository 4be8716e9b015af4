package dev.hedge.profiles.armnn;

import dev.hedge.runtime.DType;
import java.nio.ByteBuffer;
import java.nio.ByteOrder;
import java.nio.file.Files;
import java.nio.file.Path;
import java.util.List;
import org.bytedeco.javacpp.BytePointer;
import org.bytedeco.javacpp.Pointer;

/**
 * Arm NN through the JavaCPP shim: whether it loads here (and why not), which devices its runtime has, and
 * networks built layer by layer. Every failure of the native side comes back as an {@link ArmNnException}
 * carrying Arm NN's own message; nothing native is called before the library has loaded.
 */
public final class ArmNn {

    /** Arm NN {@code DataType} codes the shim takes as they are. */
    static final int FLOAT16 = 0;
    static final int FLOAT32 = 1;
    static final int QASYMM_U8 = 2;
    static final int SIGNED32 = 3;
    static final int QASYMM_S8 = 8;

    /** Layer kinds, as in hedge_armnn.h. */
    static final int CONV = 1;
    static final int DWCONV = 2;
    static final int FC = 3;
    static final int ACT = 4;
    static final int POOL = 5;
    static final int ADD = 6;
    static final int MUL = 7;
    static final int SUB = 8;
    static final int SOFTMAX = 9;
    static final int RESHAPE = 10;
    static final int QUANTIZE = 11;
    static final int DEQUANTIZE = 12;
    static final int CONST = 13;

    private static final String UNAVAILABLE;
    private static final String VERSION;
    private static final List<String> DEVICES;

    static {
        String reason = null;
        String version = null;
        List<String> devices = List.of();
        try {
            version = string(ArmNnLib.hn_version());
            BytePointer d = ArmNnLib.hn_devices();
            if (d == null) {
                reason = "the Arm NN runtime did not start: " + string(ArmNnLib.hn_last_error());
            } else {
                String s = string(d);
                devices = s.isEmpty() ? List.of() : List.of(s.split(","));
            }
        } catch (UnsatisfiedLinkError | NoClassDefFoundError | ExceptionInInitializerError e) {
            reason = whyNotLoaded(e);
        }
        UNAVAILABLE = reason;
        VERSION = version;
        DEVICES = devices;
    }

    private ArmNn() {
    }

    public static boolean isAvailable() {
        return UNAVAILABLE == null;
    }

    /** Why Arm NN cannot be used here, or null when it loaded. */
    public static String unavailableReason() {
        return UNAVAILABLE;
    }

    /** Arm NN's library version (e.g. 22.0.0 for the 20.08 release), or null. */
    public static String version() {
        return VERSION;
    }

    /** The devices (backend ids) Arm NN's runtime found here, e.g. [CpuRef]. */
    public static List<String> devices() {
        return DEVICES;
    }

    /** Null when the device can run networks here, else why not. */
    public static String deviceUnavailableReason(String device) {
        if (!isAvailable()) {
            return "Arm NN unavailable: " + UNAVAILABLE;
        }
        if (!DEVICES.contains(device)) {
            return "Arm NN has no " + device + " device here (devices found: "
                    + (DEVICES.isEmpty() ? "none" : String.join(", ", DEVICES)) + ")";
        }
        return null;
    }

    private static String whyNotLoaded(Throwable e) {
        boolean lib = Files.exists(Path.of("/usr/lib/x86_64-linux-gnu/libarmnn.so.22"))
                || Files.exists(Path.of("/usr/lib/aarch64-linux-gnu/libarmnn.so.22"))
                || Files.exists(Path.of("/usr/lib/arm-linux-gnueabihf/libarmnn.so.22"));
        String detail = e.getMessage() == null ? e.getClass().getSimpleName() : e.getMessage();
        if (!lib) {
            return "libarmnn is not installed (apt-get install -y libarmnn-dev libarmnn-cpuref-backend22; see "
                    + "scripts/setup-armnn.sh): " + detail;
        }
        return "the Arm NN shim is not in this build (build with mvn -Parmnn): " + detail;
    }

    static String string(BytePointer p) {
        return p == null ? "" : p.getString();
    }

    /** Arm NN dtype code of a Hedge value dtype, or -1 when Arm NN has none the shim uses. */
    static int dtype(DType d) {
        switch (d) {
            case FLOAT32: return FLOAT32;
            case FLOAT16: return FLOAT16;
            case UINT8: return QASYMM_U8;
            case INT8: return QASYMM_S8;
            case INT32: return SIGNED32;
            default: return -1;
        }
    }

    /**
     * A network under construction, then loaded and runnable. Not thread-safe: one per partition, run under
     * its owner's lock.
     */
    static final class Network implements AutoCloseable {
        private Pointer handle;
        private final String devices;
        private int inputs;
        private int outputs;

        Network(String devices) {
            if (!isAvailable()) {
                throw new ArmNnException("Arm NN unavailable: " + UNAVAILABLE);
            }
            this.devices = devices;
            this.handle = ArmNnLib.hn_create(devices);
            if (handle == null || handle.isNull()) {
                throw new ArmNnException("Arm NN could not create a network: " + string(ArmNnLib.hn_last_error()));
            }
        }

        private int check(int rc, String what) {
            if (rc < 0) {
                throw new ArmNnException(what + ": " + string(ArmNnLib.hn_error(handle)));
            }
            return rc;
        }

        int input(int dtype, int[] shape, float scale, int zp) {
            inputs++;
            return check(ArmNnLib.hn_input(handle, dtype, shape.length, shape, scale, zp), "input");
        }

        void nextOutput(int dtype, int[] shape, float scale, int zp) {
            check(ArmNnLib.hn_next_output(handle, dtype, shape.length, shape, scale, zp), "output info");
        }

        /** Stages weights (which 0) or bias (1) for the next layer; per-axis when scales has several entries. */
        void stage(int which, int dtype, int[] shape, ByteBuffer data, float[] scales, int zp, int qdim) {
            ByteBuffer d = direct(data);
            check(ArmNnLib.hn_stage(handle, which, dtype, shape.length, shape, d, d.capacity(), scales,
                    scales == null ? 0 : scales.length, zp, qdim), which == 0 ? "weights" : "bias");
        }

        int layer(int kind, int[] ins, int[] ip, float[] fp, String what) {
            return check(ArmNnLib.hn_layer(handle, kind, ins, ins.length, ip, ip == null ? 0 : ip.length, fp,
                    fp == null ? 0 : fp.length), what);
        }

        void output(int tensor) {
            outputs++;
            check(ArmNnLib.hn_output(handle, tensor), "output");
        }

        void finish() {
            check(ArmNnLib.hn_finish(handle), "loading on " + devices);
        }

        void bind(boolean output, int i, ByteBuffer data) {
            if (!data.isDirect() || data.position() != 0) {
                throw new ArmNnException("Arm NN tensors must be direct buffers at position 0");
            }
            int n = output ? outputs : inputs;
            if (i < 0 || i >= n) {
                throw new ArmNnException((output ? "output " : "input ") + i + " out of range (" + n + ")");
            }
            check(ArmNnLib.hn_bind(handle, output ? 1 : 0, i, data, data.capacity()),
                    output ? "binding output " + i : "binding input " + i);
        }

        void run() {
            check(ArmNnLib.hn_run(handle), "running on " + devices);
        }

        @Override
        public void close() {
            if (handle != null) {
                ArmNnLib.hn_destroy(handle);
                handle = null;
            }
        }
    }

    static ByteBuffer direct(ByteBuffer b) {
        if (b.isDirect() && b.position() == 0 && b.limit() == b.capacity()) {
            return b;
        }
        ByteBuffer src = b.duplicate();
        ByteBuffer d = ByteBuffer.allocateDirect(src.remaining()).order(ByteOrder.LITTLE_ENDIAN);
        d.put(src).flip();
        return d;
    }
}
