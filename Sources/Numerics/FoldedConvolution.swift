import LinearAlgebra

/// An evaluation-mode convolution with the following BatchNorm folded in and an optional fused
/// ReLU: y = relu?(W′ ∗ x + b′), W′[o] = W[o]·s_o, b′_o = (b_o − μ_o)·s_o + β_o with
/// s_o = γ_o/√(σ²_o + ε) from the running statistics.
///
/// It runs on channels-last activations, one sample [H, W, C] → [H', W', O] per call, straight
/// from the image by `PackedKernels.convolve`: no unfolded patches, bias and ReLU applied in
/// the kernel's registers. W′ is packed in (ky, kx, c) order to match.
struct FoldedConvolution {
    let geometry: ConvolutionGeometry
    /// W′ [O, (ky, kx, c)] and b′ [O], packed.
    let weights: PackedWeights
    let relu: Bool

    /// Folds `batchNorm` (if any) into `convolution` for a per-sample input of H×W.
    init(_ convolution: Conv2d, batchNorm: BatchNorm2d?, relu: Bool, inHeight: Int, inWidth: Int) {
        let g = ConvolutionGeometry(
            inChannels: convolution.inChannels, outChannels: convolution.outChannels, kernel: convolution.kernel,
            stride: convolution.stride, padding: convolution.padding, inHeight: inHeight, inWidth: inWidth)
        let outputs = g.outChannels, patch = g.patchSize, k = g.kernel, channels = g.inChannels
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
        // [O, C, ky, kx] → [O, ky, kx, C]
        var folded = [Float](repeating: 0, count: outputs * patch)
        for o in 0..<outputs {
            for c in 0..<channels {
                for tap in 0..<(k * k) {
                    folded[o * patch + tap * channels + c] = Float(Double(w[o * patch + c * k * k + tap]) * scale[o])
                }
            }
        }
        geometry = g
        weights = PackedWeights(weights: folded, bias: shift.map { Float($0) }, outputs: outputs, depth: patch)
        self.relu = relu
    }

    /// Scratch `run` needs for the zero-padded input, Hp·Wp·C floats (0 without padding).
    var paddedSize: Int {
        let g = geometry
        return g.padding == 0 ? 0 : (g.inHeight + 2 * g.padding) * (g.inWidth + 2 * g.padding) * g.inChannels
    }

    /// output [H', W', O] = relu?(W′ ∗ input [H, W, C] + b′) for one sample; `padded` is
    /// scratch of `paddedSize` floats.
    func run(_ input: UnsafePointer<Float>, into output: UnsafeMutablePointer<Float>, padded: UnsafeMutablePointer<Float>) {
        let g = geometry
        var source = input, width = g.inWidth
        if g.padding > 0 {
            let p = g.padding, c = g.inChannels
            width = g.inWidth + 2 * p
            padded.update(repeating: 0, count: paddedSize)
            for y in 0..<g.inHeight {
                (padded + ((y + p) * width + p) * c).update(from: input + y * g.inWidth * c, count: g.inWidth * c)
            }
            source = UnsafePointer(padded)
        }
        PackedKernels.convolve(
            padded: source, paddedWidth: width, channels: g.inChannels, kernel: g.kernel, stride: g.stride,
            outHeight: g.outHeight, outWidth: g.outWidth, weights: weights.packed, bias: weights.bias,
            outputs: g.outChannels, relu: relu, into: output)
    }
}
