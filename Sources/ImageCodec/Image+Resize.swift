extension Image {
    /// The image scaled to `width × height` (each axis independently, aspect ratio not kept).
    ///
    /// Each axis is resampled separably. Where an axis shrinks by a factor of 2 or more, each
    /// output pixel is the area average of the source pixels it covers (fractional coverage
    /// weighted), which avoids aliasing; otherwise it is bilinear with pixel-centre alignment:
    /// output pixel `i` samples source coordinate `(i + 0.5)·(source/target) − 0.5`, clamped to
    /// the edge (OpenCV's `INTER_LINEAR`, PyTorch's `align_corners=False`). Results are rounded
    /// to nearest, so a constant image stays constant.
    ///
    /// - Throws: `ImageError.invalidDimensions` if a side is not positive.
    public func resized(width newWidth: Int, height newHeight: Int) throws -> Image {
        guard newWidth > 0, newHeight > 0,
              newWidth.multipliedReportingOverflow(by: newHeight).overflow == false,
              (newWidth * newHeight).multipliedReportingOverflow(by: mode.channels).overflow == false
        else { throw ImageError.invalidDimensions(width: newWidth, height: newHeight) }
        if newWidth == width && newHeight == height { return self }

        let channels = mode.channels
        let columns = ResampleKernel(source: width, target: newWidth)
        let rows = ResampleKernel(source: height, target: newHeight)
        // Horizontal pass into Float rows [height, newWidth, C], then vertical into bytes.
        var horizontal = [Float](repeating: 0, count: height * newWidth * channels)
        var out = [UInt8](repeating: 0, count: newHeight * newWidth * channels)
        pixels.withUnsafeBufferPointer { src in
            horizontal.withUnsafeMutableBufferPointer { mid in
                for y in 0..<height {
                    let srcRow = y * width * channels, midRow = y * newWidth * channels
                    for x in 0..<newWidth {
                        let start = columns.starts[x], taps = columns.taps, w = x * taps
                        for c in 0..<channels {
                            var sum: Float = 0
                            for t in 0..<taps where columns.weights[w + t] != 0 {
                                sum += columns.weights[w + t] * Float(src[srcRow + (start + t) * channels + c])
                            }
                            mid[midRow + x * channels + c] = sum
                        }
                    }
                }
            }
            horizontal.withUnsafeBufferPointer { mid in
                out.withUnsafeMutableBufferPointer { dst in
                    let rowLength = newWidth * channels
                    var accumulator = [Float](repeating: 0, count: rowLength)
                    accumulator.withUnsafeMutableBufferPointer { acc in
                        for y in 0..<newHeight {
                            for i in 0..<rowLength { acc[i] = 0 }
                            let start = rows.starts[y], taps = rows.taps
                            for t in 0..<taps {
                                let weight = rows.weights[y * taps + t]
                                if weight == 0 { continue }
                                let midRow = (start + t) * rowLength
                                for i in 0..<rowLength { acc[i] += weight * mid[midRow + i] }
                            }
                            let dstRow = y * rowLength
                            for i in 0..<rowLength {
                                dst[dstRow + i] = UInt8(min(max(acc[i].rounded(), 0), 255))
                            }
                        }
                    }
                }
            }
        }
        return Image(unchecked: newWidth, height: newHeight, mode: mode, pixels: out)
    }
}
