import CKernels
import Testing
@testable import Numerics

/// The engine's own kernels (direct convolution, Winograd F(2×2, 3×3) with and without a fused
/// pool, batched dense products) against the layers' reference path (im2col + OpenBLAS), at odd
/// sizes, strides, padding, output widths that are not multiples of the kernels' 16-wide blocks,
/// batch 1 and several workers. Tolerance: 1e-4 of the largest logit (Winograd's transforms and
/// the folded BatchNorm change rounding only).
@Suite struct InferenceKernelTests {
    private func check(_ specs: [LayerSpec], inputShape: [Int], batch: Int, workers: Int,
                       sourceLocation: SourceLocation = #_sourceLocation) throws {
        let network = try TestNetworks.make(specs, inputShape: inputShape, classes: 7)
        let engine = try InferenceEngine(network: network, maxBatchSize: batch, workers: workers)
        let input = randomTensor([batch] + inputShape, seed: UInt64(batch * 31 + workers))
        let together = try engine.logits(for: input)
        let difference = relativeDifference(together, try network.forward(input, training: false))
        #expect(difference <= 1e-4, "max relative difference \(difference)", sourceLocation: sourceLocation)
        // Each sample alone gets the same bits as inside the batch.
        let size = inputShape.reduce(1, *)
        for index in Set([0, batch / 2, batch - 1]) {
            let alone = try engine.logits(for: Tensor(shape: [1] + inputShape,
                                                      data: Array(input.data[(index * size)..<((index + 1) * size)])))
            #expect(alone.data == Array(together.data[(index * 7)..<((index + 1) * 7)]), "sample \(index)",
                    sourceLocation: sourceLocation)
        }
    }

    private static func block(_ i: Int, _ o: Int, kernel: Int = 3, stride: Int = 1, padding: Int = 1) -> [LayerSpec] {
        [.conv2d(inChannels: i, outChannels: o, kernel: kernel, stride: stride, padding: padding, bias: false),
         .batchNorm2d(channels: o, epsilon: 1e-5, momentum: 0.1), .relu]
    }

    /// The shape of the shipped backbone, smaller: a direct first convolution, then a Winograd one
    /// whose 2×2/2 pool is fused, then dense layers of 33 and 7 outputs.
    @Test(arguments: [(1, 1), (13, 2), (6, 3)])
    func smallConvolutionalNetwork(batch: Int, workers: Int) throws {
        let specs = Self.block(1, 8) + [.maxPool2d(kernel: 2, stride: 2)] + Self.block(8, 20)
            + [.maxPool2d(kernel: 2, stride: 2), .flatten, .linear(inFeatures: 20 * 5 * 5, outFeatures: 33, bias: true),
               .relu, .linear(inFeatures: 33, outFeatures: 7, bias: true)]
        try check(specs, inputShape: [1, 20, 20], batch: batch, workers: workers)
    }

    /// Winograd on an odd plane (partial tiles, the pool after it not fused) and without padding.
    @Test(arguments: [1, 5])
    func winogradOnOddPlanes(batch: Int) throws {
        let specs = Self.block(3, 9) + Self.block(9, 12) + [.maxPool2d(kernel: 2, stride: 2)]
            + Self.block(12, 17, padding: 0) + [.globalAveragePool]
        try check(specs, inputShape: [3, 9, 11], batch: batch, workers: 2)
    }

    /// Direct convolutions with a 5×5 kernel, stride 3, padding 2, and a 1×1 one, on a
    /// non-square planar input of three channels.
    @Test(arguments: [1, 4])
    func directConvolutionsWithStrides(batch: Int) throws {
        let specs = Self.block(3, 17, kernel: 5, stride: 3, padding: 2) + Self.block(17, 16, kernel: 1, padding: 0)
            + Self.block(16, 10, kernel: 3, stride: 2, padding: 0) + [.flatten, .linear(inFeatures: 20, outFeatures: 7, bias: false)]
        try check(specs, inputShape: [3, 11, 13], batch: batch, workers: 2)
    }

    /// Dense layers wide enough for the tiles that span several blocks (one row over four blocks,
    /// two rows over two), with a partial last block and the blocks split between workers: one or
    /// two rows get the same bits as a larger batch's six-row tiles.
    @Test(arguments: [(1, 1), (2, 2), (7, 2)])
    func denseLayersOverSeveralBlocks(batch: Int, workers: Int) throws {
        let specs: [LayerSpec] = [.flatten, .linear(inFeatures: 3 * 7 * 5, outFeatures: 100, bias: true), .relu,
                                  .linear(inFeatures: 100, outFeatures: 71, bias: true), .relu,
                                  .linear(inFeatures: 71, outFeatures: 7, bias: true)]
        try check(specs, inputShape: [3, 7, 5], batch: batch, workers: workers)
    }

    /// On a CPU with AVX-512, its tiles and the AVX2 ones give the same bits: each output sums the
    /// same terms in the same order with one rounding each. (Other suites running meanwhile may
    /// get either; the same bits either way.)
    @Test(.enabled(if: fsk_uses_avx512() == 1, "the CPU has no AVX-512"))
    func avx512TilesMatchAVX2Bits() throws {
        let specs = Self.block(1, 8) + [.maxPool2d(kernel: 2, stride: 2)] + Self.block(8, 40)
            + [.maxPool2d(kernel: 2, stride: 2), .flatten, .linear(inFeatures: 40 * 5 * 5, outFeatures: 150, bias: true),
               .relu, .linear(inFeatures: 150, outFeatures: 7, bias: true)]
        let network = try TestNetworks.make(specs, inputShape: [1, 20, 20], classes: 7)
        for batch in [1, 2, 9] {
            let engine = try InferenceEngine(network: network, maxBatchSize: batch, workers: 1)
            let input = randomTensor([batch, 1, 20, 20], seed: UInt64(batch))
            let wide = try engine.logits(for: input)
            fsk_set_avx512_allowed(0)
            defer { fsk_set_avx512_allowed(1) }
            let narrow = try engine.logits(for: input)
            #expect(wide.data == narrow.data, "batch \(batch)")
            #expect(relativeDifference(wide, try network.forward(input, training: false)) <= 1e-4, "batch \(batch)")
        }
    }
}
