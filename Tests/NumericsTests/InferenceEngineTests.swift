import Testing
@testable import Numerics

@Suite struct InferenceEngineTests {
    @Test func foldedConvolutionAndBatchNormMatchTheLayers() throws {
        let specs: [LayerSpec] = [
            .conv2d(inChannels: 3, outChannels: 6, kernel: 3, stride: 2, padding: 1, bias: true),
            .batchNorm2d(channels: 6, epsilon: 1e-5, momentum: 0.1),
            .globalAveragePool,
        ]
        let network = try TestNetworks.make(specs, inputShape: [3, 9, 9])
        let engine = try InferenceEngine(network: network, maxBatchSize: 4)
        let input = randomTensor([4, 3, 9, 9], seed: 2)
        let difference = relativeDifference(try engine.logits(for: input), try network.forward(input, training: false))
        #expect(difference <= 1e-4, "max relative difference \(difference)")
    }

    @Test(arguments: [false, true])
    func engineMatchesNetworkInEvaluation(normalizedHead: Bool) throws {
        let network = try TestNetworks.make(TestNetworks.everyLayer, inputShape: [3, 8, 8], normalizedHead: normalizedHead)
        // A few training steps' worth of forwards move the running statistics too.
        _ = try network.forward(randomTensor([6, 3, 8, 8], seed: 3), training: true)
        let engine = try InferenceEngine(network: network, maxBatchSize: 16)
        #expect(engine.featureCount == 16 && engine.classes == 5)
        let input = randomTensor([16, 3, 8, 8], seed: 4)
        let expected = try network.forward(input, training: false)
        let actual = try engine.logits(for: input)
        #expect(actual.shape == [16, 5])
        let difference = relativeDifference(actual, expected)
        #expect(difference <= 1e-4, "max relative difference \(difference)")
    }

    /// The 2×2/2 pooling has a fast path; other windows take the general one. Both against the layer.
    @Test(arguments: [(2, 2), (3, 2), (2, 1)])
    func poolingMatchesTheLayer(kernel: Int, stride: Int) throws {
        let specs: [LayerSpec] = [
            .conv2d(inChannels: 2, outChannels: 3, kernel: 3, stride: 1, padding: 1, bias: true),
            .maxPool2d(kernel: kernel, stride: stride),
            .globalAveragePool,
        ]
        let network = try TestNetworks.make(specs, inputShape: [2, 9, 9])
        let engine = try InferenceEngine(network: network, maxBatchSize: 4, workers: 2)
        let input = randomTensor([4, 2, 9, 9], seed: 11)
        let difference = relativeDifference(try engine.logits(for: input), try network.forward(input, training: false))
        #expect(difference <= 1e-4, "max relative difference \(difference)")
    }

    @Test func mlpEngineMatchesNetwork() throws {
        let specs: [LayerSpec] = [.flatten, .linear(inFeatures: 20, outFeatures: 32, bias: true), .relu,
                                  .dropout(probability: 0.5), .linear(inFeatures: 32, outFeatures: 8, bias: false)]
        let network = try TestNetworks.make(specs, inputShape: [4, 5])
        let engine = try InferenceEngine(network: network, maxBatchSize: 8)
        let input = randomTensor([8, 4, 5], seed: 5)
        let difference = relativeDifference(try engine.logits(for: input), try network.forward(input, training: false))
        #expect(difference <= 1e-4, "max relative difference \(difference)")
    }

    /// Each sample runs through gemm calls of a shape fixed by the network alone, so the logits
    /// are bit-identical whatever the batch.
    @Test func batchingDoesNotChangeLogits() throws {
        let network = try TestNetworks.make(TestNetworks.everyLayer, inputShape: [3, 8, 8], normalizedHead: true)
        let engine = try InferenceEngine(network: network, maxBatchSize: 64)
        let batch = randomTensor([64, 3, 8, 8], seed: 6)
        let together = try engine.logits(for: batch)
        let sample = 3 * 8 * 8
        for index in [0, 17, 63] {
            let alone = try engine.logits(for: Tensor(shape: [1, 3, 8, 8],
                                                      data: Array(batch.data[(index * sample)..<((index + 1) * sample)])))
            #expect(alone.data == Array(together.data[(index * 5)..<((index + 1) * 5)]), "sample \(index)")
        }
        let firstFive = try engine.logits(for: Tensor(shape: [5, 3, 8, 8], data: Array(batch.data[0..<(5 * sample)])))
        #expect(firstFive.data == Array(together.data[0..<25]))
    }

