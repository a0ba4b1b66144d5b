import CTurboJPEG

/// TurboJPEG behind Swift types: no TurboJPEG handle or code escapes this file.
enum JPEGCodec {
    static func decode(_ bytes: UnsafeRawBufferPointer, limits: ImageLimits) throws -> Image {
        guard let handle = tjInitDecompress() else {
            throw ImageError.corrupt(format: .jpeg, detail: String(cString: tjGetErrorStr2(nil)))
        }
        defer { tjDestroy(handle) }
        let source = bytes.bindMemory(to: UInt8.self)

        var width: Int32 = 0, height: Int32 = 0, subsampling: Int32 = 0, colorspace: Int32 = 0
        guard tjDecompressHeader3(handle, source.baseAddress, UInt(source.count),
                                  &width, &height, &subsampling, &colorspace) == 0 else {
            throw failure(handle, decoding: true)
        }
        // TurboJPEG can accept a header without a frame; there is nothing to decode then.
        guard width > 0, height > 0 else {
            throw ImageError.corrupt(format: .jpeg, detail: "no frame header (declared size \(width)×\(height))")
        }
        try limits.checkDimensions(width: Int(width), height: Int(height))

        let mode: ColorMode
        switch colorspace {
        case Int32(TJCS_GRAY.rawValue): mode = .gray
        case Int32(TJCS_YCbCr.rawValue), Int32(TJCS_RGB.rawValue): mode = .rgb
        default:
            throw ImageError.unsupported(format: .jpeg, detail: "CMYK and YCCK JPEGs are not supported")
        }
        let pixelFormat = mode == .gray ? TJPF_GRAY : TJPF_RGB
        var pixels = [UInt8](repeating: 0, count: Int(width) * Int(height) * mode.channels)
        let status = pixels.withUnsafeMutableBufferPointer { out in
            tjDecompress2(handle, source.baseAddress, UInt(source.count), out.baseAddress,
                          width, 0, height, Int32(pixelFormat.rawValue), 0)
        }
        guard status == 0 else { throw failure(handle, decoding: true) }
        return Image(unchecked: Int(width), height: Int(height), mode: mode, pixels: pixels)
    }

    /// Encodes at `quality` (1–100); gray images as single-channel JPEGs, RGB with 4:2:0
    /// chroma subsampling.
    static func encode(_ image: Image, quality: Int) throws -> [UInt8] {
        guard let handle = tjInitCompress() else {
            throw ImageError.encodingFailed(format: .jpeg, detail: String(cString: tjGetErrorStr2(nil)))
        }
        defer { tjDestroy(handle) }
        let pixelFormat = image.mode == .gray ? TJPF_GRAY : TJPF_RGB
        let subsampling = image.mode == .gray ? TJSAMP_GRAY : TJSAMP_420
        var buffer: UnsafeMutablePointer<UInt8>? = nil
        var length: UInt = 0
        let status = image.pixels.withUnsafeBufferPointer { src in
            tjCompress2(handle, src.baseAddress, Int32(image.width), 0, Int32(image.height),
                        Int32(pixelFormat.rawValue), &buffer, &length, Int32(subsampling.rawValue),
                        Int32(min(max(quality, 1), 100)), 0)
        }
        defer { if let buffer { tjFree(buffer) } }
        guard status == 0, let buffer else { throw failure(handle, decoding: false) }
        return [UInt8](UnsafeBufferPointer(start: buffer, count: Int(length)))
    }

    private static func failure(_ handle: tjhandle, decoding: Bool) -> ImageError {
        let detail = tjGetErrorStr2(handle).map { String(cString: $0) } ?? "unknown TurboJPEG error"
        return decoding ? .corrupt(format: .jpeg, detail: detail) : .encodingFailed(format: .jpeg, detail: detail)
    }
}
