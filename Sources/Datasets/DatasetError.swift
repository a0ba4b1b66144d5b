/// Why a data set could not be read or used. Every case names the file or folder at fault.
public enum DatasetError: Error, Equatable, Sendable, CustomStringConvertible {
    /// The file could not be read at all.
    case unreadableFile(path: String, reason: String)
    /// The file does not start with an IDX magic number (two zero bytes, type code, rank).
    case badMagic(path: String, found: [UInt8])
    /// The IDX type code is not 0x08 (unsigned byte), the only one image data sets use.
    case unsupportedTypeCode(path: String, code: UInt8)
    /// The IDX array has a shape the loader cannot use, e.g. images that are not N×H×W.
    case unsupportedShape(path: String, shape: [Int], expected: String)
    /// The file ends before the data its header declares.
    case truncated(path: String, expectedBytes: Int, actualBytes: Int)
    /// The file continues past the data its header declares.
    case trailingBytes(path: String, expectedBytes: Int, actualBytes: Int)
    /// An image file and its label file disagree on the number of samples.
    case countMismatch(imagesPath: String, images: Int, labelsPath: String, labels: Int)
    /// A label is not a valid class index.
    case labelOutOfRange(path: String, index: Int, label: Int, classCount: Int)
    /// The gzip stream is damaged; `reason` is zlib's message.
    case corruptGzip(path: String, reason: String)
    /// The file is larger than the size limit.
    case fileTooLarge(path: String, byteCount: Int, limit: Int)
    /// The decompressed file would exceed the size limit.
    case inflatedTooLarge(path: String, limit: Int)
    /// The image-folder root does not exist or is not a directory.
    case missingRoot(path: String)
    /// The image-folder root has no class sub-folders.
    case noClassFolders(path: String)
    /// A class folder holds no .png, .jpg or .jpeg file.
    case emptyClassFolder(path: String)
    /// An image in an image folder could not be decoded; `reason` is the decoder's message.
    case unreadableImage(path: String, reason: String)
    /// No built-in data set has this name.
    case unknownDataset(name: String, available: [String])
    /// A built-in data set's files are not where they should be.
    case notInstalled(name: String, directory: String, hint: String)
    /// An argument is out of range (e.g. a validation fraction of 1.5).
    case invalidParameter(String)

    public var description: String {
        switch self {
        case let .unreadableFile(path, reason):
            return "cannot read \(path): \(reason)"
        case let .badMagic(path, found):
            let hex = found.map { String(format2: $0) }.joined(separator: " ")
            return "\(path) is not an IDX file: it starts with \(hex.isEmpty ? "nothing" : hex), expected 00 00 <type> <rank>"
        case let .unsupportedTypeCode(path, code):
            return "\(path) has IDX type code 0x\(String(format2: code)); only 0x08 (unsigned byte) is supported"
        case let .unsupportedShape(path, shape, expected):
            return "\(path) holds an array of shape \(shape), expected \(expected)"
        case let .truncated(path, expected, actual):
            return "\(path) is truncated: its header declares \(expected) bytes, the file has \(actual)"
        case let .trailingBytes(path, expected, actual):
            return "\(path) has \(actual - expected) bytes after the \(expected) its header declares"
        case let .countMismatch(imagesPath, images, labelsPath, labels):
            return "\(imagesPath) holds \(images) images but \(labelsPath) holds \(labels) labels"
        case let .labelOutOfRange(path, index, label, classCount):
            return "\(path): label \(label) of sample \(index) is outside 0..<\(classCount)"
        case let .corruptGzip(path, reason):
            return "\(path) is not valid gzip data: \(reason)"
        case let .fileTooLarge(path, count, limit):
            return "\(path) is \(count) bytes, more than the limit of \(limit) bytes"
        case let .inflatedTooLarge(path, limit):
            return "\(path) decompresses to more than the limit of \(limit) bytes"
        case let .missingRoot(path):
            return "image folder \(path) does not exist or is not a directory"
        case let .noClassFolders(path):
            return "image folder \(path) has no class sub-folders"
        case let .emptyClassFolder(path):
            return "class folder \(path) holds no .png, .jpg or .jpeg images"
        case let .unreadableImage(path, reason):
            return "cannot decode \(path): \(reason)"
        case let .unknownDataset(name, available):
            return "unknown data set '\(name)'; available: \(available.joined(separator: ", "))"
        case let .notInstalled(name, directory, hint):
            return "data set '\(name)' is not installed in \(directory) (\(hint))"
        case let .invalidParameter(detail):
            return "invalid parameter: \(detail)"
        }
    }
}

extension String {
    /// Two upper-case hex digits.
    fileprivate init(format2 byte: UInt8) {
        let digits = String(byte, radix: 16, uppercase: true)
        self = digits.count == 1 ? "0" + digits : digits
    }
}
