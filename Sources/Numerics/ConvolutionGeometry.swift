import LinearAlgebra

/// The sizes of one 2-D convolution over one sample, and the im2col kernels (unfold and fold) built on them.
///
/// Dimension letters: C input channels, O output channels, k the square kernel side,
/// H×W the input plane, H'×W' the output plane, P = H'·W' output positions and K = C·k·k
/// the length of one unfolded patch. A sample is [C, H, W] → [O, H', W'].
struct ConvolutionGeometry: Equatable {
    let inChannels: Int
    let outChannels: Int
    let kernel: Int
    let stride: Int
    let padding: Int
    let inHeight: Int
    let inWidth: Int
    let outHeight: Int
    let outWidth: Int

    init(inChannels: Int, outChannels: Int, kernel: Int, stride: Int, padding: Int, inHeight: Int, inWidth: Int) {
        precondition(kernel > 0 && stride > 0 && padding >= 0, "invalid convolution hyperparameters")
        precondition(inHeight + 2 * padding >= kernel && inWidth + 2 * padding >= kernel,
                     "a \(kernel)×\(kernel) kernel does not fit a padded \(inHeight)×\(inWidth) input")
        self.inChannels = inChannels
        self.outChannels = outChannels
        self.kernel = kernel
        self.stride = stride
        self.padding = padding
        self.inHeight = inHeight
        self.inWidth = inWidth
        self.outHeight = (inHeight + 2 * padding - kernel) / stride + 1
        self.outWidth = (inWidth + 2 * padding - kernel) / stride + 1
    }

    /// P, the number of output positions per channel.
    var positions: Int { outHeight * outWidth }
    /// K, the length of one unfolded patch.
    var patchSize: Int { inChannels * kernel * kernel }
    /// Elements of one input sample, C·H·W.
    var inputSize: Int { inChannels * inHeight * inWidth }
    /// Elements of one output sample, O·P.
    var outputSize: Int { outChannels * positions }
    /// A 1×1 stride-1 unpadded convolution reads the image itself as its [K, P] column matrix.
    var isPointwise: Bool { kernel == 1 && stride == 1 && padding == 0 }

    /// The output columns [lo, hi) whose input column ox·stride − padding + kx lies inside the image.
    @inline(__always)
    private func validColumns(kx: Int) -> (lo: Int, hi: Int) {
        let first = padding - kx
        let lo = first <= 0 ? 0 : (first + stride - 1) / stride
        let last = inWidth - 1 + padding - kx
        let hi = last < 0 ? 0 : min(outWidth, last / stride + 1)
        return (lo, max(lo, hi))
    }

    /// columns [K, P] ← patches of image [C, H, W]; row (c, ky, kx), column (oy, ox); zero padding.
    /// Rows are `rowStride` (≥ P) elements apart, so several samples can sit side by side.
    func unfold(_ image: UnsafePointer<Float>, into columns: UnsafeMutablePointer<Float>, rowStride: Int? = nil) {
        let p = rowStride ?? positions
        var row = columns
        for c in 0..<inChannels {
            let plane = image + c * inHeight * inWidth
            for ky in 0..<kernel {
                for kx in 0..<kernel {
                    let (lo, hi) = validColumns(kx: kx)
                    for oy in 0..<outHeight {
                        let out = row + oy * outWidth
                        let iy = oy * stride - padding + ky
                        guard iy >= 0 && iy < inHeight, lo < hi else {
                            out.update(repeating: 0, count: outWidth)
                            continue
                        }
                        if lo > 0 { out.update(repeating: 0, count: lo) }
                        if hi < outWidth { (out + hi).update(repeating: 0, count: outWidth - hi) }
                        let source = plane + iy * inWidth - padding + kx
                        if stride == 1 {
                            (out + lo).update(from: source + lo, count: hi - lo)
                        } else {
                            for ox in lo..<hi { out[ox] = source[ox * stride] }
                        }
                    }
                    row += p
                }
            }
        }
    }

    /// image [C, H, W] += columns [K, P] scattered back to the positions `unfold` read them from;
    /// rows `rowStride` (≥ P) elements apart.
    func fold(_ columns: UnsafePointer<Float>, into image: UnsafeMutablePointer<Float>, rowStride: Int? = nil) {
        let p = rowStride ?? positions
        var row = columns
        for c in 0..<inChannels {
            let plane = image + c * inHeight * inWidth
            for ky in 0..<kernel {
                for kx in 0..<kernel {
                    let (lo, hi) = validColumns(kx: kx)
                    if lo < hi {
                        for oy in 0..<outHeight {
                            let iy = oy * stride - padding + ky
                            guard iy >= 0 && iy < inHeight else { continue }
                            let source = row + oy * outWidth
                            let target = plane + iy * inWidth - padding + kx
                            for ox in lo..<hi { target[ox * stride] += source[ox] }
                        }
                    }
                    row += p
                }
            }
        }
    }
}
