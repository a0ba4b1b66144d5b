@testable import Datasets
import Numerics

enum TestSets {
    /// `count` images of `channels × height × width` seeded random bytes, labels cycling
    /// through `classes`.
    static func random(count: Int, channels: Int = 1, height: Int = 5, width: Int = 4, classes: Int = 3,
                       seed: UInt64 = 7) throws -> LabeledImageSet {
        var generator = SeededGenerator(seed: seed)
        let pixels = (0..<count * channels * height * width).map { _ in UInt8(truncatingIfNeeded: generator.next() >> 56) }
        return try LabeledImageSet(channels: channels, height: height, width: width, pixels: pixels,
                                   labels: (0..<count).map { $0 % classes },
                                   classNames: (0..<classes).map { "class\($0)" })
    }

    /// Image `i` has every pixel equal to `i` (count ≤ 256), so a batch row reveals its source.
    static func indexed(count: Int, height: Int = 3, width: Int = 3, classes: Int = 4) throws -> LabeledImageSet {
        let pixels = (0..<count).flatMap { [UInt8](repeating: UInt8($0), count: height * width) }
        return try LabeledImageSet(channels: 1, height: height, width: width, pixels: pixels,
                                   labels: (0..<count).map { $0 % classes }, classNames: (0..<classes).map { "c\($0)" })
    }
}
