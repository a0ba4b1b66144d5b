import Foundation

extension LabeledImageSet {
    /// A gray image set from an MNIST-style pair of IDX files (raw or gzip): images
    /// N×H×W bytes, labels N bytes.
    ///
    /// - Throws: `DatasetError` — any `IDXFile` error, `.unsupportedShape` for images that
    ///   are not 3-D or labels that are not 1-D, `.countMismatch`, `.labelOutOfRange`.
    public static func idx(images imagesURL: URL, labels labelsURL: URL, classNames: [String],
                           maxBytes: Int = IDXFile.defaultMaxBytes) throws -> LabeledImageSet {
        let images = try IDXFile(contentsOf: imagesURL, maxBytes: maxBytes)
        let labels = try IDXFile(contentsOf: labelsURL, maxBytes: maxBytes)
        guard images.shape.count == 3, images.shape[1] > 0, images.shape[2] > 0 else {
            throw DatasetError.unsupportedShape(path: imagesURL.path, shape: images.shape, expected: "N×H×W images")
        }
        guard labels.shape.count == 1 else {
            throw DatasetError.unsupportedShape(path: labelsURL.path, shape: labels.shape, expected: "N labels")
        }
        guard images.shape[0] == labels.shape[0] else {
            throw DatasetError.countMismatch(imagesPath: imagesURL.path, images: images.shape[0],
                                             labelsPath: labelsURL.path, labels: labels.shape[0])
        }
        if let bad = labels.bytes.firstIndex(where: { Int($0) >= classNames.count }) {
            throw DatasetError.labelOutOfRange(path: labelsURL.path, index: bad, label: Int(labels.bytes[bad]),
                                               classCount: classNames.count)
        }
        return LabeledImageSet(unchecked: 1, height: images.shape[1], width: images.shape[2], pixels: images.bytes,
                               labels: labels.bytes.map { Int($0) }, classNames: classNames)
    }
}
