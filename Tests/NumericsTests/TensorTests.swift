import Testing
@testable import Numerics

@Suite struct TensorTests {
    @Test func reshapeKeepsElements() {
        let t = Tensor(shape: [2, 3], data: [1, 2, 3, 4, 5, 6])
        let r = t.reshaped([3, 2])
        #expect(r.shape == [3, 2])
        #expect(r.data == t.data)
    }

    @Test func layerSpecRoundTripsThroughJSON() throws {
        let specs: [LayerSpec] = [
            .conv2d(inChannels: 1, outChannels: 8, kernel: 3, stride: 1, padding: 1, bias: false),
            .batchNorm2d(channels: 8, epsilon: 1e-5, momentum: 0.1), .relu, .maxPool2d(kernel: 2, stride: 2),
            .residual(inChannels: 8, outChannels: 16, stride: 2), .globalAveragePool, .flatten,
            .dropout(probability: 0.25), .linear(inFeatures: 16, outFeatures: 10, bias: true),
        ]
        let json = try JSONEncoder().encode(specs)
        #expect(try JSONDecoder().decode([LayerSpec].self, from: json) == specs)
    }
}

import Foundation
