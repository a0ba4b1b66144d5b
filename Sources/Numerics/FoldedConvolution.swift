import LinearAlgebra

/// An evaluation-mode convolution with the following BatchNorm folded in and an optional fused
/// ReLU: y = relu?(W′ ∗ x + b′), W′[o] = W[o]·s_o, b′_o = (b_o − μ_o)·s_o + β_o with
/// s_o = γ_o/√(σ²_o + ε) from the running statistics.
///
/// Weight W′ [O, K] (K = C·k·k), bias b′ [O]; one sample [C, H, W] → [O, H', W'] per call.
struct FoldedConvolution {
    let geometry: ConvolutionGeometry
    /// [O, K]
    let weight: [Float]
    /// [O]
    let bias: [Float]
    let relu: Bool

    /// Folds `batchNorm` (if any) into `convolution` for a per-sample input of H×W.
    init(_ convolution: Conv2d, batchNorm: BatchNorm2d?, relu: Bool, inHeight: Int, inWidth: Int) {
        geometry = ConvolutionGeometry(
            inChannels: convolution.inChannels, outChannels: convolution.outChannels, kernel: convolution.kernel,
            stride: convolution.stride, padding: convolution.padding, inHeight: inHeight, inWidth: inWidth)
        let outputs = convolution.outChannels, patch = geometry.patchSize
        let w = convolution.weight.value.data
        let b = convolution.bias?.value.data ?? [Float](repeating: 0, count: outputs)
        guard let bn = batchNorm else {
            (weight, bias, self.relu) = (w, b, relu)
            return
        }
        var folded = w, shift = b
        for o in 0..<outputs {
            // In Double: the fold should change rounding only, not accuracy.
            let scale = Double(bn.weight.value.data[o])
                / (Double(bn.runningVariance.data[o]) + Double(bn.epsilon)).squareRoot()
            for i in 0..<patch { folded[o * patch + i] = Float(Double(w[o * patch + i]) * scale) }
            shift[o] = Float((Double(b[o]) - Double(bn.runningMean.data[o])) * scale + Double(bn.bias.value.data[o]))
        }
        (weight, bias, self.relu) = (folded, shift, relu)
    }

    /// Scratch `run` needs for unfolded patches, K·P elements (0 for a pointwise convolution).
    var columnsNeeded: Int { geometry.isPointwise ? 0 : geometry.patchSize * geometry.positions }

    /// output [B, O, H', W'] = relu?(W′ ∗ input [B, C, H, W] + b′), sample by sample: each
    /// output starts as the bias and the convolution's products add to it.
    func run(_ input: UnsafePointer<Float>, batch: Int, into output: UnsafeMutablePointer<Float>,
             columns: UnsafeMutablePointer<Float>) {
        let g = geometry, p = g.positions
        weight.withUnsafeBufferPointer { w in
            bias.withUnsafeBufferPointer { beta in
                for b in 0..<batch {
                    let y = output + b * g.outputSize
                    for o in 0..<g.outChannels { (y + o * p).update(repeating: beta[o], count: p) }
                    g.convolve(input + b * g.inputSize, weight: w.baseAddress!, into: y, columns: columns)
                    if relu {
                        for i in 0..<g.outputSize { y[i] = max(0, y[i]) }
                    }
                }
            }
        }
    }
}
