package dev.hedge.kernels.ref.rnn;

import java.util.List;
import java.util.Locale;

/**
 * A deliberately plain scalar reference for LSTM/GRU/RNN in double precision, straight from the ONNX
 * equations on the untransposed weights, layout 0. Arrays are indexed [dir][...] as in the ONNX shapes.
 */
final class RecurrentReference {

    /** Inputs in ONNX layout 0 and shapes; optional ones may be null. */
    static final class Case {
        String op;
        int seq;
        int batch;
        int input;
        int hidden;
        int dirs;
        boolean reverse;
        double[][][] x;        // [seq][batch][input]
        double[][][] w;        // [dir][G*H][input]
        double[][][] r;        // [dir][G*H][H]
        double[][] b;          // [dir][2*G*H] or null
        int[] lens;            // [batch] or null
        double[][][] h0;       // [dir][batch][H] or null
        double[][][] c0;       // LSTM
        double[][] p;          // LSTM [dir][3H] or null
        List<String> acts;     // null: defaults
        float[] alphas;
        float[] betas;
        Double clip;
        boolean inputForget;
        boolean linearBeforeReset;
    }

    /** Outputs: y [seq][dir][batch][H], yh [dir][batch][H], yc [dir][batch][H]. */
    static final class Result {
        double[][][][] y;
        double[][][] yh;
        double[][][] yc;
    }

    interface Fn {
        double apply(double x);
    }

    private RecurrentReference() {
    }

    static Fn[] activations(Case c) {
        List<String> names = c.acts;
        if (names == null) {
            List<String> one = switch (c.op) {
                case "LSTM" -> List.of("Sigmoid", "Tanh", "Tanh");
                case "GRU" -> List.of("Sigmoid", "Tanh");
                default -> List.of("Tanh");
            };
            names = new java.util.ArrayList<>(one);
            if (c.dirs == 2) {
                names.addAll(one);
            }
        }
        Fn[] out = new Fn[names.size()];
        int ai = 0;
        int bi = 0;
        for (int i = 0; i < out.length; i++) {
            String n = names.get(i).toLowerCase(Locale.ROOT);
            boolean ua = List.of("affine", "leakyrelu", "thresholdedrelu", "scaledtanh", "hardsigmoid", "elu")
                    .contains(n);
            boolean ub = List.of("affine", "scaledtanh", "hardsigmoid").contains(n);
            double a = switch (n) {
                case "leakyrelu" -> 0.01;
                case "hardsigmoid" -> 0.2;
                case "affine", "thresholdedrelu", "scaledtanh", "elu" -> 1.0;
                default -> 0;
            };
            double b = switch (n) {
                case "hardsigmoid" -> 0.5;
                case "scaledtanh" -> 1.0;
                default -> 0;
            };
            if (ua && c.alphas != null && ai < c.alphas.length) {
                a = c.alphas[ai++];
            }
            if (ub && c.betas != null && bi < c.betas.length) {
                b = c.betas[bi++];
            }
            final double fa = a;
            final double fb = b;
            out[i] = switch (n) {
                case "relu" -> v -> Math.max(0, v);
                case "tanh" -> Math::tanh;
                case "sigmoid" -> v -> 1 / (1 + Math.exp(-v));
                case "affine" -> v -> fa * v + fb;
                case "leakyrelu" -> v -> v >= 0 ? v : fa * v;
                case "thresholdedrelu" -> v -> v >= fa ? v : 0;
                case "scaledtanh" -> v -> fa * Math.tanh(fb * v);
                case "hardsigmoid" -> v -> Math.min(1, Math.max(0, fa * v + fb));
                case "elu" -> v -> v >= 0 ? v : fa * (Math.exp(v) - 1);
                case "softsign" -> v -> v / (1 + Math.abs(v));
                case "softplus" -> v -> Math.log(1 + Math.exp(v));
                default -> throw new IllegalArgumentException(n);
            };
        }
        return out;
    }

