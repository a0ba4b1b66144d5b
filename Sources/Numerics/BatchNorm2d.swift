/// Batch normalisation over the channels of x [B, C, H, W] (or [B, C]).
///
/// Training: y = γ·(x − μ_B)/√(σ²_B + ε) + β with the batch's per-channel mean μ_B and biased
/// variance σ²_B over B·H·W elements, and running_mean ← (1 − m)·running_mean + m·μ_B,
/// running_var ← (1 − m)·running_var + m·σ²_B·n/(n − 1) (PyTorch's convention).
/// Evaluation: the running statistics replace the batch's. γ ("weight") [C], β ("bias") [C],
/// running_mean [C] and running_var [C].
public final class BatchNorm2d: Layer {
    public let channels: Int
    public let epsilon: Float
    public let momentum: Float
    /// γ [C], initialised to 1.
    public let weight: Parameter
    /// β [C], initialised to 0.
    public let bias: Parameter
    /// [C], initialised to 0.
    public private(set) var runningMean: Tensor
    /// [C], initialised to 1.
    public private(set) var runningVariance: Tensor

    private let prefix: String
    /// The normalised input x̂ [B, C, H, W] of the last forward.
    private var normalized: [Float] = []
    /// The input shape of the last training forward, nil after an evaluation forward.
    private var trainedShape: [Int]?
    /// y [B, C, H, W] of the last forward.
    private var output: [Float] = []
    /// dL/dx [B, C, H, W] of the last backward.
    private var inputGradient: [Float] = []
    /// 1/√(σ² + ε) [C] used by the last forward (batch statistics in training, running in eval).
    private var inverseDeviation: [Float] = []
    /// Whether the last forward used batch statistics.
    private var lastForwardTrained = false
    private var pool = WorkerPool.serial

    /// `prefix` is prepended to the parameter and buffer names.
    public init(channels: Int, epsilon: Float = 1e-5, momentum: Float = 0.1, prefix: String = "") {
        precondition(channels > 0 && epsilon > 0 && (0...1).contains(momentum), "invalid BatchNorm2d hyperparameters")
        self.channels = channels
        self.epsilon = epsilon
        self.momentum = momentum
        self.prefix = prefix
        self.weight = Parameter(name: prefix + "weight", value: Tensor(shape: [channels], repeating: 1))
        self.bias = Parameter(name: prefix + "bias", value: Tensor(shape: [channels]))
        self.runningMean = Tensor(shape: [channels])
        self.runningVariance = Tensor(shape: [channels], repeating: 1)
    }

    public var parameters: [Parameter] { [weight, bias] }

    public var buffers: [(name: String, tensor: Tensor)] {
        [(prefix + "running_mean", runningMean), (prefix + "running_var", runningVariance)]
    }

    public func setBuffer(_ name: String, to tensor: Tensor) throws {
        guard name == prefix + "running_mean" || name == prefix + "running_var" else {
            throw NumericsError.unknownTensor(name)
        }
        guard tensor.shape == [channels] else {
            throw NumericsError.shapeMismatch(name: name, expected: [channels], actual: tensor.shape)
        }
        if name == prefix + "running_mean" { runningMean = tensor } else { runningVariance = tensor }
    }

    /// (B, S): the batch size and the number of elements per channel plane.
    private func layout(_ shape: [Int]) -> (batch: Int, spatial: Int) {
        precondition(shape.count >= 2 && shape[1] == channels && shape[0] > 0,
                     "BatchNorm2d expects [B, \(channels), …], got \(shape)")
        return (shape[0], shape.dropFirst(2).reduce(1, *))
    }

    public func setWorkerPool(_ pool: WorkerPool) { self.pool = pool }

