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
        for v in 0..<(count / 8) {
            raw.storeBytes(of: inLaneTransform(raw.loadUnaligned(fromByteOffset: v * 32, as: SIMD8<Float>.self)),
                           toByteOffset: v * 32, as: SIMD8<Float>.self)
        }
        crossLaneStages(raw, vectors: count / 8)
    }

    /// Transforms x zero-padded to `order`: copies the `count` floats at `x` into `buffer`
    /// (`order` floats, a power of two ≥ `count`), transforms it in place and returns Σ x², which
    /// the copy computes on the way so a caller normalising x needs no second pass (H is linear:
    /// H(x/s) = (Hx)/s).
    @inline(__always)
    public static func transform(
        copying x: UnsafePointer<Float>, count: Int, into buffer: UnsafeMutablePointer<Float>, order: Int
    ) -> Float {
        precondition(order >= count && order > 0 && order & (order - 1) == 0, "order \(order) cannot hold \(count) values")
        if order < 8 {
            buffer.update(from: x, count: count)
            (buffer + count).update(repeating: 0, count: order - count)
            scalarTransform(buffer, count: order)
            return (0..<count).reduce(0) { $0 + x[$1] * x[$1] }
        }
        let source = UnsafeRawPointer(x), target = UnsafeMutableRawPointer(buffer)
        var squares0 = SIMD8<Float>(), squares1 = SIMD8<Float>()
        var offset = 0
        // Two accumulators so consecutive vectors do not wait on one another's sum.
        while offset + 64 <= 4 * count {
            let v0 = source.loadUnaligned(fromByteOffset: offset, as: SIMD8<Float>.self)
            let v1 = source.loadUnaligned(fromByteOffset: offset + 32, as: SIMD8<Float>.self)
            squares0 += v0 * v0
            squares1 += v1 * v1
            target.storeBytes(of: inLaneTransform(v0), toByteOffset: offset, as: SIMD8<Float>.self)
            target.storeBytes(of: inLaneTransform(v1), toByteOffset: offset + 32, as: SIMD8<Float>.self)
            offset += 64
        }
        while offset < 4 * count {
            var v = SIMD8<Float>()
            if offset + 32 <= 4 * count {
                v = source.loadUnaligned(fromByteOffset: offset, as: SIMD8<Float>.self)
            } else {
                for lane in 0..<(count - offset / 4) { v[lane] = x[offset / 4 + lane] }
            }
            squares0 += v * v
            target.storeBytes(of: inLaneTransform(v), toByteOffset: offset, as: SIMD8<Float>.self)
            offset += 32
        }
        if offset < 4 * order { (buffer + offset / 4).update(repeating: 0, count: order - offset / 4) }
        crossLaneStages(target, vectors: order / 8)
        return (squares0 + squares1).sum()
    }

    /// The stages of distance 8 and up, on `vectors` whole 8-lane vectors; three stages per pass
    /// cut the loads and stores to a third.
    @inline(__always)
    private static func crossLaneStages(_ raw: UnsafeMutableRawPointer, vectors: Int) {
        var span = 1  // the stage's distance, in vectors
        while span * 8 <= vectors {
            radix8Pass(raw, vectors: vectors, span: span)
            span *= 8
        }
        if span * 4 <= vectors {
            radix4Pass(raw, vectors: vectors, span: span)
        } else if span * 2 <= vectors {
            radix2Pass(raw, vectors: vectors, span: span)
        }
    }

    @inline(__always)
    private static func radix8Pass(_ raw: UnsafeMutableRawPointer, vectors: Int, span: Int) {
        let stride = 32 * span
        var block = 0
        while block < vectors {
            var p = raw + block * 32
            for _ in 0..<span {
                let a0 = p.loadUnaligned(as: SIMD8<Float>.self)
                let a1 = p.loadUnaligned(fromByteOffset: stride, as: SIMD8<Float>.self)
                let a2 = p.loadUnaligned(fromByteOffset: 2 * stride, as: SIMD8<Float>.self)
                let a3 = p.loadUnaligned(fromByteOffset: 3 * stride, as: SIMD8<Float>.self)
                let a4 = p.loadUnaligned(fromByteOffset: 4 * stride, as: SIMD8<Float>.self)
                let a5 = p.loadUnaligned(fromByteOffset: 5 * stride, as: SIMD8<Float>.self)
                let a6 = p.loadUnaligned(fromByteOffset: 6 * stride, as: SIMD8<Float>.self)
                let a7 = p.loadUnaligned(fromByteOffset: 7 * stride, as: SIMD8<Float>.self)
                let b0 = a0 + a1, b1 = a0 - a1, b2 = a2 + a3, b3 = a2 - a3
                let b4 = a4 + a5, b5 = a4 - a5, b6 = a6 + a7, b7 = a6 - a7
                let c0 = b0 + b2, c1 = b1 + b3, c2 = b0 - b2, c3 = b1 - b3
                let c4 = b4 + b6, c5 = b5 + b7, c6 = b4 - b6, c7 = b5 - b7
                p.storeBytes(of: c0 + c4, as: SIMD8<Float>.self)
                p.storeBytes(of: c1 + c5, toByteOffset: stride, as: SIMD8<Float>.self)
                p.storeBytes(of: c2 + c6, toByteOffset: 2 * stride, as: SIMD8<Float>.self)
                p.storeBytes(of: c3 + c7, toByteOffset: 3 * stride, as: SIMD8<Float>.self)
                p.storeBytes(of: c0 - c4, toByteOffset: 4 * stride, as: SIMD8<Float>.self)
                p.storeBytes(of: c1 - c5, toByteOffset: 5 * stride, as: SIMD8<Float>.self)
                p.storeBytes(of: c2 - c6, toByteOffset: 6 * stride, as: SIMD8<Float>.self)
                p.storeBytes(of: c3 - c7, toByteOffset: 7 * stride, as: SIMD8<Float>.self)
                p += 32
            }
            block += 8 * span
        }
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

    /// Stages 1, 2 and 4, inside one vector: each adds the lane at distance h to the vector,
    /// with the sign of the lane's own bit h (plain shuffles and one multiply by ±1 per stage,
    /// which compilers map onto vector instructions).
    @inline(__always)
    private static func inLaneTransform(_ v: SIMD8<Float>) -> SIMD8<Float> {
        var v = v
        v = SIMD8(v[1], v[0], v[3], v[2], v[5], v[4], v[7], v[6]) + v * SIMD8(1, -1, 1, -1, 1, -1, 1, -1)
        v = SIMD8(v[2], v[3], v[0], v[1], v[6], v[7], v[4], v[5]) + v * SIMD8(1, 1, -1, -1, 1, 1, -1, -1)
        return SIMD8(lowHalf: v.lowHalf + v.highHalf, highHalf: v.lowHalf - v.highHalf)
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
