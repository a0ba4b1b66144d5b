/// The fixed heads' input normalisation: each row x of [B, N] becomes x̂ = x / (‖x‖₂ + ε).
public enum FeatureNormalization {
    /// ε in x / (‖x‖₂ + ε): keeps an all-zero feature vector finite (it maps to zero).
    public static let epsilon: Float = 1e-6

    /// ‖x‖₂ of the `count` floats at `x`, with several SIMD accumulators so the sum pipelines.
    @inline(__always)
    static func norm(_ x: UnsafePointer<Float>, count: Int) -> Float {
        let raw = UnsafeRawPointer(x)
        var a0 = SIMD8<Float>(), a1 = SIMD8<Float>(), a2 = SIMD8<Float>(), a3 = SIMD8<Float>()
        var i = 0
        while i + 32 <= count {
            let v0 = raw.loadUnaligned(fromByteOffset: 4 * i, as: SIMD8<Float>.self)
            let v1 = raw.loadUnaligned(fromByteOffset: 4 * i + 32, as: SIMD8<Float>.self)
            let v2 = raw.loadUnaligned(fromByteOffset: 4 * i + 64, as: SIMD8<Float>.self)
            let v3 = raw.loadUnaligned(fromByteOffset: 4 * i + 96, as: SIMD8<Float>.self)
            a0 += v0 * v0; a1 += v1 * v1; a2 += v2 * v2; a3 += v3 * v3
            i += 32
        }
        while i + 8 <= count {
            let v = raw.loadUnaligned(fromByteOffset: 4 * i, as: SIMD8<Float>.self)
            a0 += v * v
            i += 8
        }
        var sum = ((a0 + a1) + (a2 + a3)).sum()
        while i < count {
            sum += x[i] * x[i]
            i += 1
        }
        return sum.squareRoot()
    }

    /// `y = x · scale` for j < `count`, then zeros up to `paddedCount`.
    @inline(__always)
    static func scaleAndPad(
        _ x: UnsafePointer<Float>, count: Int, scale: Float, into y: UnsafeMutablePointer<Float>, paddedCount: Int
    ) {
        let source = UnsafeRawPointer(x), target = UnsafeMutableRawPointer(y)
        let s = SIMD8<Float>(repeating: scale)
        var i = 0
        while i + 8 <= count {
            target.storeBytes(of: source.loadUnaligned(fromByteOffset: 4 * i, as: SIMD8<Float>.self) * s,
                              toByteOffset: 4 * i, as: SIMD8<Float>.self)
            i += 8
        }
        while i < count {
            y[i] = x[i] * scale
            i += 1
        }
        if paddedCount > count { (y + count).update(repeating: 0, count: paddedCount - count) }
    }

    /// dL/dx for one row from dL/dx̂, given x and r = ‖x‖₂ (`count` floats each):
    /// dL/dx = g/s − x·(x·g)/(s²·r) with s = r + ε; the second term vanishes at x = 0.
    static func backward(
        input x: UnsafePointer<Float>, norm r: Float, gradient g: UnsafePointer<Float>,
        into result: UnsafeMutablePointer<Float>, count: Int
    ) {
        let s = r + epsilon
        var dot: Float = 0
        for j in 0..<count { dot += x[j] * g[j] }
        let radial = r > 0 ? dot / (s * s * r) : 0
        let inverse = 1 / s
        for j in 0..<count { result[j] = g[j] * inverse - x[j] * radial }
    }
}
