import LinearAlgebra

/// One compiled stage of an `InferenceEngine`'s backbone, run over a contiguous run of samples.
///
/// Every stage works sample by sample with shapes fixed by the network, so what it computes for
/// one sample never depends on which other samples share its call.
enum InferenceStep {
    /// Convolution with folded BatchNorm and optional ReLU.
    case convolution(FoldedConvolution)
    /// y [B, O] = relu?(x [B, I] · Wᵀ + b) with W [O, I], one sample at a time.
    case dense(weight: [Float], bias: [Float], inputs: Int, outputs: Int, relu: Bool)
    /// A BatchNorm not preceded by a convolution: y = relu?(x·scale_c + shift_c), [C, S] per sample.
    case affine(scale: [Float], shift: [Float], spatial: Int, relu: Bool)
    /// max(0, x) over `count` elements per sample.
    case relu(count: Int)
    /// [C, H, W] → [C, H', W'] per sample.
    case maxPool(kernel: Int, stride: Int, channels: Int, height: Int, width: Int)
    /// [C, S] → [C] per sample.
    case globalAveragePool(channels: Int, spatial: Int)
    /// relu(bn2∘conv2(relu(bn1∘conv1(x))) + shortcut(x)), all folded.
    case residual(first: FoldedConvolution, second: FoldedConvolution, projection: FoldedConvolution?)

    /// Runs this stage for `batch` samples laid out contiguously at `source`, writing them
    /// contiguously at `target`; a residual block also uses `scratch1` and `scratch2`.
    func run(_ source: UnsafePointer<Float>, into target: UnsafeMutablePointer<Float>, batch: Int,
             scratch1: UnsafeMutablePointer<Float>, scratch2: UnsafeMutablePointer<Float>,
             workspace: InferenceWorkspace) {
        switch self {
        case let .convolution(conv):
            conv.run(source, batch: batch, into: target, columns: workspace.columns)
        case let .dense(weight, bias, inputs, outputs, relu):
            Self.dense(source, into: target, batch: batch, weight: weight, bias: bias, inputs: inputs,
                       outputs: outputs, relu: relu, workspace: workspace)
        case let .affine(scale, shift, spatial, relu):
            for plane in 0..<(batch * scale.count) {
                let c = plane % scale.count, s = scale[c], t = shift[c]
                let x = source + plane * spatial, y = target + plane * spatial
                if relu {
                    for i in 0..<spatial { y[i] = max(0, x[i] * s + t) }
                } else {
                    for i in 0..<spatial { y[i] = x[i] * s + t }
                }
            }
        case let .relu(count):
            for i in 0..<(batch * count) { target[i] = max(0, source[i]) }
        case let .maxPool(kernel, stride, channels, height, width):
            Self.maxPool(source, into: target, planes: batch * channels, kernel: kernel, stride: stride,
                         height: height, width: width)
        case let .globalAveragePool(channels, spatial):
            let scale = 1 / Float(spatial)
            for plane in 0..<(batch * channels) {
                var sum: Float = 0
                let x = source + plane * spatial
                for i in 0..<spatial { sum += x[i] }
                target[plane] = sum * scale
            }
        case let .residual(first, second, projection):
            first.run(source, batch: batch, into: scratch1, columns: workspace.columns)
            second.run(scratch1, batch: batch, into: target, columns: workspace.columns)
            let count = batch * second.geometry.outputSize
            let skip: UnsafePointer<Float>
            if let projection {
                projection.run(source, batch: batch, into: scratch2, columns: workspace.columns)
                skip = UnsafePointer(scratch2)
            } else {
                skip = source
            }
            for i in 0..<count { target[i] = max(0, target[i] + skip[i]) }
        }
    }

    /// y [B, O] = relu?(x [B, I] · Wᵀ + b), one gemv per sample on aligned copies. A gemv reads
    /// W once; OpenBLAS's gemm repacks all of W per call, several times slower for a few rows.
    private static func dense(_ x: UnsafePointer<Float>, into y: UnsafeMutablePointer<Float>, batch: Int,
                              weight: [Float], bias: [Float], inputs: Int, outputs: Int, relu: Bool,
                              workspace: InferenceWorkspace) {
        let vector = workspace.vectorInput, product = workspace.vectorOutput
        weight.withUnsafeBufferPointer { w in
            bias.withUnsafeBufferPointer { b in
                for r in 0..<batch {
                    vector.update(from: x + r * inputs, count: inputs)
                    BLAS.gemv(.none, m: outputs, n: inputs, a: w.baseAddress!, lda: inputs, x: vector, y: product)
                    let out = y + r * outputs
                    if relu {
                        for o in 0..<outputs { out[o] = max(0, product[o] + b[o]) }
                    } else {
                        for o in 0..<outputs { out[o] = product[o] + b[o] }
                    }
                }
            }
        }
    }

    /// Max over k×k windows, `planes` planes of H×W. The first element of a window wins ties and
    /// NaN only when it comes first, as in `MaxPool2d`.
    private static func maxPool(_ x: UnsafePointer<Float>, into y: UnsafeMutablePointer<Float>, planes: Int,
                                kernel: Int, stride: Int, height: Int, width: Int) {
        let oh = (height - kernel) / stride + 1, ow = (width - kernel) / stride + 1
        if kernel == 2 && stride == 2 {
            // The common 2×2/2 case without the inner window loops: several times faster.
            for plane in 0..<planes {
                let base = x + plane * height * width, out = y + plane * oh * ow
                for oy in 0..<oh {
                    let top = base + 2 * oy * width, bottom = top + width, row = out + oy * ow
                    for ox in 0..<ow {
                        var best = top[2 * ox]
                        if top[2 * ox + 1] > best { best = top[2 * ox + 1] }
                        if bottom[2 * ox] > best { best = bottom[2 * ox] }
                        if bottom[2 * ox + 1] > best { best = bottom[2 * ox + 1] }
                        row[ox] = best
                    }
                }
            }
            return
        }
        for plane in 0..<planes {
            let base = x + plane * height * width, out = y + plane * oh * ow
            for oy in 0..<oh {
                for ox in 0..<ow {
                    var best = base[oy * stride * width + ox * stride]
                    for ky in 0..<kernel {
                        let row = base + (oy * stride + ky) * width + ox * stride
                        for kx in 0..<kernel where row[kx] > best { best = row[kx] }
                    }
                    out[oy * ow + ox] = best
                }
            }
        }
    }
}
