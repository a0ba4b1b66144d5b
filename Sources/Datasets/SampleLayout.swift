/// Writes one [C, H, W] byte image into Float storage through the normalisation table.
struct SampleLayout {
    /// Output pixel (y, x) reads source pixel (y + dy, x' + dx) with x' = W − 1 − x when
    /// flipped, else x; outside the image it reads 0 (zero padding).
    struct Shift {
        var dy: Int, dx: Int, flip: Bool
        static let identity = Shift(dy: 0, dx: 0, flip: false)
    }

    let channels: Int, height: Int, width: Int

    /// `source`: [C, H, W] bytes; `destination`: [C, H, W] floats; `table`: [C, 256].
    func write(source: UnsafePointer<UInt8>, into destination: UnsafeMutablePointer<Float>,
               table: UnsafePointer<Float>, shift: Shift) {
        let area = height * width
        for c in 0..<channels {
            let src = source + c * area, dst = destination + c * area, lut = table + c * 256
            if shift.dy == 0 && shift.dx == 0 && !shift.flip {
                for p in 0..<area { dst[p] = lut[Int(src[p])] }
                continue
            }
            let zero = lut[0]
            for y in 0..<height {
                let sy = y + shift.dy
                let outRow = dst + y * width
                guard sy >= 0 && sy < height else {
                    for x in 0..<width { outRow[x] = zero }
                    continue
                }
                let inRow = src + sy * width
                for x in 0..<width {
                    let sx = (shift.flip ? width - 1 - x : x) + shift.dx
                    outRow[x] = sx >= 0 && sx < width ? lut[Int(inRow[sx])] : zero
                }
            }
        }
    }
}
