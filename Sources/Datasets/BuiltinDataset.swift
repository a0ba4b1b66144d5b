import Foundation
import ImageCodec

/// Which part of a data set to load.
public enum DatasetSplit: String, Codable, Sendable, CaseIterable {
    case train
    case test
}

/// Data sets that ship as system packages.
public enum BuiltinDataset: String, Codable, Sendable, CaseIterable {
    /// Zalando's Fashion-MNIST: 60 000 training and 10 000 test images, 28×28 gray, 10 classes
    /// (Debian package `dataset-fashion-mnist`).
    case fashionMNIST = "fashion-mnist"
    /// Fashion-MNIST pairs: two Fashion-MNIST images side by side (28×56), labelled by the
    /// ordered pair of their classes, 100 classes; 60 000 training pairs drawn from the training
    /// images and 10 000 test pairs from the test images, the same every time. A task with many
    /// classes made from the installed data, where the classifier head is a larger share.
    case fashionMNISTPairs = "fashion-mnist-pairs"

    /// The data set called `name` (e.g. "fashion-mnist").
    ///
    /// - Throws: `DatasetError.unknownDataset` listing the available names.
    public static func named(_ name: String) throws -> BuiltinDataset {
        guard let dataset = BuiltinDataset(rawValue: name) else {
            throw DatasetError.unknownDataset(name: name, available: allCases.map(\.rawValue))
        }
        return dataset
    }

    /// The class names, indexed by label.
    public var classNames: [String] {
        let fashion = ["T-shirt/top", "Trouser", "Pullover", "Dress", "Coat",
                       "Sandal", "Shirt", "Sneaker", "Bag", "Ankle boot"]
        switch self {
        case .fashionMNIST: return fashion
        case .fashionMNISTPairs: return fashion.flatMap { left in fashion.map { right in "\(left) | \(right)" } }
        }
    }

    /// The colour mode of every image.
    public var colorMode: ColorMode { .gray }

    /// Image height and width in pixels.
    public var imageSize: (height: Int, width: Int) { self == .fashionMNIST ? (28, 28) : (28, 56) }

    /// Where the system package installs the files.
    public var defaultDirectory: URL {
        // The pairs are made from the Fashion-MNIST package's files.
        URL(fileURLWithPath: "/usr/share/datasets/fashion-mnist", isDirectory: true)
    }

    /// Whether the files of both splits are present in `directory` (default: `defaultDirectory`).
    public func isInstalled(in directory: URL? = nil) -> Bool {
        DatasetSplit.allCases.allSatisfy { split in
            let (images, labels) = files(for: split, in: directory ?? defaultDirectory)
            return FileManager.default.fileExists(atPath: images.path) && FileManager.default.fileExists(atPath: labels.path)
        }
    }

    /// Loads `split` from `directory` (default: `defaultDirectory`).
    ///
    /// - Throws: `DatasetError.notInstalled` if the files are missing, otherwise any error of
    ///   `LabeledImageSet.idx(images:labels:classNames:maxBytes:)`.
    public func load(_ split: DatasetSplit, from directory: URL? = nil) throws -> LabeledImageSet {
        if self == .fashionMNISTPairs {
            let images = try BuiltinDataset.fashionMNIST.load(split, from: directory)
            return try images.pairs(count: split == .train ? 60_000 : 10_000, seed: split == .train ? 0x9a125 : 0x9a126)
        }
        let directory = directory ?? defaultDirectory
        let (images, labels) = files(for: split, in: directory)
        for file in [images, labels] where !FileManager.default.fileExists(atPath: file.path) {
            throw DatasetError.notInstalled(name: rawValue, directory: directory.path,
                                            hint: "missing \(file.lastPathComponent); install the Debian package dataset-fashion-mnist")
        }
        return try LabeledImageSet.idx(images: images, labels: labels, classNames: classNames)
    }

    private func files(for split: DatasetSplit, in directory: URL) -> (images: URL, labels: URL) {
        let prefix = split == .train ? "train" : "t10k"
        return (directory.appendingPathComponent("\(prefix)-images-idx3-ubyte.gz"),
                directory.appendingPathComponent("\(prefix)-labels-idx1-ubyte.gz"))
    }
}
