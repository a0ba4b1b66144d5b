import Datasets
import ImageCodec
import ModelStore

/// Turns what clients send into the model's input rows: normalised Float32 [C·H·W] per sample.
///
/// Accepts the three forms a model's `input` takes: FP32 [B, C, H, W] already normalised, UINT8
/// raw pixels [B, H, W] or [B, H, W, C] that the server normalises, and BYTES [B] of encoded PNG or
/// JPEG images that the server decodes, converts to the model's colour mode, resizes and normalises.
public struct InputPreprocessor: Sendable {
    public let channels: Int
    public let height: Int
    public let width: Int
    public let normalization: Normalization
    /// How encoded images of another size are brought to height × width.
    public let resize: ModelInput.ResizePolicy
    public let imageLimits: ImageLimits
    /// The normalisation's lookup table, made once per model.
    private let normalizer: PixelNormalizer

    public init(
        channels: Int, height: Int, width: Int, normalization: Normalization,
        resize: ModelInput.ResizePolicy = .stretch, imageLimits: ImageLimits = .default
    ) {
        self.channels = channels
        self.height = height
        self.width = width
        self.normalization = normalization
        self.resize = resize
        self.imageLimits = imageLimits
        self.normalizer = PixelNormalizer(mean: normalization.mean, std: normalization.std)
    }

    /// The colour mode images are converted to.
    public var mode: ColorMode { channels == 1 ? .gray : .rgb }

    /// The number of floats in one row.
    public var rowSize: Int { channels * height * width }

    /// The number of rows (samples) in an input tensor, after checking that its shape fits the
    /// model: what a request must know before it joins a batch.
    ///
    /// - Throws: `ServiceError` (400) saying which dimension is wrong.
    public func rowCount(shape: [Int], data: TensorData) throws -> Int {
        switch data {
        case .fp32:
            guard shape.count == 4, shape[1] == channels, shape[2] == height, shape[3] == width else {
                throw ServiceError.badRequest(
                    "FP32 input must have shape [batch, \(channels), \(height), \(width)] (normalised CHW), got \(shape)")
            }
        case .uint8:
            let hwc = shape.count == 4 && shape[3] == channels
            let hw = shape.count == 3 && channels == 1
            guard (hwc || hw), shape[1] == height, shape[2] == width else {
                let expected = channels == 1 ? "[batch, \(height), \(width)] or [batch, \(height), \(width), 1]" : "[batch, \(height), \(width), \(channels)]"
                throw ServiceError.badRequest("UINT8 input must have shape \(expected) (raw pixels), got \(shape)")
            }
        case .bytes:
            guard shape.count == 1 || (shape.count == 2 && shape[1] == 1) else {
                throw ServiceError.badRequest("BYTES input must have shape [batch] (one encoded image each), got \(shape)")
            }
        }
        return shape[0]
    }

    /// Writes the rows of an input tensor whose shape `rowCount(shape:data:)` accepted into
    /// `output` (`rows × rowSize` floats): FP32 copied, UINT8 normalised, BYTES decoded and
    /// normalised, each straight into its row.
    ///
    /// - Throws: `ServiceError` 400 (413 for an image too large) naming the image at fault.
    public func write(_ data: TensorData, into output: UnsafeMutableBufferPointer<Float>) throws {
        let size = rowSize, rows = output.count / size
        // The request decoder has checked the element count against the shape; a mismatch here
        // would write past the request's rows.
        let fits: Bool
        switch data {
        case .fp32(let values): fits = values.count == rows * size
        case .uint8(let pixels): fits = pixels.count == rows * size
        case .bytes(let encoded): fits = encoded.count == rows
        }
        guard fits, output.count == rows * size else {
            throw ServiceError.badRequest("the input's data does not fill its shape (\(rows) samples of \(size) values)")
        }
        switch data {
        case .fp32(let values):
            _ = output.initialize(from: values)
        case .uint8(let pixels):
            // Each image HWC → CHW on its own: the planes of one sample must not span two.
            pixels.withUnsafeBufferPointer { pixels in
                for row in 0..<rows {
                    normalizer.write(UnsafeBufferPointer(rebasing: pixels[row * size..<(row + 1) * size]),
                                     into: UnsafeMutableBufferPointer(rebasing: output[row * size..<(row + 1) * size]))
                }
            }
        case .bytes(let encoded):
            for (index, bytes) in encoded.enumerated() {
                try write(encodedImage: bytes, index: index,
                          into: UnsafeMutableBufferPointer(rebasing: output[index * size..<(index + 1) * size]))
            }
        }
    }

    /// One row from an encoded PNG or JPEG image.
    ///
    /// - Throws: `ServiceError` 400 with the decoder's reason (413 when the image is too large).
    public func row(fromEncodedImage bytes: [UInt8], index: Int? = nil) throws -> [Float] {
        var row = [Float](repeating: 0, count: rowSize)
        try row.withUnsafeMutableBufferPointer { try write(encodedImage: bytes, index: index, into: $0) }
        return row
    }

    /// Decodes an encoded PNG or JPEG image, fits it to the model and writes it as one
    /// normalised row into `output` (`rowSize` floats).
    ///
    /// - Throws: `ServiceError` 400 with the decoder's reason (413 when the image is too large).
    public func write(encodedImage bytes: [UInt8], index: Int? = nil, into output: UnsafeMutableBufferPointer<Float>) throws {
        let which = index.map { "image \($0)" } ?? "the image"
        do {
            let image = try ImageDecoder.decode(bytes, limits: imageLimits)
            normalizer.write(try fitted(image, which: which), into: output)
        } catch let error as ImageError {
            switch error {
            case .encodedDataTooLarge, .tooManyPixels:
                throw ServiceError.payloadTooLarge("\(which): \(error)")
            default:
                throw ServiceError.badRequest("\(which): \(error)")
            }
        }
    }

    /// The image in the model's colour mode and size, following the resize policy.
    private func fitted(_ image: Image, which: String) throws -> Image {
        switch resize {
        case .exact:
            guard image.width == width, image.height == height else {
                throw ServiceError.badRequest(
                    "\(which) is \(image.width)×\(image.height) pixels; this model takes exactly \(width)×\(height)")
            }
            return image.converted(to: mode)
        case .stretch:
            return try image.prepared(mode: mode, width: width, height: height)
        case .centerCrop:
            // Scale so the image covers width × height, then cut out the centre.
            let scale = max(Double(width) / Double(image.width), Double(height) / Double(image.height))
            let scaledWidth = max(width, Int((Double(image.width) * scale).rounded()))
            let scaledHeight = max(height, Int((Double(image.height) * scale).rounded()))
            let scaled = try image.prepared(mode: mode, width: scaledWidth, height: scaledHeight)
            let x0 = (scaledWidth - width) / 2, y0 = (scaledHeight - height) / 2
            let c = mode.channels
            var pixels = [UInt8](repeating: 0, count: width * height * c)
            for y in 0..<height {
                let src = ((y0 + y) * scaledWidth + x0) * c
                pixels.replaceSubrange(y * width * c..<(y + 1) * width * c, with: scaled.pixels[src..<src + width * c])
            }
            return try Image(width: width, height: height, mode: mode, pixels: pixels)
        }
    }
}
