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
    }

    /// The colour mode images are converted to.
    public var mode: ColorMode { channels == 1 ? .gray : .rgb }

    /// The number of floats in one row.
    public var rowSize: Int { channels * height * width }

    /// The rows of an input tensor.
    ///
    /// - Throws: `ServiceError` (400) saying which dimension or element is wrong.
    public func rows(shape: [Int], data: TensorData) throws -> [[Float]] {
        switch data {
        case .fp32(let values):
            guard shape.count == 4, shape[1] == channels, shape[2] == height, shape[3] == width else {
                throw ServiceError.badRequest(
                    "FP32 input must have shape [batch, \(channels), \(height), \(width)] (normalised CHW), got \(shape)")
            }
            return (0..<shape[0]).map { Array(values[$0 * rowSize..<($0 + 1) * rowSize]) }
        case .uint8(let pixels):
            let hwc = shape.count == 4 && shape[3] == channels
            let hw = shape.count == 3 && channels == 1
            guard (hwc || hw), shape[1] == height, shape[2] == width else {
                let expected = channels == 1 ? "[batch, \(height), \(width)] or [batch, \(height), \(width), 1]" : "[batch, \(height), \(width), \(channels)]"
                throw ServiceError.badRequest("UINT8 input must have shape \(expected) (raw pixels), got \(shape)")
            }
            let perImage = height * width * channels
            return try (0..<shape[0]).map { b in
                let image = try Image(width: width, height: height, mode: mode,
                                      pixels: Array(pixels[b * perImage..<(b + 1) * perImage]))
                return normalized(image)
            }
        case .bytes(let encoded):
            guard shape.count == 1 || (shape.count == 2 && shape[1] == 1) else {
                throw ServiceError.badRequest("BYTES input must have shape [batch] (one encoded image each), got \(shape)")
            }
            return try encoded.enumerated().map { index, bytes in try row(fromEncodedImage: bytes, index: index) }
        }
    }

    /// One row from an encoded PNG or JPEG image.
    ///
    /// - Throws: `ServiceError` 400 with the decoder's reason (413 when the image is too large).
    public func row(fromEncodedImage bytes: [UInt8], index: Int? = nil) throws -> [Float] {
        let which = index.map { "image \($0)" } ?? "the image"
        do {
            let image = try ImageDecoder.decode(bytes, limits: imageLimits)
            return normalized(try fitted(image, which: which))
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

    private func normalized(_ image: Image) -> [Float] {
        image.normalizedCHW(mean: normalization.mean, std: normalization.std)
    }
}