    static Result run(Case c) {
        int g = switch (c.op) {
            case "LSTM" -> 4;
            case "GRU" -> 3;
            default -> 1;
        };
        Fn[] fns = activations(c);
        int hs = c.hidden;
        Result res = new Result();
        res.y = new double[c.seq][c.dirs][c.batch][hs];
        res.yh = new double[c.dirs][c.batch][hs];
        res.yc = new double[c.dirs][c.batch][hs];
        for (int d = 0; d < c.dirs; d++) {
            boolean fwd = !c.reverse && d == 0;
            for (int bt = 0; bt < c.batch; bt++) {
                int len = c.lens == null ? c.seq : c.lens[bt];
                double[] h = new double[hs];
                double[] cell = new double[hs];
                if (c.h0 != null) {
                    h = c.h0[d][bt].clone();
                }
                if (c.c0 != null) {
                    cell = c.c0[d][bt].clone();
                }
                for (int step = 0; step < len; step++) {
                    int t = fwd ? step : len - 1 - step;
                    double[] xt = c.x[t][bt];
                    // pre[k] = W_k·x + Wb_k (input part) and R_k·h + Rb_k (recurrent part), kept apart for GRU
                    double[][] px = new double[g][hs];
                    double[][] ph = new double[g][hs];
                    for (int k = 0; k < g; k++) {
                        for (int j = 0; j < hs; j++) {
                            int row = k * hs + j;
                            double sx = c.b == null ? 0 : c.b[d][row];
                            for (int q = 0; q < c.input; q++) {
                                sx += c.w[d][row][q] * xt[q];
                            }
                            double sh = c.b == null ? 0 : c.b[d][g * hs + row];
                            for (int q = 0; q < hs; q++) {
                                sh += c.r[d][row][q] * h[q];
                            }
                            px[k][j] = sx;
                            ph[k][j] = sh;
                        }
                    }
                    double[] nh = new double[hs];
                    switch (c.op) {
                        case "LSTM" -> {
                            Fn f = fns[d * 3];
                            Fn gg = fns[d * 3 + 1];
                            Fn hh = fns[d * 3 + 2];
                            double[] nc = new double[hs];
                            for (int j = 0; j < hs; j++) {
                                double pi = c.p == null ? 0 : c.p[d][j];
                                double po = c.p == null ? 0 : c.p[d][hs + j];
                                double pf = c.p == null ? 0 : c.p[d][2 * hs + j];
                                double i = f.apply(clip(c, px[0][j] + ph[0][j] + pi * cell[j]));
                                double fg = c.inputForget ? 1 - i
                                        : f.apply(clip(c, px[2][j] + ph[2][j] + pf * cell[j]));
                                double ct = gg.apply(clip(c, px[3][j] + ph[3][j]));
                                nc[j] = fg * cell[j] + i * ct;
                                double o = f.apply(clip(c, px[1][j] + ph[1][j] + po * nc[j]));
                                nh[j] = o * hh.apply(nc[j]);
                            }
                            cell = nc;
                        }
                        case "GRU" -> {
                            Fn f = fns[d * 2];
                            Fn gg = fns[d * 2 + 1];
                            double[] z = new double[hs];
                            double[] rr = new double[hs];
                            for (int j = 0; j < hs; j++) {
                                z[j] = f.apply(clip(c, px[0][j] + ph[0][j]));
                                rr[j] = f.apply(clip(c, px[1][j] + ph[1][j]));
                            }
                            for (int j = 0; j < hs; j++) {
                                double n;
                                if (c.linearBeforeReset) {
                                    n = px[2][j] + rr[j] * ph[2][j];
                                } else {
                                    double s = c.b == null ? 0 : c.b[d][g * hs + 2 * hs + j];
                                    for (int q = 0; q < hs; q++) {
                                        s += c.r[d][2 * hs + j][q] * rr[q] * h[q];
                                    }
                                    n = px[2][j] + s;
                                }
                                n = gg.apply(clip(c, n));
                                nh[j] = (1 - z[j]) * n + z[j] * h[j];
                            }
                        }
                        default -> {
                            for (int j = 0; j < hs; j++) {
                                nh[j] = fns[d].apply(clip(c, px[0][j] + ph[0][j]));
                            }
                        }
                    }
                    h = nh;
                    res.y[t][d][bt] = h.clone();
                }
                if (len > 0) {
                    res.yh[d][bt] = h;
                    res.yc[d][bt] = cell;
                }
            }
        }
        return res;
    }

    private static double clip(Case c, double v) {
        return c.clip == null ? v : Math.max(-c.clip, Math.min(c.clip, v));
    }
}
