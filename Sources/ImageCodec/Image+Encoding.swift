extension Image {
    /// The image as a PNG file (8-bit gray or RGB, lossless).
    ///
    /// - Throws: `ImageError.encodingFailed` with libspng's message.
    public func pngData() throws -> [UInt8] {
        try PNGCodec.encode(self)
    }

    /// The image as a baseline JPEG file at `quality` (1–100, clamped); gray images stay
    /// single-channel, RGB uses 4:2:0 chroma subsampling.
    ///
    /// - Throws: `ImageError.encodingFailed` with TurboJPEG's message.
    public func jpegData(quality: Int = 90) throws -> [UInt8] {
        try JPEGCodec.encode(self, quality: quality)
    }

    /// The image encoded as `format` (JPEG at quality 90).
    public func encoded(as format: ImageFormat) throws -> [UInt8] {
        switch format {
        case .png: return try pngData()
        case .jpeg: return try jpegData()
        }
    }
}
