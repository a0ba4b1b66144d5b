import Foundation
import Testing
@testable import Datasets

@Suite struct IDXFileTests {
    let array = IDXFile(shape: [2, 3], bytes: [1, 2, 3, 4, 5, 255])

    @Test func readsRawFile() throws {
        let directory = try TemporaryDirectory()
        defer { directory.remove() }
        let file = try directory.write(array.encoded, to: "a-idx2-ubyte")
        #expect(try IDXFile(contentsOf: file) == array)
    }

    @Test func readsGzipFile() throws {
        let directory = try TemporaryDirectory()
        defer { directory.remove() }
        let file = try directory.write(try TemporaryDirectory.gzip(array.encoded), to: "a-idx2-ubyte.gz")
        #expect(try IDXFile(contentsOf: file) == array)
    }

    @Test func readsConcatenatedGzipMembers() throws {
        let directory = try TemporaryDirectory()
        defer { directory.remove() }
        let encoded = array.encoded
        let parts = try TemporaryDirectory.gzip(Array(encoded[..<7])) + TemporaryDirectory.gzip(Array(encoded[7...]))
        let file = try directory.write(parts, to: "two-members.gz")
        #expect(try IDXFile(contentsOf: file) == array)
    }

    @Test func inflatesALargeFileAcrossBufferGrowth() throws {
        // 1 MiB of a repeating pattern compresses far below the first output buffer guess
        // would be without the trailer, exercising growth and the final size.
        let big = IDXFile(shape: [1024, 1024], bytes: (0..<(1 << 20)).map { UInt8($0 % 251) })
        let directory = try TemporaryDirectory()
        defer { directory.remove() }
        let file = try directory.write(try TemporaryDirectory.gzip(big.encoded), to: "big.gz")
        #expect(try IDXFile(contentsOf: file) == big)
    }

    @Test func rejectsBadMagic() {
        #expect(throws: DatasetError.badMagic(path: "f", found: [1, 2, 8, 1])) {
            try IDXFile(parsing: [1, 2, 8, 1, 0, 0, 0, 0], path: "f")
        }
        #expect(throws: DatasetError.badMagic(path: "f", found: [0, 0])) { try IDXFile(parsing: [0, 0], path: "f") }
    }

    @Test func rejectsUnsupportedTypeCode() {
        #expect(throws: DatasetError.unsupportedTypeCode(path: "f", code: 0x0D)) {
            try IDXFile(parsing: [0, 0, 0x0D, 1, 0, 0, 0, 1, 0, 0, 0, 0], path: "f")
        }
    }

    @Test func rejectsTruncatedHeader() {
        #expect(throws: DatasetError.truncated(path: "f", expectedBytes: 16, actualBytes: 10)) {
            try IDXFile(parsing: [0, 0, 8, 3, 0, 0, 0, 1, 0, 0], path: "f")
        }
    }

    @Test func rejectsTruncatedData() {
        let encoded = array.encoded
        #expect(throws: DatasetError.truncated(path: "f", expectedBytes: encoded.count, actualBytes: encoded.count - 1)) {
            try IDXFile(parsing: Array(encoded.dropLast()), path: "f")
        }
    }

    @Test func rejectsTrailingBytes() {
        let encoded = array.encoded
        #expect(throws: DatasetError.trailingBytes(path: "f", expectedBytes: encoded.count, actualBytes: encoded.count + 1)) {
            try IDXFile(parsing: encoded + [0], path: "f")
        }
    }

    @Test func rejectsHugeDeclaredShapeWithoutOverflow() {
        let header: [UInt8] = [0, 0, 8, 3] + [UInt8](repeating: 0xFF, count: 12)
        #expect(throws: DatasetError.self) { try IDXFile(parsing: header, path: "f") }
    }

    @Test func rejectsCorruptGzip() throws {
        let directory = try TemporaryDirectory()
        defer { directory.remove() }
        var compressed = try TemporaryDirectory.gzip(array.encoded)
        compressed[12] ^= 0xFF
        compressed[13] ^= 0xFF
        let file = try directory.write(compressed, to: "corrupt.gz")
        let error = try #require(throws: DatasetError.self) { try IDXFile(contentsOf: file) }
        guard case let .corruptGzip(path, reason) = error else { Issue.record("expected .corruptGzip, got \(error)"); return }
        #expect(path == file.path && !reason.isEmpty)
    }

    @Test func rejectsTruncatedGzip() throws {
        let directory = try TemporaryDirectory()
        defer { directory.remove() }
        let compressed = try TemporaryDirectory.gzip(array.encoded)
        let file = try directory.write(Array(compressed.prefix(compressed.count - 6)), to: "short.gz")
        let error = try #require(throws: DatasetError.self) { try IDXFile(contentsOf: file) }
        guard case .corruptGzip(file.path, _) = error else { Issue.record("expected .corruptGzip, got \(error)"); return }
        #expect(error.description.contains(file.path))
    }

    @Test func rejectsInflationPastTheLimit() throws {
        let directory = try TemporaryDirectory()
        defer { directory.remove() }
        let big = IDXFile(shape: [100_000], bytes: [UInt8](repeating: 0, count: 100_000))
        let file = try directory.write(try TemporaryDirectory.gzip(big.encoded), to: "bomb.gz")
        #expect(throws: DatasetError.inflatedTooLarge(path: file.path, limit: 50_000)) {
            try IDXFile(contentsOf: file, maxBytes: 50_000)
        }
    }

    @Test func rejectsRawFilePastTheLimit() throws {
        let directory = try TemporaryDirectory()
        defer { directory.remove() }
        let file = try directory.write(array.encoded, to: "raw")
        #expect(throws: DatasetError.fileTooLarge(path: file.path, byteCount: array.encoded.count, limit: 10)) {
            try IDXFile(contentsOf: file, maxBytes: 10)
        }
    }

    @Test func rejectsMissingFile() throws {
        let directory = try TemporaryDirectory()
        defer { directory.remove() }
        let missing = directory.url.appendingPathComponent("missing.gz")
        let error = try #require(throws: DatasetError.self) { try IDXFile(contentsOf: missing) }
        guard case .unreadableFile(missing.path, _) = error else { Issue.record("expected .unreadableFile, got \(error)"); return }
    }
}

