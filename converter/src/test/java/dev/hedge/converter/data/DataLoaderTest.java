package dev.hedge.converter.data;

import static org.junit.jupiter.api.Assertions.assertArrayEquals;
import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertThrows;
import static org.junit.jupiter.api.Assertions.assertTrue;

import ai.onnx.proto.OnnxMl.TensorProto;
import dev.hedge.io.Npy;
import dev.hedge.ir.ValueInfo;
import dev.hedge.runtime.DType;
import dev.hedge.runtime.InvalidInputException;
import dev.hedge.runtime.Tensor;
import java.awt.image.BufferedImage;
import java.nio.file.Files;
import java.nio.file.Path;
import java.util.List;
import java.util.Map;
import javax.imageio.ImageIO;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.io.TempDir;

class DataLoaderTest {

    @TempDir
    Path dir;

    private static final ValueInfo X = ValueInfo.of("x", DType.FLOAT32, -1, 3);

    private static Tensor seq(int... shape) {
        int n = Tensor.elementCount(shape);
        float[] v = new float[n];
        for (int i = 0; i < n; i++) {
            v[i] = i;
        }
        return Tensor.of(v, shape);
    }

    /** A float TensorProto file, written here with the protobuf classes. */
    private static void writePb(Tensor t, Path f) throws java.io.IOException {
        TensorProto.Builder b = TensorProto.newBuilder().setDataType(1).setName("x");
        for (int d : t.shape()) {
            b.addDims(d);
        }
        for (float v : t.toFloatArray()) {
            b.addFloatData(v);
        }
        Files.write(f, b.build().toByteArray());
    }

    private static DataSpec spec(List<String> sources) {
        return new DataSpec(sources, Map.of(), Map.of(), null, 0, null, null);
    }

    @Test
    void npyRowsBecomeSamplesWithABatchOfOne() throws Exception {
        Path f = dir.resolve("x.npy");
        Npy.write(seq(4, 3), f);
        Dataset d = DataLoader.load(spec(List.of(f.toString())), List.of(X));
        assertEquals(4, d.size());
        assertArrayEquals(new int[] {1, 3}, d.samples().get(2).get("x").shape());
        assertArrayEquals(new float[] {6, 7, 8}, d.samples().get(2).get("x").toFloatArray());
    }

    @Test
    void rowsWithoutBatchDimensionAndAFixedBatch() throws Exception {
        Path f = dir.resolve("x.npy");
        Npy.write(seq(6, 3), f);
        Dataset noBatch = DataLoader.load(spec(List.of(f.toString())), List.of(ValueInfo.of("x", DType.FLOAT32, 3)));
        assertArrayEquals(new int[] {3}, noBatch.samples().get(0).get("x").shape());
        Dataset pairs = DataLoader.load(spec(List.of(f.toString())), List.of(ValueInfo.of("x", DType.FLOAT32, 2, 3)));
        assertEquals(3, pairs.size());
        assertArrayEquals(new float[] {6, 7, 8, 9, 10, 11}, pairs.samples().get(1).get("x").toFloatArray());
    }

    @Test
    void directoriesOfNpyAndPbFilesInNameOrder() throws Exception {
        Path d = Files.createDirectory(dir.resolve("samples"));
        Npy.write(Tensor.of(new float[] {1, 2, 3}, 3), d.resolve("b.npy"));
        writePb(Tensor.of(new float[] {4, 5, 6}, 1, 3), d.resolve("a.pb"));
        Dataset data = DataLoader.load(spec(List.of(d.toString())), List.of(X));
        assertEquals(2, data.size());
        assertArrayEquals(new float[] {4, 5, 6}, data.samples().get(0).get("x").toFloatArray());
        assertArrayEquals(new int[] {1, 3}, data.samples().get(1).get("x").shape());
    }