    /// Workers take samples one at a time; which worker runs a sample, and how many there are,
    /// must not change a bit of its logits.
    @Test(arguments: [2, 3, 8])
    func workersDoNotChangeLogits(workers: Int) throws {
        let network = try TestNetworks.make(TestNetworks.everyLayer, inputShape: [3, 8, 8], normalizedHead: true)
        let single = try InferenceEngine(network: network, maxBatchSize: 64)
        let parallel = try InferenceEngine(network: network, maxBatchSize: 64, workers: workers)
        #expect(parallel.workers == workers)
        let batch = randomTensor([64, 3, 8, 8], seed: 9)
        let expected = try single.logits(for: batch)
        for _ in 0..<3 {
            #expect(try parallel.logits(for: batch) == expected)
        }
        let sample = 3 * 8 * 8
        let alone = try parallel.logits(for: Tensor(shape: [1, 3, 8, 8], data: Array(batch.data[(40 * sample)..<(41 * sample)])))
        #expect(alone.data == Array(expected.data[(40 * 5)..<(41 * 5)]))
        let odd = try parallel.logits(for: Tensor(shape: [7, 3, 8, 8], data: Array(batch.data[0..<(7 * sample)])))
        #expect(odd.data == Array(expected.data[0..<35]))
        let difference = relativeDifference(expected, try network.forward(batch, training: false))
        #expect(difference <= 1e-4, "max relative difference \(difference)")
    }

    @Test func repeatedCallsReuseBuffersAndAgree() throws {
        let network = try TestNetworks.make(TestNetworks.everyLayer, inputShape: [3, 8, 8])
        let engine = try InferenceEngine(network: network, maxBatchSize: 8)
        let a = randomTensor([8, 3, 8, 8], seed: 7), b = randomTensor([3, 3, 8, 8], seed: 8)
        let first = try engine.logits(for: a)
        _ = try engine.logits(for: b)
        #expect(try engine.logits(for: a) == first)
        var output = [Float](repeating: .nan, count: 8 * 5 + 1)
        try a.data.withUnsafeBufferPointer { x in
            try output.withUnsafeMutableBufferPointer { y in try engine.logits(for: x, batchSize: 8, into: y) }
        }
        #expect(Array(output.prefix(40)) == first.data)
        #expect(output[40].isNaN, "writes only B·C logits")
    }

    @Test func rejectsBadBatches() throws {
        let network = try TestNetworks.make(TestNetworks.everyLayer, inputShape: [3, 8, 8])
        let engine = try InferenceEngine(network: network, maxBatchSize: 4)
        #expect(throws: NumericsError.self) { try engine.logits(for: Tensor(shape: [5, 3, 8, 8])) }
        #expect(throws: NumericsError.self) { try engine.logits(for: Tensor(shape: [0, 3, 8, 8])) }
        #expect(throws: NumericsError.self) { try engine.logits(for: Tensor(shape: [2, 3, 8, 7])) }
        let input = [Float](repeating: 0, count: 2 * 192)
        var small = [Float](repeating: 0, count: 9)
        #expect(throws: NumericsError.self) {
            try input.withUnsafeBufferPointer { x in
                try small.withUnsafeMutableBufferPointer { y in try engine.logits(for: x, batchSize: 2, into: y) }
            }
        }
        #expect(throws: NumericsError.self) {
            try input.withUnsafeBufferPointer { x in
                try small.withUnsafeMutableBufferPointer { y in try engine.logits(for: x, batchSize: 3, into: y) }
            }
        }
        #expect(throws: NumericsError.self) { try InferenceEngine(network: network, maxBatchSize: 0) }
        #expect(throws: NumericsError.self) { try InferenceEngine(network: network, maxBatchSize: 4, workers: 0) }
    }
}
