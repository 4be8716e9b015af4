package dev.hedge.bench;

import ai.onnxruntime.OnnxJavaType;
import ai.onnxruntime.OnnxTensor;
import ai.onnxruntime.OnnxValue;
import ai.onnxruntime.OrtEnvironment;
import ai.onnxruntime.OrtException;
import ai.onnxruntime.OrtSession;
import dev.hedge.runtime.Tensor;
import java.nio.ByteBuffer;
import java.nio.ByteOrder;
import java.nio.FloatBuffer;
import java.nio.file.Path;
import java.util.Arrays;
import java.util.LinkedHashMap;
import java.util.Map;

/**
 * ONNX Runtime on the original model, with the same inputs and intra-op thread count, for comparison. Only
 * this class touches ONNX Runtime, and it is loaded only after {@link Bench} found ONNX Runtime on the class
 * path (verifying this class already needs ONNX Runtime's classes).
 */
final class OrtPeer implements AutoCloseable {

    private final OrtSession session;
    private final Map<String, OnnxTensor> inputs = new LinkedHashMap<>();

    private OrtPeer(OrtSession session) {
        this.session = session;
    }

    static OrtPeer open(Path onnx, int threads, Map<String, Tensor> in) {
        try {
            OrtEnvironment env = OrtEnvironment.getEnvironment();
            OrtSession.SessionOptions o = new OrtSession.SessionOptions();
            o.setIntraOpNumThreads(threads);
            o.setInterOpNumThreads(1);
            o.setExecutionMode(OrtSession.SessionOptions.ExecutionMode.SEQUENTIAL);
            o.setOptimizationLevel(OrtSession.SessionOptions.OptLevel.ALL_OPT);
            OrtPeer p = new OrtPeer(env.createSession(onnx.toString(), o));
            for (Map.Entry<String, Tensor> e : in.entrySet()) {
                if (!p.session.getInputNames().contains(e.getKey())) {
                    continue; // Hedge may declare an input ONNX Runtime prunes (an unused one)
                }
                p.inputs.put(e.getKey(), toOrt(env, e.getValue()));
            }
            return p;
        } catch (OrtException e) {
            throw new IllegalStateException("ONNX Runtime cannot load " + onnx + ": " + e.getMessage(), e);
        }
    }

    private static OnnxTensor toOrt(OrtEnvironment env, Tensor t) throws OrtException {
        long[] shape = Arrays.stream(t.shape()).asLongStream().toArray();
        ByteBuffer b = t.data().duplicate().order(ByteOrder.LITTLE_ENDIAN);
        switch (t.dtype()) {
            case FLOAT32: return OnnxTensor.createTensor(env, b.asFloatBuffer(), shape);
            case FLOAT64: return OnnxTensor.createTensor(env, b.asDoubleBuffer(), shape);
            case INT64: return OnnxTensor.createTensor(env, b.asLongBuffer(), shape);
            case INT32: return OnnxTensor.createTensor(env, b.asIntBuffer(), shape);
            case INT8: return OnnxTensor.createTensor(env, b, shape, OnnxJavaType.INT8);
            case UINT8: return OnnxTensor.createTensor(env, b, shape, OnnxJavaType.UINT8);
            case BOOL: return OnnxTensor.createTensor(env, b, shape, OnnxJavaType.BOOL);
            default: throw new IllegalStateException("no ONNX Runtime tensor for " + t.dtype());
        }
    }

    /** One inference; the results are released at once. */
    void run() {
        try (OrtSession.Result r = session.run(inputs)) {
            if (r.size() == 0) {
                throw new IllegalStateException("ONNX Runtime returned no outputs");
            }
        } catch (OrtException e) {
            throw new IllegalStateException("ONNX Runtime failed: " + e.getMessage(), e);
        }
    }

    /** The named output as floats, or null when it is not a float tensor. */
    float[] output(String name) {
        try (OrtSession.Result r = session.run(inputs)) {
            OnnxValue v = r.get(name).orElse(null);
            if (!(v instanceof OnnxTensor) || ((OnnxTensor) v).getInfo().type != OnnxJavaType.FLOAT) {
                return null;
            }
            FloatBuffer fb = ((OnnxTensor) v).getFloatBuffer();
            float[] a = new float[fb.remaining()];
            fb.get(a);
            return a;
        } catch (OrtException e) {
            throw new IllegalStateException("ONNX Runtime failed: " + e.getMessage(), e);
        }
    }

    @Override
    public void close() {
        for (OnnxTensor t : inputs.values()) {
            t.close();
        }
        try {
            session.close();
        } catch (OrtException e) {
            // closing releases native memory; a failure leaves nothing to do
        }
    }
}
