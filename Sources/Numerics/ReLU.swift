/// max(0, x), elementwise, for a tensor of any shape.
public final class ReLU: Layer {
    /// y of the last forward (same shape as x); in training, y > 0 marks where the gradient passes.
    private var output: [Float] = []
    /// dL/dx of the last backward.
    private var inputGradient: [Float] = []
    private var outputShape: [Int]?
    private var pool = WorkerPool.serial

    public init() {}

    public func setWorkerPool(_ pool: WorkerPool) { self.pool = pool }

    public func forward(_ input: Tensor, training: Bool) -> Tensor {
        output.prepare(count: input.count)
        input.data.withUnsafeBufferPointer { x in
            output.withUnsafeMutableBufferPointer { y in
                let (x, y) = (x.baseAddress!, y.baseAddress!)
                pool.split(input.count) { _, range in
                    for i in range { y[i] = max(0, x[i]) }
                }
            }
        }
        outputShape = training ? input.shape : nil
        return Tensor(shape: input.shape, data: output)
    }

    public func backward(_ outputGradient: Tensor) -> Tensor {
        guard let outputShape, outputShape == outputGradient.shape else {
            preconditionFailure("ReLU.backward needs a training forward of the same shape first")
        }
        inputGradient.prepare(count: outputGradient.count)
        output.withUnsafeBufferPointer { y in
            outputGradient.data.withUnsafeBufferPointer { dy in
                inputGradient.withUnsafeMutableBufferPointer { dx in
                    let (dy, y, dx) = (dy.baseAddress!, y.baseAddress!, dx.baseAddress!)
                    pool.split(outputGradient.count) { _, range in
                        Self.mask(dy + range.lowerBound, by: y + range.lowerBound, into: dx + range.lowerBound,
                                  count: range.count)
                    }
                }
            }
        }
        return Tensor(shape: outputShape, data: inputGradient)
    }

    /// dx = dy where y > 0, else 0. Eight lanes at a time: a per-element branch on the sign
    /// mispredicts half the time on real activations.
    private static func mask(_ dy: UnsafePointer<Float>, by y: UnsafePointer<Float>,
                             into dx: UnsafeMutablePointer<Float>, count: Int) {
        var i = 0
        while i + 8 <= count {
            let values = UnsafeRawPointer(y + i).loadUnaligned(as: SIMD8<Float>.self)
            let gradients = UnsafeRawPointer(dy + i).loadUnaligned(as: SIMD8<Float>.self)
            UnsafeMutableRawPointer(dx + i).storeBytes(
                of: gradients.replacing(with: 0, where: values .<= 0), as: SIMD8<Float>.self)
            i += 8
        }
        while i < count {
            dx[i] = y[i] > 0 ? dy[i] : 0
            i += 1
        }
    }

    /// Which elements passed in the last training forward (for gradient checks near kinks).
    var activationPattern: [Bool] { outputShape == nil ? [] : output.map { $0 > 0 } }
}
