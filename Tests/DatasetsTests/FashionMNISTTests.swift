import Testing
@testable import Datasets

@Suite(.enabled(if: BuiltinDataset.fashionMNIST.isInstalled(),
                "Fashion-MNIST is not installed in /usr/share/datasets/fashion-mnist (Debian package dataset-fashion-mnist)"))
struct FashionMNISTTests {
    @Test(arguments: [(DatasetSplit.train, 60_000), (.test, 10_000)])
    func loadsEverySplit(split: DatasetSplit, expectedCount: Int) throws {
        let set = try BuiltinDataset.fashionMNIST.load(split)
        #expect(set.count == expectedCount)
        #expect(set.channels == 1 && set.height == 28 && set.width == 28)
        #expect(set.classNames.count == 10 && set.classNames[0] == "T-shirt/top" && set.classNames[9] == "Ankle boot")
        // Fashion-MNIST is balanced: every class has a tenth of each split.
        #expect(set.classCounts == [Int](repeating: expectedCount / 10, count: 10))
    }
}

@Suite struct BuiltinDatasetTests {
    @Test func namesResolve() throws {
        #expect(try BuiltinDataset.named("fashion-mnist") == .fashionMNIST)
        #expect(try BuiltinDataset.named("fashion-mnist-pairs") == .fashionMNISTPairs)
        #expect(throws: DatasetError.unknownDataset(name: "cifar", available: ["fashion-mnist", "fashion-mnist-pairs"])) {
            try BuiltinDataset.named("cifar")
        }
    }

    @Test func missingDirectoryIsReportedAsNotInstalled() throws {
        let directory = try TemporaryDirectory()
        defer { directory.remove() }
        let error = try #require(throws: DatasetError.self) {
            try BuiltinDataset.fashionMNIST.load(.test, from: directory.url)
        }
        guard case .notInstalled("fashion-mnist", directory.url.path, _) = error else {
            Issue.record("expected .notInstalled, got \(error)"); return
        }
    }
}
