import Dispatch
import Foundation
import ImageCodec

extension LabeledImageSet {
    /// The file extensions read from class folders, compared case-insensitively.
    public static let imageFileExtensions: Set<String> = ["png", "jpg", "jpeg"]

    /// An image set from a folder tree `root/<class>/<image>` (like torchvision's ImageFolder).
    ///
    /// Classes are the sub-folders of `root` sorted by name, labelled 0, 1, …; within a class,
    /// files are taken in name order. Hidden entries, files directly under `root` and files
    /// other than .png/.jpg/.jpeg are ignored. Every image is decoded, converted to `mode` and
    /// resized to `width × height` (see `Image.resized(width:height:)`). Decoding runs on all cores.
    ///
    /// - Throws: `DatasetError` — `.missingRoot`, `.noClassFolders`, `.emptyClassFolder`,
    ///   `.unreadableImage` (naming the file and carrying the decoder's message; the first
    ///   failing file in class and name order is reported).
    public static func imageFolder(at root: URL, mode: ColorMode, width: Int, height: Int,
                                   limits: ImageLimits = .default) throws -> LabeledImageSet {
        guard width > 0, height > 0 else {
            throw DatasetError.invalidParameter("image size \(width)×\(height) is not positive")
        }
        let manager = FileManager.default
        var isDirectory: ObjCBool = false
        guard manager.fileExists(atPath: root.path, isDirectory: &isDirectory), isDirectory.boolValue else {
            throw DatasetError.missingRoot(path: root.path)
        }
        let classFolders = try entries(of: root).filter(isFolder).sorted { $0.lastPathComponent < $1.lastPathComponent }
        guard !classFolders.isEmpty else { throw DatasetError.noClassFolders(path: root.path) }

        var files = [URL]()
        var labels = [Int]()
        for (label, folder) in classFolders.enumerated() {
            let images = try entries(of: folder)
                .filter { imageFileExtensions.contains($0.pathExtension.lowercased()) && !isFolder($0) }
                .sorted { $0.lastPathComponent < $1.lastPathComponent }
            guard !images.isEmpty else { throw DatasetError.emptyClassFolder(path: folder.path) }
            files += images
            labels += Array(repeating: label, count: images.count)
        }

        let sampleSize = mode.channels * height * width
        var pixels = [UInt8](repeating: 0, count: files.count * sampleSize)
        var failures = [DatasetError?](repeating: nil, count: files.count)
        pixels.withUnsafeMutableBufferPointer { pixels in
            failures.withUnsafeMutableBufferPointer { failures in
                // Each iteration writes only its own slice of both buffers.
                let pixelBase = pixels.baseAddress!, failureBase = failures.baseAddress!
                DispatchQueue.concurrentPerform(iterations: files.count) { index in
                    do {
                        let image = try ImageDecoder.decode(contentsOf: files[index], limits: limits)
                            .prepared(mode: mode, width: width, height: height)
                        writePlanar(image, into: pixelBase + index * sampleSize)
                    } catch {
                        failureBase[index] = .unreadableImage(path: files[index].path, reason: "\(error)")
                    }
                }
            }
        }
        if let failure = failures.first(where: { $0 != nil }) ?? nil { throw failure }
        return LabeledImageSet(unchecked: mode.channels, height: height, width: width, pixels: pixels,
                               labels: labels, classNames: classFolders.map(\.lastPathComponent))
    }

    private static func entries(of folder: URL) throws -> [URL] {
        do {
            return try FileManager.default.contentsOfDirectory(at: folder, includingPropertiesForKeys: [.isDirectoryKey],
                                                               options: [.skipsHiddenFiles])
        } catch {
            throw DatasetError.unreadableFile(path: folder.path, reason: (error as NSError).localizedDescription)
        }
    }

    private static func isFolder(_ url: URL) -> Bool {
        var isDirectory: ObjCBool = false
        return FileManager.default.fileExists(atPath: url.path, isDirectory: &isDirectory) && isDirectory.boolValue
    }

    /// Interleaved HWC pixels to planar CHW bytes.
    private static func writePlanar(_ image: Image, into destination: UnsafeMutablePointer<UInt8>) {
        let channels = image.mode.channels, area = image.width * image.height
        image.pixels.withUnsafeBufferPointer { src in
            for c in 0..<channels {
                for p in 0..<area { destination[c * area + p] = src[p * channels + c] }
            }
        }
    }
}
