import Numerics
import Testing
@testable import Datasets

@Suite struct BatchIteratorTests {
    let identity = Normalization.identity(channels: 1)

    /// The first batch an iterator yields.
    func first(_ iterator: BatchIterator) throws -> BatchIterator.Element {
        var iterator = iterator
        let batch = iterator.next()
        return try #require(batch)
    }

    /// The source index of each row of a batch from `TestSets.indexed`.
    func sources(_ input: Tensor) -> [Int] {
        let size = input.shape[1] * input.shape[2] * input.shape[3]
        return (0..<input.shape[0]).map { Int((input.data[$0 * size] * 255).rounded()) }
    }

    @Test func sameSeedGivesSameBatches() throws {
        let set = try TestSets.random(count: 50)
        let augmentation = try Augmentation(cropPadding: 1, horizontalFlip: true)
        let a = Array(try BatchIterator(dataset: set, batchSize: 8, normalization: identity, augmentation: augmentation, seed: 42))
        let b = Array(try BatchIterator(dataset: set, batchSize: 8, normalization: identity, augmentation: augmentation, seed: 42))
        let c = Array(try BatchIterator(dataset: set, batchSize: 8, normalization: identity, augmentation: augmentation, seed: 43))
        #expect(a.count == 7 && b.count == 7)
        #expect(zip(a, b).allSatisfy { $0.input == $1.input && $0.labels == $1.labels })
        #expect(!zip(a, c).allSatisfy { $0.input == $1.input })
    }

    @Test func everyImageAppearsOnceWithItsLabel() throws {
        let set = try TestSets.indexed(count: 23)
        var iterator = try BatchIterator(dataset: set, batchSize: 5, normalization: identity, seed: 1)
        #expect(iterator.batchCount == 5)
        var seen = [Int]()
        var sizes = [Int]()
        while let batch = iterator.next() {
            let rows = sources(batch.input)
            #expect(batch.labels == rows.map { set.labels[$0] })
            seen += rows
            sizes.append(batch.input.shape[0])
        }
        #expect(sizes == [5, 5, 5, 5, 3])
        #expect(seen.sorted() == Array(0..<23))
        #expect(seen != Array(0..<23), "a seeded shuffle of 23 images left them in order")
    }

    @Test func unshuffledBatchesFollowTheSetAndDropLastSkipsTheRemainder() throws {
        let set = try TestSets.indexed(count: 10)
        let batches = Array(try BatchIterator(dataset: set, batchSize: 4, normalization: identity, shuffle: false,
                                              dropLast: true, seed: 0))
        #expect(batches.map { sources($0.input) } == [[0, 1, 2, 3], [4, 5, 6, 7]])
    }

    @Test func epochsHaveDifferentOrders() throws {
        let set = try TestSets.indexed(count: 30)
        var iterator = try BatchIterator(dataset: set, batchSize: 30, normalization: identity, seed: 9)
        let epoch0 = sources(try first(iterator).input)
        iterator.reset(epoch: 1)
        let epoch1 = sources(try first(iterator).input)
        iterator.reset(epoch: 0)
        let epoch0Again = sources(try first(iterator).input)
        #expect(epoch0 != epoch1 && epoch0 == epoch0Again)
    }

    @Test func rowsMatchTheSingleImagePath() throws {
        let set = try TestSets.random(count: 6, channels: 3)
        let normalization = Normalization(computedOver: set)
        let batch = try first(BatchIterator(dataset: set, batchSize: 6, normalization: normalization,
                                                   shuffle: false, seed: 0))
        var maxDifference: Float = 0
        for i in 0..<6 {
            let single = try Tensor(image: set.image(at: i), normalization: normalization)
            let row = batch.input.data[i * set.sampleSize..<(i + 1) * set.sampleSize]
            maxDifference = max(maxDifference, zip(row, single.data).map { abs($0 - $1) }.max() ?? 0)
        }
        // Both paths use the same expression, so they agree exactly.
        #expect(maxDifference == 0, "max difference \(maxDifference)")
    }

    @Test func augmentationKeepsShapesAndLabels() throws {
        let set = try TestSets.random(count: 20, channels: 3, height: 6, width: 6)
        let normalization = Normalization(computedOver: set)
        let plain = Array(try BatchIterator(dataset: set, batchSize: 6, normalization: normalization, seed: 5))
        let augmented = Array(try BatchIterator(dataset: set, batchSize: 6, normalization: normalization,
                                                augmentation: try Augmentation(cropPadding: 2, horizontalFlip: true), seed: 5))
        #expect(plain.map(\.labels) == augmented.map(\.labels))
        #expect(plain.map(\.input.shape) == augmented.map(\.input.shape))
        #expect(augmented.first?.input.shape == [6, 3, 6, 6])
        #expect(zip(plain, augmented).contains { $0.input != $1.input })
    }

    @Test func flipOnlyProducesTheImageOrItsMirror() throws {
        let set = try TestSets.random(count: 16, height: 3, width: 4)
        let batch = try first(BatchIterator(dataset: set, batchSize: 16, normalization: identity,
                                                   augmentation: try Augmentation(horizontalFlip: true), shuffle: false, seed: 3))
        var flips = 0
        for i in 0..<16 {
            let original = (0..<12).map { Float(set.pixels[i * 12 + $0]) / 255 }
            let mirrored = (0..<3).flatMap { y in (0..<4).reversed().map { x in original[y * 4 + x] } }
            let row = Array(batch.input.data[i * 12..<(i + 1) * 12])
            let isOriginal = zip(row, original).allSatisfy { abs($0 - $1) < 1e-6 }
            let isMirrored = zip(row, mirrored).allSatisfy { abs($0 - $1) < 1e-6 }
            #expect(isOriginal || isMirrored, "row \(i) is neither the image nor its mirror")
            if isMirrored && !isOriginal { flips += 1 }
        }
        #expect(flips > 0 && flips < 16, "\(flips) of 16 images flipped")
    }

    @Test func cropPaddingShiftsInZeros() throws {
        // 45 white 3×3 images: any non-zero shift of ±1 brings in a zero row or column.
        let set = try LabeledImageSet(channels: 1, height: 3, width: 3, pixels: [UInt8](repeating: 255, count: 9 * 45),
                                      labels: [Int](repeating: 0, count: 45), classNames: ["a"])
        let batch = try first(BatchIterator(dataset: set, batchSize: 45, normalization: identity,
                                            augmentation: try Augmentation(cropPadding: 1), seed: 2))
        #expect(batch.input.data.allSatisfy { $0 == 0 || $0 == 1 })
        let zeroCounts = (0..<45).map { i in batch.input.data[i * 9..<(i + 1) * 9].filter { $0 == 0 }.count }
        // A shift by (dy, dx) zeroes 3|dy| + 3|dx| − |dy·dx| pixels: 0, 3 or 5.
        #expect(zeroCounts.allSatisfy { [0, 3, 5].contains($0) }, "zero counts \(zeroCounts)")
        #expect(Set(zeroCounts) == [0, 3, 5], "zero counts \(zeroCounts)")
    }

    @Test func rejectsBadArguments() throws {
        let set = try TestSets.random(count: 4)
        #expect(throws: DatasetError.self) { try BatchIterator(dataset: set, batchSize: 0, normalization: identity, seed: 0) }
        #expect(throws: DatasetError.self) {
            try BatchIterator(dataset: set, batchSize: 2, normalization: .identity(channels: 3), seed: 0)
        }
    }
}