    /// Training and evaluation forward. Each channel's statistics and planes are one worker's
    /// (the split is over channels), so the result does not depend on the number of workers.
    public func forward(_ input: Tensor, training: Bool) -> Tensor {
        let (batch, spatial) = layout(input.shape)
        let channels = channels, momentum = momentum, epsilon = Double(epsilon)
        let n = batch * spatial
        var mean = [Float](repeating: 0, count: channels)
        inverseDeviation = [Float](repeating: 0, count: channels)
        if training {
            input.data.withUnsafeBufferPointer { x in
            mean.withUnsafeMutableBufferPointer { mean in
            inverseDeviation.withUnsafeMutableBufferPointer { inverse in
            runningMean.data.withUnsafeMutableBufferPointer { runningMean in
            runningVariance.data.withUnsafeMutableBufferPointer { runningVariance in
                let (x, mean, inverse) = (x.baseAddress!, mean.baseAddress!, inverse.baseAddress!)
                let (runningMean, runningVariance) = (runningMean.baseAddress!, runningVariance.baseAddress!)
                pool.split(channels) { _, channelRange in
                    for c in channelRange {
                        // Per-plane Float sums gathered in Double: a channel can hold a million elements.
                        var sum = 0.0
                        for b in 0..<batch { sum += Double(Self.sum(x + (b * channels + c) * spatial, count: spatial)) }
                        let mu = sum / Double(n)
                        let muF = Float(mu)
                        // A centred second pass keeps the variance accurate when |μ| ≫ σ.
                        var centred = 0.0
                        for b in 0..<batch {
                            centred += Double(Self.centredSquares(x + (b * channels + c) * spatial, count: spatial, mean: muF))
                        }
                        let variance = centred / Double(n)
                        mean[c] = muF
                        inverse[c] = Float(1 / (variance + epsilon).squareRoot())
                        let unbiased = n > 1 ? variance * Double(n) / Double(n - 1) : variance
                        runningMean[c] = (1 - momentum) * runningMean[c] + momentum * muF
                        runningVariance[c] = (1 - momentum) * runningVariance[c] + momentum * Float(unbiased)
                    }
                }
            }}}}}
        } else {
            for c in 0..<channels {
                mean[c] = runningMean.data[c]
                inverseDeviation[c] = 1 / (runningVariance.data[c] + self.epsilon).squareRoot()
            }
        }
        lastForwardTrained = training
        normalized.prepare(count: input.count)
        output.prepare(count: input.count)
        input.data.withUnsafeBufferPointer { x in
        normalized.withUnsafeMutableBufferPointer { h in
        output.withUnsafeMutableBufferPointer { y in
        mean.withUnsafeBufferPointer { mean in
        inverseDeviation.withUnsafeBufferPointer { inverse in
        weight.value.data.withUnsafeBufferPointer { gamma in
        bias.value.data.withUnsafeBufferPointer { beta in
            let (x, h, y) = (x.baseAddress!, h.baseAddress!, y.baseAddress!)
            let (mean, inverse, gamma, beta) = (mean.baseAddress!, inverse.baseAddress!, gamma.baseAddress!, beta.baseAddress!)
            pool.split(channels) { _, channelRange in
                for b in 0..<batch {
                    for c in channelRange {
                        let offset = (b * channels + c) * spatial
                        let mu = mean[c], inv = inverse[c], scale = gamma[c], shift = beta[c]
                        for i in offset..<(offset + spatial) {
                            let v = (x[i] - mu) * inv
                            h[i] = v
                            y[i] = scale * v + shift
                        }
                    }
                }
            }
        }}}}}}}
        trainedShape = training ? input.shape : nil
        return Tensor(shape: input.shape, data: output)
    }

