import LinearAlgebra

/// One compiled stage of an `InferenceEngine`'s backbone.
///
/// Activations are channels-last ([H, W, C] per sample), which lets a convolution read its
/// windows straight from the image and a pooling step work on whole channel vectors. Every stage
/// but `dense` runs one sample at a time; `dense` runs over the whole batch, a block of outputs
/// at a time, so its weights are read once per six samples instead of once per sample. No stage
/// lets a sample's result depend on which other samples share its batch.
enum InferenceStep {
    /// [C, S] → [S, C]: a planar input of several channels made channels-last.
    case toChannelsLast(channels: Int, spatial: Int)
    /// [S, C] → [C, S]: a channels-last map the head reads flattened, back in the network's order.
    case toPlanar(channels: Int, spatial: Int)
    /// Convolution with folded BatchNorm and optional ReLU.
    case convolution(FoldedConvolution)
    /// y [B, O] = relu?(x [B, I] · Wᵀ + b), over the batch.
    case dense(PackedWeights, relu: Bool)
    /// A BatchNorm not preceded by a convolution: y = relu?(x·scale_c + shift_c), [S, C] per sample.
    case affine(scale: [Float], shift: [Float], spatial: Int, relu: Bool)
    /// max(0, x) over `count` elements per sample.
    case relu(count: Int)
    /// [H, W, C] → [H', W', C] per sample.
    case maxPool(kernel: Int, stride: Int, channels: Int, height: Int, width: Int)
    /// [S, C] → [C] per sample.
    case globalAveragePool(channels: Int, spatial: Int)
    /// relu(bn2∘conv2(relu(bn1∘conv1(x))) + shortcut(x)), all folded.
    case residual(first: FoldedConvolution, second: FoldedConvolution, projection: FoldedConvolution?)

    /// Whether the step runs over a whole batch (`runBatch`) rather than sample by sample (`run`).
    var isBatchWide: Bool {
        if case .dense = self { return true } else { return false }
    }

    /// Runs this per-sample stage for one sample at `source`, writing it at `target`; a residual
    /// block also uses `scratch1` and `scratch2`.
    func run(_ source: UnsafePointer<Float>, into target: UnsafeMutablePointer<Float>,
             scratch1: UnsafeMutablePointer<Float>, scratch2: UnsafeMutablePointer<Float>,
             workspace: InferenceWorkspace) {
        switch self {
        case let .toChannelsLast(channels, spatial):
            for c in 0..<channels {
                for s in 0..<spatial { target[s * channels + c] = source[c * spatial + s] }
            }
        case let .toPlanar(channels, spatial):
            for s in 0..<spatial {
                for c in 0..<channels { target[c * spatial + s] = source[s * channels + c] }
            }
        case let .convolution(conv):
            conv.run(source, into: target, scratch: workspace.scratch)
        case .dense:
            preconditionFailure("a dense step runs over the batch")
        case let .affine(scale, shift, spatial, relu):
            let channels = scale.count
            scale.withUnsafeBufferPointer { s in
                shift.withUnsafeBufferPointer { t in
                    for position in 0..<spatial {
                        let x = source + position * channels, y = target + position * channels
                        for c in 0..<channels {
                            let v = x[c] * s[c] + t[c]
                            y[c] = relu ? max(0, v) : v
                        }
                    }
                }
            }
        case let .relu(count):
            for i in 0..<count { target[i] = max(0, source[i]) }
        case let .maxPool(kernel, stride, channels, height, width):
            PackedKernels.maxPool(source, height: height, width: width, channels: channels, kernel: kernel,
                                  stride: stride, into: target)
        case let .globalAveragePool(channels, spatial):
            let scale = 1 / Float(spatial)
            target.update(repeating: 0, count: channels)
            for position in 0..<spatial {
                let x = source + position * channels
                for c in 0..<channels { target[c] += x[c] }
            }
            for c in 0..<channels { target[c] *= scale }
        case let .residual(first, second, projection):
            first.run(source, into: scratch1, scratch: workspace.scratch)
            second.run(scratch1, into: target, scratch: workspace.scratch)
            let count = second.outputSize
            let skip: UnsafePointer<Float>
            if let projection {
                projection.run(source, into: scratch2, scratch: workspace.scratch)
                skip = UnsafePointer(scratch2)
            } else {
                skip = source
            }
            for i in 0..<count { target[i] = max(0, target[i] + skip[i]) }
        }
    }

    /// Runs this batch-wide stage for `batch` rows `sourceStride` floats apart, writing rows
    /// `targetStride` apart, for the output blocks `blocks` (of `PackedKernels.blockWidth`).
    func runBatch(_ source: UnsafePointer<Float>, sourceStride: Int, into target: UnsafeMutablePointer<Float>,
                  targetStride: Int, batch: Int, blocks: Range<Int>) {
        guard case let .dense(weights, relu) = self else { preconditionFailure("not a batch-wide step") }
        PackedKernels.dense(source, rows: batch, rowStride: sourceStride, inputs: weights.depth,
                            weights: weights.packed, bias: weights.bias, outputs: weights.outputs, relu: relu,
                            into: target, outStride: targetStride, blocks: blocks)
    }

    /// Elements of one sample's output.
    var outputSize: Int {
        switch self {
        case let .toChannelsLast(channels, spatial), let .toPlanar(channels, spatial): channels * spatial
        case let .convolution(conv): conv.outputSize
        case let .dense(weights, _): weights.outputs
        case let .affine(scale, _, spatial, _): scale.count * spatial
        case let .relu(count): count
        case let .maxPool(kernel, stride, channels, height, width):
            channels * ((height - kernel) / stride + 1) * ((width - kernel) / stride + 1)
        case let .globalAveragePool(channels, _): channels
        case let .residual(_, second, _): second.outputSize
        }
    }

    /// Output blocks a batch-wide step can share out among workers (1 for per-sample steps).
    var blockCount: Int {
        if case let .dense(weights, _) = self { return weights.blocks } else { return 1 }
    }
}
