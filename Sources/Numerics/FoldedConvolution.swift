import Dispatch
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

    /// output [B, O, H', W'] = relu?(W′ ∗ input [B, C, H, W] + b′), sample by sample.
    func run(_ input: UnsafePointer<Float>, batch: Int, into output: UnsafeMutablePointer<Float>,
             columns: UnsafeMutablePointer<Float>) {
        let g = geometry
        for b in 0..<batch {
            let image = input + b * g.inputSize, y = output + b * g.outputSize
            if !g.isPointwise { g.unfold(image, into: columns) }
            let matrix = g.isPointwise ? image : UnsafePointer(columns)
            for tile in 0..<g.tileCount { runTile(tile, matrix: matrix, into: y) }
        }
    }

    /// One sample on `threads` threads: the patches are unfolded a share of the input channels
    /// each, then the column tiles are shared out. Every tile is the same product as in `run`,
    /// so the result is the same to the bit.
    func runSplit(_ image: UnsafePointer<Float>, into output: UnsafeMutablePointer<Float>,
                  columns: UnsafeMutablePointer<Float>, threads: Int) {
        let g = geometry
        if !g.isPointwise {
            let unfolders = min(threads, g.inChannels)
            if unfolders == 1 {
                g.unfold(image, into: columns)
            } else {
                DispatchQueue.concurrentPerform(iterations: unfolders) { part in
                    let share = g.inChannels * part / unfolders..<g.inChannels * (part + 1) / unfolders
                    g.unfold(image, into: columns, channels: share)
                }
            }
        }
        let matrix = g.isPointwise ? image : UnsafePointer(columns)
        let tiles = g.tileCount
        DispatchQueue.concurrentPerform(iterations: min(threads, tiles)) { part in
            for tile in stride(from: part, to: tiles, by: min(threads, tiles)) {
                runTile(tile, matrix: matrix, into: output)
            }
        }
    }

    /// Bias, product and ReLU for one column tile of one sample's output [O, P].
    private func runTile(_ tile: Int, matrix: UnsafePointer<Float>, into y: UnsafeMutablePointer<Float>) {
        let g = geometry, p = g.positions, columns = g.tileColumns(tile)
        bias.withUnsafeBufferPointer { beta in
            for o in 0..<g.outChannels {
                (y + o * p + columns.lowerBound).update(repeating: beta[o], count: columns.count)
            }
        }
        weight.withUnsafeBufferPointer { w in
            g.multiplyTile(tile, weight: w.baseAddress!, matrix: matrix, into: y)
        }
        guard relu else { return }
        for o in 0..<g.outChannels {
            let row = y + o * p
            for i in columns { row[i] = max(0, row[i]) }
        }
    }
}
