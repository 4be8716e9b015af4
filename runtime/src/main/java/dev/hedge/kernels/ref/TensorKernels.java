package dev.hedge.kernels.ref;

import dev.hedge.kernels.KernelRegistry;
import dev.hedge.kernels.ref.tensor.ConcatKernel;
import dev.hedge.kernels.ref.tensor.ConstantOfShapeKernel;
import dev.hedge.kernels.ref.tensor.CumSumKernel;
import dev.hedge.kernels.ref.tensor.DropoutKernel;
import dev.hedge.kernels.ref.tensor.EinsumKernel;
import dev.hedge.kernels.ref.tensor.ExpandTileKernel;
import dev.hedge.kernels.ref.tensor.EyeLikeKernel;
import dev.hedge.kernels.ref.tensor.GatherElementsKernel;
import dev.hedge.kernels.ref.tensor.GatherKernel;
import dev.hedge.kernels.ref.tensor.GatherNDKernel;
import dev.hedge.kernels.ref.tensor.NonZeroKernel;
import dev.hedge.kernels.ref.tensor.OneHotKernel;
import dev.hedge.kernels.ref.tensor.PadKernel;
import dev.hedge.kernels.ref.tensor.RangeKernel;
import dev.hedge.kernels.ref.tensor.ReshapeKernel;
import dev.hedge.kernels.ref.tensor.ResizeKernel;
import dev.hedge.kernels.ref.tensor.ScatterKernel;
import dev.hedge.kernels.ref.tensor.ShapeKernel;
import dev.hedge.kernels.ref.tensor.SliceKernel;
import dev.hedge.kernels.ref.tensor.SpaceDepthKernel;
import dev.hedge.kernels.ref.tensor.SplitKernel;
import dev.hedge.kernels.ref.tensor.TransposeKernel;
import dev.hedge.kernels.ref.tensor.TriluKernel;
import dev.hedge.ops.Op;

/** Shape and data-movement ops (kernels in {@link dev.hedge.kernels.ref.tensor}). */
public final class TensorKernels {

    private TensorKernels() {
    }

    public static void register(KernelRegistry r) {
        r.register(Op.Reshape, ReshapeKernel::new);
        r.register(Op.Flatten, ReshapeKernel::new);
        r.register(Op.Squeeze, ReshapeKernel::new);
        r.register(Op.Unsqueeze, ReshapeKernel::new);
        r.register(Op.Identity, ReshapeKernel::new);
        r.register(Op.Dropout, DropoutKernel::new);
        r.register(Op.Transpose, TransposeKernel::new);
        r.register(Op.DepthToSpace, SpaceDepthKernel::new);
        r.register(Op.SpaceToDepth, SpaceDepthKernel::new);
        r.register(Op.Concat, ConcatKernel::new);
        r.register(Op.Split, SplitKernel::new);
        r.register(Op.Slice, SliceKernel::new);
        r.register(Op.Gather, GatherKernel::new);
        r.register(Op.GatherElements, GatherElementsKernel::new);
        r.register(Op.GatherND, GatherNDKernel::new);
        r.register(Op.Expand, ExpandTileKernel::new);
        r.register(Op.Tile, ExpandTileKernel::new);
        r.register(Op.Pad, PadKernel::new);
        r.register(Op.Shape, ShapeKernel::new);
        r.register(Op.Size, ShapeKernel::new);
        r.register(Op.ConstantOfShape, ConstantOfShapeKernel::new);
        r.register(Op.Range, RangeKernel::new);
        r.register(Op.EyeLike, EyeLikeKernel::new);
        r.register(Op.Resize, ResizeKernel::new);
        r.register(Op.NonZero, NonZeroKernel::new);
        r.register(Op.OneHot, OneHotKernel::new);
        r.register(Op.Trilu, TriluKernel::new);
        r.register(Op.CumSum, CumSumKernel::new);
        r.register(Op.ScatterND, ScatterKernel::new);
        r.register(Op.ScatterElements, ScatterKernel::new);
        r.register(Op.Einsum, EinsumKernel::new);
    }
}
