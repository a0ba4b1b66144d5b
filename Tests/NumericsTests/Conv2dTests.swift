import Testing
@testable import Numerics

@Suite struct Conv2dTests {
    private func maxRelativeDifference(_ a: [Float], _ b: [Float]) -> Double {
        let largest = b.map { abs(Double($0)) }.max() ?? 0
        return (zip(a, b).map { abs(Double($0) - Double($1)) }.max() ?? .infinity) / max(largest, 1e-12)
    }

    /// A batch spanning several chunks (9 samples of [27, 256] columns each here) gives the
    /// same outputs and gradients as the samples one at a time, up to gemm rounding.
    @Test func chunkedBatchMatchesSampleBySample() {
        var generator = SeededGenerator(seed: 1)
        let layer = Conv2d(inChannels: 3, outChannels: 5, kernel: 3, stride: 2, padding: 1, bias: true, generator: &generator)
        layer.bias!.value = randomTensor([5], seed: 2)
        let batch = 80, sample = 3 * 32 * 32
        #expect(Conv2d.columnBudget / (27 * 256) < batch, "the batch must span several chunks")
        let input = randomTensor([batch, 3, 32, 32], seed: 3)
        let outputGradient = randomTensor([batch, 5, 16, 16], seed: 4)

        layer.weight.zeroGradient(); layer.bias!.zeroGradient()
        let together = layer.forward(input, training: true)
        let dxTogether = layer.backward(outputGradient)
        let dwTogether = layer.weight.gradient.data, dbTogether = layer.bias!.gradient.data

        layer.weight.zeroGradient(); layer.bias!.zeroGradient()
        var outputs: [Float] = [], dxs: [Float] = []
        for b in 0..<batch {
            let x = Tensor(shape: [1, 3, 32, 32], data: Array(input.data[(b * sample)..<((b + 1) * sample)]))
            outputs += layer.forward(x, training: true).data
            let g = Tensor(shape: [1, 5, 16, 16], data: Array(outputGradient.data[(b * 1280)..<((b + 1) * 1280)]))
            dxs += layer.backward(g).data
        }
        for (name, a, b) in [("output", together.data, outputs), ("input gradient", dxTogether.data, dxs),
                             ("weight gradient", dwTogether, layer.weight.gradient.data),
                             ("bias gradient", dbTogether, layer.bias!.gradient.data)] {
            let difference = maxRelativeDifference(a, b)
            #expect(difference <= 1e-5, "\(name): max relative difference \(difference)")
        }
    }
}
