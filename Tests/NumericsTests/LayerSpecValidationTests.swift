import Testing
@testable import Numerics

@Suite struct LayerSpecValidationTests {
    private func expectInvalid(_ spec: LayerSpec, mentioning words: [String],
                               sourceLocation: SourceLocation = #_sourceLocation) {
        var generator = SeededGenerator(seed: 1)
        do {
            _ = try makeLayer(spec, generator: &generator)
            Issue.record("\(spec) was accepted", sourceLocation: sourceLocation)
        } catch let NumericsError.invalidSpec(detail) {
            for word in words {
                #expect(detail.contains(word), "'\(detail)' does not mention \(word)", sourceLocation: sourceLocation)
            }
        } catch {
            Issue.record("unexpected \(error)", sourceLocation: sourceLocation)
        }
    }

    @Test func rejectsOutOfRangeFields() {
        expectInvalid(.linear(inFeatures: 0, outFeatures: 3, bias: true), mentioning: ["linear", "in", "0"])
        expectInvalid(.linear(inFeatures: 3, outFeatures: -1, bias: true), mentioning: ["linear", "out", "-1"])
        expectInvalid(.conv2d(inChannels: 1, outChannels: 0, kernel: 3, stride: 1, padding: 1, bias: true), mentioning: ["conv2d", "out"])
        expectInvalid(.conv2d(inChannels: 1, outChannels: 4, kernel: 0, stride: 1, padding: 0, bias: true), mentioning: ["kernel"])
        expectInvalid(.conv2d(inChannels: 1, outChannels: 4, kernel: 3, stride: 0, padding: 1, bias: true), mentioning: ["stride"])
        expectInvalid(.conv2d(inChannels: 1, outChannels: 4, kernel: 3, stride: 1, padding: -1, bias: true), mentioning: ["padding"])
        expectInvalid(.conv2d(inChannels: 1, outChannels: 4, kernel: 3, stride: 1, padding: 3, bias: true), mentioning: ["padding", "kernel"])
        expectInvalid(.conv2d(inChannels: 1 << 30, outChannels: 4, kernel: 3, stride: 1, padding: 1, bias: true), mentioning: ["in"])
        expectInvalid(.batchNorm2d(channels: 0, epsilon: 1e-5, momentum: 0.1), mentioning: ["batchnorm2d", "channels"])
        expectInvalid(.batchNorm2d(channels: 4, epsilon: 0, momentum: 0.1), mentioning: ["epsilon"])
        expectInvalid(.batchNorm2d(channels: 4, epsilon: .nan, momentum: 0.1), mentioning: ["epsilon"])
        expectInvalid(.batchNorm2d(channels: 4, epsilon: 1e-5, momentum: 1.5), mentioning: ["momentum"])
        expectInvalid(.maxPool2d(kernel: 0, stride: 1), mentioning: ["maxpool2d", "kernel"])
        expectInvalid(.maxPool2d(kernel: 2, stride: -2), mentioning: ["stride"])
        expectInvalid(.dropout(probability: 1), mentioning: ["dropout", "probability"])
        expectInvalid(.dropout(probability: -0.1), mentioning: ["probability"])
        expectInvalid(.residual(inChannels: 16, outChannels: 0, stride: 1), mentioning: ["residual", "out"])
        expectInvalid(.residual(inChannels: 16, outChannels: 16, stride: 0), mentioning: ["stride"])
    }

    @Test func infersShapesLayerByLayer() throws {
        #expect(try LayerSpec.conv2d(inChannels: 1, outChannels: 8, kernel: 3, stride: 2, padding: 1, bias: false)
            .outputShape(for: [1, 28, 28]) == [8, 14, 14])
        #expect(try LayerSpec.conv2d(inChannels: 1, outChannels: 8, kernel: 5, stride: 1, padding: 0, bias: false)
            .outputShape(for: [1, 28, 28]) == [8, 24, 24])
        #expect(try LayerSpec.maxPool2d(kernel: 3, stride: 2).outputShape(for: [4, 7, 7]) == [4, 3, 3])
        #expect(try LayerSpec.residual(inChannels: 16, outChannels: 32, stride: 2).outputShape(for: [16, 32, 32]) == [32, 16, 16])
        #expect(try LayerSpec.residual(inChannels: 16, outChannels: 32, stride: 2).outputShape(for: [16, 7, 7]) == [32, 4, 4])
        #expect(try LayerSpec.globalAveragePool.outputShape(for: [64, 8, 8]) == [64])
        #expect(try LayerSpec.flatten.outputShape(for: [64, 7, 7]) == [3136])
        #expect(try LayerSpec.batchNorm2d(channels: 3, epsilon: 1e-5, momentum: 0.1).outputShape(for: [3, 2, 2]) == [3, 2, 2])
        let mlp: [LayerSpec] = [.flatten, .linear(inFeatures: 784, outFeatures: 128, bias: true), .relu, .dropout(probability: 0.2)]
        #expect(try LayerSpec.outputShape(of: mlp, for: [1, 28, 28]) == [128])
    }

    @Test func shapeErrorsNameTheLayer() {
        let specs: [LayerSpec] = [
            .conv2d(inChannels: 1, outChannels: 8, kernel: 3, stride: 1, padding: 1, bias: false), .relu,
            .conv2d(inChannels: 4, outChannels: 8, kernel: 3, stride: 1, padding: 1, bias: false),
        ]
        #expect(throws: NumericsError.invalidSpec("layer 2: conv2d expects input [4, H, W], got [8, 28, 28]")) {
            try LayerSpec.outputShape(of: specs, for: [1, 28, 28])
        }
        #expect(throws: NumericsError.self) { try LayerSpec.linear(inFeatures: 10, outFeatures: 2, bias: true).outputShape(for: [1, 10]) }
        #expect(throws: NumericsError.self) { try LayerSpec.maxPool2d(kernel: 3, stride: 3).outputShape(for: [1, 2, 9]) }
        #expect(throws: NumericsError.self) {
            try LayerSpec.conv2d(inChannels: 1, outChannels: 1, kernel: 5, stride: 1, padding: 1, bias: true).outputShape(for: [1, 2, 2])
        }
        #expect(throws: NumericsError.self) { try LayerSpec.globalAveragePool.outputShape(for: [16]) }
        #expect(throws: NumericsError.self) { try LayerSpec.relu.outputShape(for: [4, 0]) }
    }
}