    public func backward(_ outputGradient: Tensor) -> Tensor {
        let (batch, spatial) = layout(outputGradient.shape)
        let channels = channels
        inputGradient.prepare(count: outputGradient.count)
        if !lastForwardTrained {
            // Running statistics are constants: y is affine in x.
            outputGradient.data.withUnsafeBufferPointer { dy in
                inputGradient.withUnsafeMutableBufferPointer { dx in
                    for b in 0..<batch {
                        for c in 0..<channels {
                            let offset = (b * channels + c) * spatial
                            let scale = weight.value.data[c] * inverseDeviation[c]
                            for i in offset..<(offset + spatial) { dx[i] = dy[i] * scale }
                        }
                    }
                }
            }
            return Tensor(shape: outputGradient.shape, data: inputGradient)
        }
        guard trainedShape == outputGradient.shape else {
            preconditionFailure("BatchNorm2d.backward needs a training forward of the same shape first")
        }
        let n = Float(batch * spatial)
        outputGradient.data.withUnsafeBufferPointer { dy in
        normalized.withUnsafeBufferPointer { h in
        inputGradient.withUnsafeMutableBufferPointer { dx in
        inverseDeviation.withUnsafeBufferPointer { inverse in
        weight.value.data.withUnsafeBufferPointer { gamma in
        weight.gradient.data.withUnsafeMutableBufferPointer { dGamma in
        bias.gradient.data.withUnsafeMutableBufferPointer { dBeta in
            let (dy, h, dx) = (dy.baseAddress!, h.baseAddress!, dx.baseAddress!)
            let (inverse, gamma, dGamma, dBeta) = (inverse.baseAddress!, gamma.baseAddress!, dGamma.baseAddress!, dBeta.baseAddress!)
            pool.split(channels) { _, channelRange in
                for c in channelRange {
                    var sumDy = 0.0, sumDyH = 0.0
                    for b in 0..<batch {
                        let offset = (b * channels + c) * spatial
                        let (s, t) = Self.sums(dy + offset, times: h + offset, count: spatial)
                        sumDy += Double(s); sumDyH += Double(t)
                    }
                    dBeta[c] += Float(sumDy)
                    dGamma[c] += Float(sumDyH)
                    // dx = γ/σ · (dy − mean(dy) − x̂·mean(dy·x̂))
                    let scale = gamma[c] * inverse[c]
                    let meanDy = Float(sumDy) / n, meanDyH = Float(sumDyH) / n
                    for b in 0..<batch {
                        let offset = (b * channels + c) * spatial
                        for i in offset..<(offset + spatial) { dx[i] = scale * (dy[i] - meanDy - h[i] * meanDyH) }
                    }
                }
            }
        }}}}}}}
        return Tensor(shape: outputGradient.shape, data: inputGradient)
    }

    // Plane sums, eight lanes at a time: a sequential Float sum cannot be vectorised, and these
    // three were most of the layer's time. The lanes round differently from one running sum,
    // and no less accurately.

    /// Σ x[i] over one plane.
    private static func sum(_ x: UnsafePointer<Float>, count: Int) -> Float {
        var lanes = SIMD8<Float>(), i = 0
        while i + 8 <= count {
            lanes += UnsafeRawPointer(x + i).loadUnaligned(as: SIMD8<Float>.self)
            i += 8
        }
        var total = lanes.sum()
        while i < count { total += x[i]; i += 1 }
        return total
    }

    /// Σ (x[i] − mean)² over one plane.
    private static func centredSquares(_ x: UnsafePointer<Float>, count: Int, mean: Float) -> Float {
        var lanes = SIMD8<Float>(), i = 0
        let means = SIMD8<Float>(repeating: mean)
        while i + 8 <= count {
            let d = UnsafeRawPointer(x + i).loadUnaligned(as: SIMD8<Float>.self) - means
            lanes += d * d
            i += 8
        }
        var total = lanes.sum()
        while i < count { let d = x[i] - mean; total += d * d; i += 1 }
        return total
    }

    /// (Σ dy[i], Σ dy[i]·h[i]) over one plane.
    private static func sums(_ dy: UnsafePointer<Float>, times h: UnsafePointer<Float>, count: Int) -> (Float, Float) {
        var plain = SIMD8<Float>(), weighted = SIMD8<Float>(), i = 0
        while i + 8 <= count {
            let g = UnsafeRawPointer(dy + i).loadUnaligned(as: SIMD8<Float>.self)
            plain += g
            weighted += g * UnsafeRawPointer(h + i).loadUnaligned(as: SIMD8<Float>.self)
            i += 8
        }
        var s = plain.sum(), t = weighted.sum()
        while i < count { s += dy[i]; t += dy[i] * h[i]; i += 1 }
        return (s, t)
    }
}
