import Foundation
import ImageCodec
import Numerics
import Testing
@testable import Datasets

@Suite struct NormalizationTests {
    @Test func statisticsMatchADirectComputation() throws {
        let set = try TestSets.random(count: 37, channels: 3, height: 6, width: 5)
        let normalization = Normalization(computedOver: set)
        let area = set.height * set.width
        var maxDifference: Double = 0
        for c in 0..<3 {
            // Two-pass reference in Double.
            var values = [Double]()
            for i in 0..<set.count {
                for p in 0..<area { values.append(Double(set.pixels[i * set.sampleSize + c * area + p]) / 255) }
            }
            let mean = values.reduce(0, +) / Double(values.count)
            let std = (values.map { ($0 - mean) * ($0 - mean) }.reduce(0, +) / Double(values.count)).squareRoot()
            maxDifference = max(maxDifference, abs(Double(normalization.mean[c]) - mean), abs(Double(normalization.std[c]) - std))
        }
        #expect(maxDifference < 1e-6, "max difference \(maxDifference)")
    }

    @Test func constantChannelGetsUnitStd() throws {
        let set = try LabeledImageSet(channels: 1, height: 2, width: 2, pixels: [51, 51, 51, 51], labels: [0], classNames: ["a"])
        let normalization = Normalization(computedOver: set)
        #expect(abs(normalization.mean[0] - 0.2) < 1e-7 && normalization.std == [1])
    }

    @Test func survivesAJSONRoundTrip() throws {
        let normalization = try Normalization(mean: [0.286, 0.1], std: [0.353, 0.2])
        let decoded = try JSONDecoder().decode(Normalization.self, from: JSONEncoder().encode(normalization))
        #expect(decoded == normalization)
    }

    @Test func decodingRejectsZeroStd() {
        let json = Data(#"{"mean": [0.5], "std": [0]}"#.utf8)
        #expect(throws: DecodingError.self) { try JSONDecoder().decode(Normalization.self, from: json) }
    }

    @Test func augmentationDecodingValidatesPadding() throws {
        let decoded = try JSONDecoder().decode(Augmentation.self, from: Data(#"{"cropPadding": 4}"#.utf8))
        #expect(decoded == (try Augmentation(cropPadding: 4)))
        #expect(throws: DecodingError.self) {
            try JSONDecoder().decode(Augmentation.self, from: Data(#"{"cropPadding": -1, "horizontalFlip": true}"#.utf8))
        }
    }

    @Test func rejectsNonPositiveStd() {
        #expect(throws: DatasetError.self) { try Normalization(mean: [0], std: [0]) }
        #expect(throws: DatasetError.self) { try Normalization(mean: [0, 0], std: [1]) }
    }

    @Test func imageTensorsAreNormalisedCHW() throws {
        let image = try Image(width: 2, height: 1, mode: .rgb, pixels: [0, 51, 255, 255, 102, 0])
        let normalization = try Normalization(mean: [0, 0.2, 0.5], std: [1, 0.2, 0.5])
        let tensor = try Tensor(image: image, normalization: normalization)
        #expect(tensor.shape == [3, 1, 2])
        let expected: [Float] = [0, 1, 0, 1, 1, -1]
        let maxDifference = zip(tensor.data, expected).map { abs($0 - $1) }.max() ?? 0
        #expect(maxDifference < 1e-6, "max difference \(maxDifference), got \(tensor.data)")

        let batch = try Tensor(batch: [image, image], normalization: normalization)
        #expect(batch.shape == [2, 3, 1, 2] && Array(batch.data[6...]) == tensor.data)
        #expect(throws: DatasetError.self) { try Tensor(image: image.converted(to: .gray), normalization: normalization) }
    }
}