    @Test
    void severalInputsWithConstantsCarriedStateAndSampleDirectories() throws Exception {
        ValueInfo input = ValueInfo.of("input", DType.FLOAT32, -1, 4);
        ValueInfo state = ValueInfo.of("state", DType.FLOAT32, 2, -1, 2);
        ValueInfo sr = ValueInfo.of("sr", DType.INT64);
        Path f = dir.resolve("chunks.npy");
        Npy.write(seq(5, 4), f);
        DataSpec s = new DataSpec(List.of("input=" + f), Map.of("sr", "16000"), Map.of("state", "stateN"), null, 0, null,
                null);
        Dataset d = DataLoader.load(s, List.of(input, state, sr));
        assertEquals(5, d.size());
        assertEquals(16000, d.samples().get(3).get("sr").getLong(0));
        assertEquals(0, d.samples().get(3).get("sr").rank());
        assertArrayEquals(new int[] {2, 1, 2}, d.samples().get(0).get("state").shape());
        assertEquals(Map.of("state", "stateN"), d.carry());
        // ONNX test-data layout: one subdirectory per sample, input_<k>.pb by position
        Path root = Files.createDirectory(dir.resolve("sets"));
        for (int i = 0; i < 2; i++) {
            Path sd = Files.createDirectory(root.resolve("test_data_set_" + i));
            writePb(Tensor.of(new float[] {i, i, i, i}, 1, 4), sd.resolve("input_0.pb"));
            Npy.write(Tensor.of(new float[] {9, 9, 9, 9}, 2, 1, 2), sd.resolve("state.npy"));
        }
        Dataset sets = DataLoader.load(new DataSpec(List.of(root.toString()), Map.of("sr", "8000"), Map.of(), null, 0,
                null, null), List.of(input, state, sr));
        assertEquals(2, sets.size());
        assertEquals(1f, sets.samples().get(1).get("input").getFloat(2));
        assertEquals(9f, sets.samples().get(0).get("state").getFloat(3));
    }

    @Test
    void shuffleIsDeterministicAndLabelsFollowTheirSamples() throws Exception {
        Path f = dir.resolve("x.npy");
        Npy.write(seq(10, 3), f);
        Path l = dir.resolve("y.npy");
        Npy.write(Tensor.of(new long[] {0, 1, 2, 3, 4, 5, 6, 7, 8, 9}, 10), l);
        DataSpec s = new DataSpec(List.of(f.toString()), Map.of(), Map.of(), l, 4, 42L, null);
        Dataset a = DataLoader.load(s, List.of(X));
        Dataset b = DataLoader.load(s, List.of(X));
        assertEquals(4, a.size());
        assertArrayEquals(a.labels(), b.labels());
        for (int i = 0; i < 4; i++) {
            // sample k holds 3k, 3k+1, 3k+2 and has label k
            assertEquals(3 * a.labels()[i], a.samples().get(i).get("x").getFloat(0), 0f);
        }
        assertTrue(!java.util.Arrays.equals(a.labels(), new long[] {0, 1, 2, 3}), "shuffled");
    }