@Suite struct IDXImageSetTests {
    func write(images: IDXFile, labels: IDXFile, in directory: TemporaryDirectory) throws -> (URL, URL) {
        (try directory.write(images.encoded, to: "images"), try directory.write(try TemporaryDirectory.gzip(labels.encoded), to: "labels.gz"))
    }

    @Test func loadsImagesAndLabels() throws {
        let directory = try TemporaryDirectory()
        defer { directory.remove() }
        let (images, labels) = try write(images: IDXFile(shape: [3, 2, 2], bytes: Array(0..<12)),
                                         labels: IDXFile(shape: [3], bytes: [2, 0, 1]), in: directory)
        let set = try LabeledImageSet.idx(images: images, labels: labels, classNames: ["a", "b", "c"])
        #expect(set.count == 3 && set.channels == 1 && set.height == 2 && set.width == 2)
        #expect(set.labels == [2, 0, 1])
        #expect(set.pixels == Array(0..<12))
        #expect(set.image(at: 1).pixels == [4, 5, 6, 7])
    }

    @Test func rejectsCountMismatch() throws {
        let directory = try TemporaryDirectory()
        defer { directory.remove() }
        let (images, labels) = try write(images: IDXFile(shape: [3, 1, 1], bytes: [0, 0, 0]),
                                         labels: IDXFile(shape: [2], bytes: [0, 1]), in: directory)
        #expect(throws: DatasetError.countMismatch(imagesPath: images.path, images: 3, labelsPath: labels.path, labels: 2)) {
            try LabeledImageSet.idx(images: images, labels: labels, classNames: ["a", "b"])
        }
    }

    @Test func rejectsLabelOutOfRange() throws {
        let directory = try TemporaryDirectory()
        defer { directory.remove() }
        let (images, labels) = try write(images: IDXFile(shape: [2, 1, 1], bytes: [0, 0]),
                                         labels: IDXFile(shape: [2], bytes: [1, 10]), in: directory)
        #expect(throws: DatasetError.labelOutOfRange(path: labels.path, index: 1, label: 10, classCount: 10)) {
            try LabeledImageSet.idx(images: images, labels: labels, classNames: (0..<10).map(String.init))
        }
    }

    @Test func rejectsImagesThatAreNotThreeDimensional() throws {
        let directory = try TemporaryDirectory()
        defer { directory.remove() }
        let (images, labels) = try write(images: IDXFile(shape: [2, 2], bytes: [0, 0, 0, 0]),
                                         labels: IDXFile(shape: [2], bytes: [0, 0]), in: directory)
        #expect(throws: DatasetError.unsupportedShape(path: images.path, shape: [2, 2], expected: "N×H×W images")) {
            try LabeledImageSet.idx(images: images, labels: labels, classNames: ["a"])
        }
    }
}
