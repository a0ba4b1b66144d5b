import Foundation
import Testing
@testable import Datasets

/// Pairs of images side by side, labelled by the ordered pair of their classes.
@Suite struct PairsTests {
    @Test func eachPairIsTwoSourceImagesSideBySideWithTheirPairLabel() throws {
        // Every pixel of source image i is i, so each half of a pair names its source.
        let source = try TestSets.indexed(count: 12, height: 3, width: 4, classes: 4)
        let pairs = try source.pairs(count: 200, seed: 9)
        #expect(pairs.count == 200 && pairs.height == 3 && pairs.width == 8 && pairs.channels == 1)
        #expect(pairs.classCount == 16 && pairs.classNames[1 * 4 + 3] == "c1 | c3")
        for sample in 0..<pairs.count {
            let image = Array(pairs.pixels[(sample * 24)..<((sample + 1) * 24)])
            let left = Int(image[0]), right = Int(image[4])
            for row in 0..<3 {
                #expect(image[(row * 8)..<(row * 8 + 4)].allSatisfy { Int($0) == left })
                #expect(image[(row * 8 + 4)..<(row * 8 + 8)].allSatisfy { Int($0) == right })
            }
            #expect(pairs.labels[sample] == source.labels[left] * 4 + source.labels[right], "sample \(sample)")
        }
    }

    @Test func aSeedGivesTheSamePairsAndAnotherSeedOthers() throws {
        let source = try TestSets.random(count: 30, classes: 3)
        let a = try source.pairs(count: 50, seed: 1), b = try source.pairs(count: 50, seed: 1)
        let c = try source.pairs(count: 50, seed: 2)
        #expect(a.pixels == b.pixels && a.labels == b.labels)
        #expect(a.pixels != c.pixels)
    }

    @Test func pairClassesAreAboutEquallyFrequent() throws {
        // 10 classes of 10 images each: 100 pair classes, 20,000 pairs, 200 expected per class;
        // a binomial count stays within ±35% of that with overwhelming probability.
        let source = try TestSets.random(count: 100, height: 2, width: 2, classes: 10)
        let counts = try source.pairs(count: 20_000, seed: 3).classCounts
        #expect(counts.count == 100)
        #expect(counts.allSatisfy { (130...270).contains($0) }, "\(counts.min()!)…\(counts.max()!)")
    }

    @Test func anEmptySetCannotBePaired() throws {
        let empty = try TestSets.random(count: 10).subset([])
        #expect(throws: DatasetError.self) { try empty.pairs(count: 5, seed: 1) }
    }

    @Test(.enabled(if: BuiltinDataset.fashionMNIST.isInstalled(), "dataset-fashion-mnist is not installed"))
    func theBuiltinPairsAreFashionMNISTPairs() throws {
        let test = try BuiltinDataset.fashionMNISTPairs.load(.test)
        #expect(test.count == 10_000 && test.height == 28 && test.width == 56 && test.classCount == 100)
        #expect(test.classNames[7 * 10 + 9] == "Sneaker | Ankle boot")
        #expect(BuiltinDataset.fashionMNISTPairs.imageSize.height == 28 && BuiltinDataset.fashionMNISTPairs.imageSize.width == 56)
        let again = try BuiltinDataset.fashionMNISTPairs.load(.test)
        #expect(again.labels == test.labels)
        #expect(Set(test.labels).count == 100)
    }
}
