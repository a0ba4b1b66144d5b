import LinearAlgebra

/// An evaluation-mode convolution with the following BatchNorm folded in, an optional fused ReLU
/// and optionally the 2×2/2 max pool after it: y = pool?(relu?(W′ ∗ x + b′)), W′[o] = W[o]·s_o,
/// b′_o = (b_o − μ_o)·s_o + β_o with s_o = γ_o/√(σ²_o + ε) from the running statistics.
///
/// It runs on channels-last activations, one sample [H, W, C] → [H', W', O] per call, straight
/// from the zero-padded image; bias, ReLU and pooling are applied before anything is written.
/// Stride-1 3×3 convolutions with at least `winogradChannels` inputs and outputs use Winograd
/// F(2×2, 3×3), 16 multiplies per 2×2 outputs instead of 36; the others are direct products
/// with W′ packed in (ky, kx, c) order.
struct FoldedConvolution {
    let geometry: ConvolutionGeometry
    /// W′ and b′, packed for the method below.
    let weights: PackedWeights
    let relu: Bool
    /// Whether the 2×2/2 max pool that follows is computed here.
    let pooled: Bool
    let winograd: Bool
    /// Where each output position's window starts in the padded input (direct method).
    let rows: [Int]
    /// Hp, Wp: the padded input's plane.
    let paddedHeight: Int
    let paddedWidth: Int

    /// The fewest input and output channels for which Winograd beats the direct product: with
    /// fewer, its sixteen products are too thin to run at the kernel's speed.
    static let winogradChannels = 8

    /// Whether a convolution of `geometry` runs by Winograd, which can also fuse a 2×2/2 pool
    /// when its output plane has even sides.
    static func usesWinograd(_ g: ConvolutionGeometry) -> Bool {
        g.kernel == 3 && g.stride == 1 && g.inChannels >= winogradChannels && g.outChannels >= winogradChannels
    }

    /// Folds `batchNorm` (if any) into `convolution` for a per-sample input of H×W; `pool` fuses
    /// the 2×2/2 max pool after it (only for Winograd convolutions with an even output plane).
    init(_ convolution: Conv2d, batchNorm: BatchNorm2d?, relu: Bool, pool: Bool = false, inHeight: Int, inWidth: Int) {
        let g = ConvolutionGeometry(
            inChannels: convolution.inChannels, outChannels: convolution.outChannels, kernel: convolution.kernel,
            stride: convolution.stride, padding: convolution.padding, inHeight: inHeight, inWidth: inWidth)
        let outputs = g.outChannels, patch = g.patchSize, k = g.kernel, channels = g.inChannels
        let winograd = Self.usesWinograd(g)
        precondition(!pool || (winograd && g.outHeight % 2 == 0 && g.outWidth % 2 == 0), "pooling fused where it cannot be")
        let w = convolution.weight.value.data
        var scale = [Double](repeating: 1, count: outputs)
        var shift = (convolution.bias?.value.data ?? [Float](repeating: 0, count: outputs)).map(Double.init)
        if let bn = batchNorm {
            for o in 0..<outputs {
                // In Double: the fold should change rounding only, not accuracy.
                scale[o] = Double(bn.weight.value.data[o])
                    / (Double(bn.runningVariance.data[o]) + Double(bn.epsilon)).squareRoot()
                shift[o] = (shift[o] - Double(bn.runningMean.data[o])) * scale[o] + Double(bn.bias.value.data[o])
            }
        }
        let bias = shift.map { Float($0) }
        var folded = [Float](repeating: 0, count: outputs * patch)
        for o in 0..<outputs {
            for c in 0..<channels {
                for tap in 0..<(k * k) {
                    let value = Float(Double(w[o * patch + c * k * k + tap]) * scale[o])
                    // Winograd transforms [O, C, 3, 3]; the direct product reads [O, ky, kx, C].
                    folded[winograd ? o * patch + c * k * k + tap : o * patch + tap * channels + c] = value
                }
            }
        }
        geometry = g
        weights = winograd
            ? PackedWeights(winograd: folded, bias: bias, outputs: outputs, channels: channels)
            : PackedWeights(weights: folded, bias: bias, outputs: outputs, depth: patch)
        self.relu = relu
        self.pooled = pool
        self.winograd = winograd
        // Winograd reads whole 4×4 tiles, so an odd output side needs one more row or column.
        paddedHeight = max(g.inHeight + 2 * g.padding, winograd ? 2 * ((g.outHeight + 1) / 2) + 2 : 0)
        paddedWidth = max(g.inWidth + 2 * g.padding, winograd ? 2 * ((g.outWidth + 1) / 2) + 2 : 0)
        rows = winograd ? [] : PackedKernels.convolutionRows(
            paddedWidth: paddedWidth, channels: channels, stride: g.stride, outHeight: g.outHeight, outWidth: g.outWidth)
    }

    /// Elements of one output sample: [H', W', O], or [H'/2, W'/2, O] when pooled.
    var outputSize: Int { pooled ? geometry.outputSize / 4 : geometry.outputSize }
    /// The output plane's sides.
    var outputHeight: Int { pooled ? geometry.outHeight / 2 : geometry.outHeight }
    var outputWidth: Int { pooled ? geometry.outWidth / 2 : geometry.outWidth }

    /// Whether the input must be copied into a padded plane first.
    private var needsPadding: Bool {
        paddedHeight != geometry.inHeight || paddedWidth != geometry.inWidth
    }

    /// Scratch `run` needs: the padded input, then the Winograd transforms.
    var scratchSize: Int {
        let g = geometry
        let padded = needsPadding ? paddedHeight * paddedWidth * g.inChannels : 0
        let transforms = winograd ? PackedKernels.winogradScratch(channels: g.inChannels, outputs: g.outChannels) : 0
        return padded + transforms
    }

    /// output = pool?(relu?(W′ ∗ input [H, W, C] + b′)) for one sample; `scratch` holds
    /// `scratchSize` floats.
    func run(_ input: UnsafePointer<Float>, into output: UnsafeMutablePointer<Float>, scratch: UnsafeMutablePointer<Float>) {
        let g = geometry, c = g.inChannels
        var source = input
        var transforms = scratch
        if needsPadding {
            let count = paddedHeight * paddedWidth * c
            scratch.update(repeating: 0, count: count)
            for y in 0..<g.inHeight {
                (scratch + ((y + g.padding) * paddedWidth + g.padding) * c).update(from: input + y * g.inWidth * c,
                                                                                    count: g.inWidth * c)
            }
            source = UnsafePointer(scratch)
            transforms = scratch + count
        }
        if winograd {
            PackedKernels.winogradConvolve(
                padded: source, paddedWidth: paddedWidth, channels: c, outHeight: g.outHeight, outWidth: g.outWidth,
                weights: weights.packed, bias: weights.bias, outputs: g.outChannels, relu: relu, pool: pooled,
                scratch: transforms, into: output)
            return
        }
        rows.withUnsafeBufferPointer { rows in
            PackedKernels.convolve(
                padded: source, rows: rows.baseAddress!, positions: rows.count, paddedWidth: paddedWidth,
                channels: c, kernel: g.kernel, weights: weights.packed, bias: weights.bias,
                outputs: g.outChannels, relu: relu, into: output)
        }
    }
}
