/// The fast Walsh–Hadamard transform: y = H x for the Sylvester Hadamard matrix H of order n
/// (a power of two) in natural order, H[i][j] = (−1)^popcount(i & j).
///
/// Unnormalised (H H = n I), in place, additions and subtractions only, O(n log n). H is
/// symmetric, so the same routine applies Hᵀ.
public enum FastWalshHadamard {
    /// Transforms the `count` floats at `x` in place; `count` must be a power of two.
    public static func transform(_ x: UnsafeMutablePointer<Float>, count: Int) {
        precondition(count > 0 && count & (count - 1) == 0, "transform length \(count) is not a power of two")
        if count < 8 {
            scalarTransform(x, count: count)
            return
        }
        let raw = UnsafeMutableRawPointer(x)
        let vectors = count / 8
        // Stages 1, 2 and 4 stay inside one 8-lane vector.
        for v in 0..<vectors {
            raw.storeBytes(of: inLaneTransform(raw.loadUnaligned(fromByteOffset: v * 32, as: SIMD8<Float>.self)),
                           toByteOffset: v * 32, as: SIMD8<Float>.self)
        }
        // The remaining stages pair whole vectors; two stages per pass halve the memory traffic.
        var span = 1  // the stage's distance, in vectors
        while span * 4 <= vectors {
            radix4Pass(raw, vectors: vectors, span: span)
            span *= 4
        }
        if span < vectors { radix2Pass(raw, vectors: vectors, span: span) }
    }

    /// Transforms each of the `rows` consecutive rows of `count` floats at `x` in place.
    public static func transformRows(_ x: UnsafeMutablePointer<Float>, rows: Int, count: Int) {
        for r in 0..<rows { transform(x + r * count, count: count) }
    }

    /// The smallest power of two ≥ `n` (1 for n ≤ 1).
    public static func order(atLeast n: Int) -> Int {
        var order = 1
        while order < n { order <<= 1 }
        return order
    }

    /// Three stages on one vector. Each step maps (even lanes e, odd lanes o) to (e + o | e − o);
    /// three of them apply H₂ to every bit of the lane index once, leaving natural order.
    @inline(__always)
    private static func inLaneTransform(_ v: SIMD8<Float>) -> SIMD8<Float> {
        var v = v
        for _ in 0..<3 {
            let even = v.evenHalf, odd = v.oddHalf
            v = SIMD8(lowHalf: even + odd, highHalf: even - odd)
        }
        return v
    }

    @inline(__always)
    private static func radix4Pass(_ raw: UnsafeMutableRawPointer, vectors: Int, span: Int) {
        let stride = 32 * span
        var block = 0
        while block < vectors {
            var p = raw + block * 32
            for _ in 0..<span {
                let a = p.loadUnaligned(as: SIMD8<Float>.self)
                let b = p.loadUnaligned(fromByteOffset: stride, as: SIMD8<Float>.self)
                let c = p.loadUnaligned(fromByteOffset: 2 * stride, as: SIMD8<Float>.self)
                let d = p.loadUnaligned(fromByteOffset: 3 * stride, as: SIMD8<Float>.self)
                let s0 = a + b, d0 = a - b, s1 = c + d, d1 = c - d
                p.storeBytes(of: s0 + s1, as: SIMD8<Float>.self)
                p.storeBytes(of: d0 + d1, toByteOffset: stride, as: SIMD8<Float>.self)
                p.storeBytes(of: s0 - s1, toByteOffset: 2 * stride, as: SIMD8<Float>.self)
                p.storeBytes(of: d0 - d1, toByteOffset: 3 * stride, as: SIMD8<Float>.self)
                p += 32
            }
            block += 4 * span
        }
    }

    @inline(__always)
    private static func radix2Pass(_ raw: UnsafeMutableRawPointer, vectors: Int, span: Int) {
        let stride = 32 * span
        var block = 0
        while block < vectors {
            var p = raw + block * 32
            for _ in 0..<span {
                let a = p.loadUnaligned(as: SIMD8<Float>.self)
                let b = p.loadUnaligned(fromByteOffset: stride, as: SIMD8<Float>.self)
                p.storeBytes(of: a + b, as: SIMD8<Float>.self)
                p.storeBytes(of: a - b, toByteOffset: stride, as: SIMD8<Float>.self)
                p += 32
            }
            block += 2 * span
        }
    }

    private static func scalarTransform(_ x: UnsafeMutablePointer<Float>, count: Int) {
        var half = 1
        while half < count {
            for start in stride(from: 0, to: count, by: 2 * half) {
                for i in start..<(start + half) {
                    let a = x[i], b = x[i + half]
                    x[i] = a + b
                    x[i + half] = a - b
                }
            }
            half *= 2
        }
    }
}
