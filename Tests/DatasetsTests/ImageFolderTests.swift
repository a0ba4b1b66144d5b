import Foundation
import ImageCodec
import Testing
@testable import Datasets

@Suite struct ImageFolderTests {
    func constant(_ value: UInt8, mode: ColorMode = .gray) throws -> Image {
        try Image(width: 8, height: 6, mode: mode, repeating: value)
    }

    @Test func readsClassesInNameOrder() throws {
        let root = try TemporaryDirectory()
        defer { root.remove() }
        try root.write(try constant(200).pngData(), to: "dog/b.png")
        try root.write(try constant(100, mode: .rgb).jpegData(quality: 95), to: "cat/a.JPG")
        try root.write(try constant(50).pngData(), to: "cat/c.png")
        try root.write(Array("not an image".utf8), to: "cat/notes.txt")
        try root.write(Array("hidden".utf8), to: "cat/.hidden.png")
        try root.write(try constant(0).pngData(), to: "stray.png")

        let set = try LabeledImageSet.imageFolder(at: root.url, mode: .gray, width: 4, height: 3)
        #expect(set.classNames == ["cat", "dog"])
        #expect(set.labels == [0, 0, 1])
        #expect(set.channels == 1 && set.width == 4 && set.height == 3)
        let firstImage = set.pixels[0..<12], secondImage = set.pixels[12..<24], thirdImage = set.pixels[24..<36]
        #expect(firstImage.allSatisfy { abs(Int($0) - 100) <= 2 }, "JPEG image: \(Array(firstImage))")
        #expect(secondImage.allSatisfy { $0 == 50 } && thirdImage.allSatisfy { $0 == 200 })
    }

    @Test func convertsGrayToRGBPlanar() throws {
        let root = try TemporaryDirectory()
        defer { root.remove() }
        try root.write(try constant(77).pngData(), to: "only/x.png")
        let set = try LabeledImageSet.imageFolder(at: root.url, mode: .rgb, width: 5, height: 5)
        #expect(set.channels == 3 && set.pixels.count == 75 && set.pixels.allSatisfy { $0 == 77 })
    }

    @Test func storesRGBChannelsAsPlanes() throws {
        let root = try TemporaryDirectory()
        defer { root.remove() }
        let image = try Image(width: 2, height: 1, mode: .rgb, pixels: [1, 2, 3, 4, 5, 6])
        try root.write(try image.pngData(), to: "k/x.png")
        let set = try LabeledImageSet.imageFolder(at: root.url, mode: .rgb, width: 2, height: 1)
        #expect(set.pixels == [1, 4, 2, 5, 3, 6])
        #expect(set.image(at: 0) == image)
    }

    @Test func rejectsMissingRoot() throws {
        let root = try TemporaryDirectory()
        defer { root.remove() }
        let missing = root.url.appendingPathComponent("nope")
        #expect(throws: DatasetError.missingRoot(path: missing.path)) {
            try LabeledImageSet.imageFolder(at: missing, mode: .gray, width: 2, height: 2)
        }
    }

    @Test func rejectsRootWithoutClassFolders() throws {
        let root = try TemporaryDirectory()
        defer { root.remove() }
        try root.write(try constant(1).pngData(), to: "loose.png")
        #expect(throws: DatasetError.noClassFolders(path: root.url.path)) {
            try LabeledImageSet.imageFolder(at: root.url, mode: .gray, width: 2, height: 2)
        }
    }

    @Test func rejectsEmptyClassFolder() throws {
        let root = try TemporaryDirectory()
        defer { root.remove() }
        try root.write(try constant(1).pngData(), to: "a/x.png")
        try root.makeFolder("b")
        try root.write(Array("text".utf8), to: "b/readme.txt")
        #expect(throws: DatasetError.emptyClassFolder(path: root.url.appendingPathComponent("b").path)) {
            try LabeledImageSet.imageFolder(at: root.url, mode: .gray, width: 2, height: 2)
        }
    }

    @Test func rejectsUnreadableImageNamingTheFile() throws {
        let root = try TemporaryDirectory()
        defer { root.remove() }
        try root.write(try constant(1).pngData(), to: "a/good.png")
        let bad = try root.write(Array("GIF89a not really".utf8), to: "a/bad.png")
        let error = try #require(throws: DatasetError.self) {
            try LabeledImageSet.imageFolder(at: root.url, mode: .gray, width: 2, height: 2)
        }
        guard case let .unreadableImage(path, reason) = error else { Issue.record("expected .unreadableImage, got \(error)"); return }
        #expect(path == bad.path)
        #expect(reason.contains("unrecognised image format"), "reason: \(reason)")
    }
}
