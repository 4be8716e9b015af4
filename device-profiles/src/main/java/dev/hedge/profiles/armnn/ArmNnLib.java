package dev.hedge.profiles.armnn;

import java.nio.ByteBuffer;
import org.bytedeco.javacpp.BytePointer;
import org.bytedeco.javacpp.Loader;
import org.bytedeco.javacpp.Pointer;
import org.bytedeco.javacpp.annotation.Platform;

/**
 * JNI binding of the flat Arm NN shim {@code src/main/cpp/hedge_armnn.h}, compiled by the javacpp plugin in
 * the {@code armnn} Maven profile. Raw: {@link ArmNn} is the only caller and checks sizes first. A network
 * handle is a {@link Pointer} to the shim's {@code Net}.
 */
@Platform(include = "hedge_armnn.h", link = "armnn", compiler = "cpp14")
final class ArmNnLib {

    static {
        Loader.load();
    }

    private ArmNnLib() {
    }

    static native @org.bytedeco.javacpp.annotation.Cast("const char*") BytePointer hn_version();

    static native @org.bytedeco.javacpp.annotation.Cast("const char*") BytePointer hn_last_error();

    static native @org.bytedeco.javacpp.annotation.Cast("const char*") BytePointer hn_devices();

    static native Pointer hn_create(String backends);

    static native void hn_destroy(Pointer net);

    static native @org.bytedeco.javacpp.annotation.Cast("const char*") BytePointer hn_error(Pointer net);

    static native int hn_input(Pointer net, int dtype, int rank, int[] dims, float scale, int zp);

    static native int hn_next_output(Pointer net, int dtype, int rank, int[] dims, float scale, int zp);

    static native int hn_stage(Pointer net, int which, int dtype, int rank, int[] dims, ByteBuffer data, long bytes,
            float[] scales, int nscales, int zp, int qdim);

    static native int hn_layer(Pointer net, int kind, int[] ins, int nin, int[] ip, int nip, float[] fp, int nfp);

    static native int hn_output(Pointer net, int tensor);

    static native int hn_finish(Pointer net);

    static native int hn_bind(Pointer net, int isOutput, int i, ByteBuffer data, long bytes);

    static native int hn_run(Pointer net);
}
