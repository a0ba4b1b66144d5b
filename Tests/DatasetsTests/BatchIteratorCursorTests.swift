import Numerics
import Testing
@testable import Datasets

/// An iterator stopped mid-epoch and continued in a new iterator from its cursor yields the
/// batches, augmentation included, that the first would have.
@Suite struct BatchIteratorCursorTests {
    let identity = Normalization.identity(channels: 1)

    func iterator(seed: UInt64 = 42, epoch: Int = 0) throws -> BatchIterator {
        try BatchIterator(dataset: try TestSets.random(count: 50), batchSize: 8, normalization: identity,
                          augmentation: try Augmentation(cropPadding: 1, horizontalFlip: true), seed: seed, epoch: epoch)
    }

    @Test(arguments: [0, 1, 3, 6, 7])
    func aRestoredCursorContinuesTheEpoch(after batches: Int) throws {
        var original = try iterator(epoch: 2)
        for _ in 0..<batches { _ = original.next() }
        let cursor = original.cursor
        #expect(cursor.epoch == 2 && cursor.offset == min(batches * 8, 50))
        // A fresh iterator of another epoch and seed state: only the cursor makes it agree.
        var restored = try iterator(epoch: 0)
        _ = restored.next()
        try restored.restore(cursor)
        let expected = Array(original), actual = Array(restored)
        #expect(expected.count == 7 - batches)
        #expect(expected.count == actual.count)
        #expect(zip(expected, actual).allSatisfy { $0.input == $1.input && $0.labels == $1.labels })
    }

    @Test func restoringTheEpochStartWithoutTheGeneratorIsNotEnough() throws {
        var original = try iterator()
        for _ in 0..<3 { _ = original.next() }
        var cursor = original.cursor
        var fresh = try iterator()
        cursor.generatorState = fresh.cursor.generatorState
        try fresh.restore(cursor)
        // The order is the epoch's, but the crops and flips come from the wrong place in the stream.
        #expect(original.next()?.input != fresh.next()?.input)
    }

    @Test func refusesACursorOutsideTheSet() throws {
        var batches = try iterator()
        let good = batches.cursor
        #expect(throws: DatasetError.self) {
            try batches.restore(BatchIterator.Cursor(epoch: 0, offset: 51, generatorState: good.generatorState))
        }
        #expect(throws: DatasetError.self) {
            try batches.restore(BatchIterator.Cursor(epoch: -1, offset: 0, generatorState: good.generatorState))
        }
        #expect(throws: DatasetError.self) {
            try batches.restore(BatchIterator.Cursor(epoch: 0, offset: 0, generatorState: [0, 0, 0, 0]))
        }
        #expect(batches.cursor == good, "a refused cursor moved the iterator")
    }
}