    @Test
    void imagesAreResizedNormalisedAndLaidOut() throws Exception {
        BufferedImage img = new BufferedImage(2, 2, BufferedImage.TYPE_INT_RGB);
        img.setRGB(0, 0, 0xff0000);
        img.setRGB(1, 0, 0x00ff00);
        img.setRGB(0, 1, 0x0000ff);
        img.setRGB(1, 1, 0x808080);
        Path p = dir.resolve("img.png");
        ImageIO.write(img, "png", p.toFile());
        ValueInfo nchw = ValueInfo.of("img", DType.FLOAT32, 1, 3, 2, 2);
        ImageOptions o = new ImageOptions(0, 0, new float[] {0.5f}, new float[] {0.5f}, false, false);
        Tensor t = DataLoader.load(new DataSpec(List.of(p.toString()), Map.of(), Map.of(), null, 0, null, o),
                List.of(nchw)).samples().get(0).get("img");
        // channel 0 (R) plane: (255/255 - 0.5)/0.5 = 1 at (0,0); 0 -> -1 at (1,0)
        assertEquals(1f, t.getFloat(0), 1e-6f);
        assertEquals(-1f, t.getFloat(1), 1e-6f);
        assertEquals((128 / 255f - 0.5f) / 0.5f, t.getFloat(3), 1e-6f);
        // NHWC, BGR: pixel (0,0) is red, so its first (blue) channel is -1 and its last (red) 1
        ValueInfo nhwc = ValueInfo.of("img", DType.FLOAT32, 1, 2, 2, 3);
        ImageOptions bgr = new ImageOptions(0, 0, new float[] {0.5f}, new float[] {0.5f}, true, true);
        Tensor h = DataLoader.load(new DataSpec(List.of(p.toString()), Map.of(), Map.of(), null, 0, null, bgr),
                List.of(nhwc)).samples().get(0).get("img");
        assertArrayEquals(new float[] {-1, -1, 1}, java.util.Arrays.copyOf(h.toFloatArray(), 3), 1e-6f);
        // resized to 4x4 with a one-channel (luminance) input
        ValueInfo gray = ValueInfo.of("img", DType.FLOAT32, 1, 1, -1, -1);
        ImageOptions four = new ImageOptions(4, 4, null, null, false, false);
        Tensor g = DataLoader.load(new DataSpec(List.of(p.toString()), Map.of(), Map.of(), null, 0, null, four),
                List.of(gray)).samples().get(0).get("img");
        assertArrayEquals(new int[] {1, 1, 4, 4}, g.shape());
    }

    @Test
    void problemsNameTheInputAndTheFile() throws Exception {
        ValueInfo a = ValueInfo.of("a", DType.FLOAT32, -1, 3);
        ValueInfo b = ValueInfo.of("b", DType.FLOAT32, -1, 3);
        Path f = dir.resolve("x.npy");
        Npy.write(seq(4, 3), f);
        InvalidInputException e1 = assertThrows(InvalidInputException.class,
                () -> DataLoader.load(spec(List.of(f.toString())), List.of(a, b)));
        assertTrue(e1.getMessage().contains("INPUT=") && e1.getMessage().contains("[a, b]"), e1.getMessage());
        InvalidInputException e2 = assertThrows(InvalidInputException.class,
                () -> DataLoader.load(spec(List.of("a=" + f)), List.of(a, b)));
        assertTrue(e2.getMessage().contains("no data for input 'b'"), e2.getMessage());
        Path g = dir.resolve("five.npy");
        Npy.write(seq(4, 5), g);
        InvalidInputException e3 = assertThrows(InvalidInputException.class,
                () -> DataLoader.load(spec(List.of(g.toString())), List.of(X)));
        assertTrue(e3.getMessage().contains("input 'x'") && e3.getMessage().contains("[1, 5]"), e3.getMessage());
        Path labels = dir.resolve("l.npy");
        Npy.write(Tensor.of(new long[] {1, 2}, 2), labels);
        InvalidInputException e4 = assertThrows(InvalidInputException.class, () -> DataLoader.load(
                new DataSpec(List.of(f.toString()), Map.of(), Map.of(), labels, 0, null, null), List.of(X)));
        assertTrue(e4.getMessage().contains("2 values for 4 samples"), e4.getMessage());
    }

    @Test
    void batchesConcatenateSamples() throws Exception {
        Path f = dir.resolve("x.npy");
        Npy.write(seq(5, 3), f);
        Dataset d = DataLoader.load(spec(List.of(f.toString())), List.of(X));
        List<Map<String, Tensor>> b = d.batches(2);
        assertEquals(3, b.size());
        assertArrayEquals(new int[] {2, 3}, b.get(0).get("x").shape());
        assertArrayEquals(new float[] {12, 13, 14}, b.get(2).get("x").toFloatArray());
    }
}
