extension Image {
    /// The image in `mode`: gray → RGB repeats the luma in all three channels; RGB → gray uses
    /// ITU-R BT.601 luma, `Y = 0.299 R + 0.587 G + 0.114 B`, rounded to nearest.
    public func converted(to mode: ColorMode) -> Image {
        guard mode != self.mode else { return self }
        let count = width * height
        var out = [UInt8](repeating: 0, count: count * mode.channels)
        pixels.withUnsafeBufferPointer { src in
            out.withUnsafeMutableBufferPointer { dst in
                switch mode {
                case .rgb:
                    for p in 0..<count {
                        let y = src[p]
                        dst[3 * p] = y; dst[3 * p + 1] = y; dst[3 * p + 2] = y
                    }
                case .gray:
                    // BT.601 weights in 16-bit fixed point; they sum to exactly 65536, so white stays 255.
                    for p in 0..<count {
                        let r = UInt32(src[3 * p]), g = UInt32(src[3 * p + 1]), b = UInt32(src[3 * p + 2])
                        dst[p] = UInt8((19_595 * r + 38_470 * g + 7_471 * b + 32_768) >> 16)
                    }
                }
            }
        }
        return Image(unchecked: width, height: height, mode: mode, pixels: out)
    }

    /// The model input policy in one call: convert to `mode`, then resize to `width × height`.
    public func prepared(mode: ColorMode, width: Int, height: Int) throws -> Image {
        try converted(to: mode).resized(width: width, height: height)
    }
}
