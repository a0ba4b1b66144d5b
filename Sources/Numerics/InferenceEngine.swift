import LinearAlgebra

/// A network compiled for batched evaluation-mode inference.
///
/// Compilation folds every BatchNorm that follows a convolution into it (including the 3×3
/// convolutions and the projection of residual blocks), fuses ReLUs into the preceding
/// convolution or linear layer, and drops Dropout and Flatten. Weights are copied: training the
/// network afterwards does not change the engine, except through the head, which is shared.
///
/// The backbone runs in activation buffers allocated once for `maxBatchSize` and reused; it
/// allocates nothing per call. Every gemm has a shape fixed by the network alone — one call per
/// sample for a convolution, blocks of 8 rows (the last one zero-padded) for a linear layer —
/// so a sample's logits do not depend on the size of its batch or on its neighbours (OpenBLAS
/// computes each element of a product of a given shape with the same operations whichever
/// tile row it falls in; `batchingDoesNotChangeLogits` checks it). What still allocates per call: the
/// head's [B, N] input tensor and its [B, C] output (the head is a `Layer`), and the result
/// tensor of `logits(for:)`. BLAS threading is set process-wide with `BLAS.threadCount`.
///
/// Not thread-safe: one caller at a time (the batcher's loop owns an engine).
public final class InferenceEngine {
    /// The largest batch `logits` accepts.
    public let maxBatchSize: Int
    /// The shape of one input sample, without the batch dimension.
    public let inputShape: [Int]
    /// N, the width of the features the head receives.
    public let featureCount: Int
    /// C, the number of logits per sample.
    public let classes: Int

    private enum Step {
        /// Convolution with folded BatchNorm and optional ReLU.
        case convolution(FoldedConvolution)
        /// y [B, O] = relu?(x [B, I] · Wᵀ + b) with W [O, I], in blocks of `rowBlock` rows.
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
    }

    private let steps: [Step]
    private let head: any ClassificationHead
    private let inputSize: Int
    /// Four activation buffers of maxBatchSize × (largest per-sample activation) elements:
    /// two alternate as step input/output, two hold a residual block's intermediate and shortcut.
    private let arena: UnsafeMutablePointer<Float>
    private let bufferSize: Int
    /// One sample's unfolded patches, [K, P] of the largest convolution.
    private let columns: UnsafeMutablePointer<Float>
    /// The rows of a linear layer's gemm; a short last block is padded with zero rows.
    private static let rowBlock = 8
    /// A padded block of linear-layer inputs, [rowBlock, I] of the widest input.
    private let blockInput: UnsafeMutablePointer<Float>
    /// A padded block of linear-layer outputs, [rowBlock, O] of the widest output.
    private let blockOutput: UnsafeMutablePointer<Float>

    /// Compiles `network` for batches of up to `maxBatchSize` samples.
    ///
    /// - Throws: `NumericsError.invalidSpec` if `maxBatchSize` is not in 1…65536 or the backbone
    ///   holds a layer type the engine does not know.
    public init(network: Network, maxBatchSize: Int) throws {
        guard (1...65_536).contains(maxBatchSize) else {
            throw NumericsError.invalidSpec("maxBatchSize must be in 1…65536, got \(maxBatchSize)")
        }
        // Shapes per sample along the backbone; dropout is the identity in evaluation.
        var layers: [(layer: any Layer, input: [Int])] = []
        var shape = network.inputShape
        for (layer, spec) in zip(network.backbone, network.specs) {
            if !(layer is Dropout) { layers.append((layer, shape)) }
            shape = try spec.outputShape(for: shape)
        }
        var steps: [Step] = []
        var largest = network.inputShape.reduce(1, *), columnsNeeded = 0, widestInput = 1, widestOutput = 1
        func next(_ i: Int) -> (any Layer)? { i < layers.count ? layers[i].layer : nil }
        var i = 0
        while i < layers.count {
            let (layer, input) = layers[i]
            let inputSize = input.reduce(1, *)
            i += 1
            var step: Step?
            switch layer {
            case let conv as Conv2d:
                let bn = next(i) as? BatchNorm2d
                if bn != nil { i += 1 }
                let relu = next(i) is ReLU
                if relu { i += 1 }
                let folded = FoldedConvolution(conv, batchNorm: bn, relu: relu, inHeight: input[1], inWidth: input[2])
                columnsNeeded = max(columnsNeeded, folded.columnsNeeded)
                largest = max(largest, folded.geometry.outputSize)
                step = .convolution(folded)
            case let linear as Linear:
                let relu = next(i) is ReLU
                if relu { i += 1 }
                step = .dense(weight: linear.weight.value.data,
                              bias: linear.bias?.value.data ?? [Float](repeating: 0, count: linear.outFeatures),
                              inputs: linear.inFeatures, outputs: linear.outFeatures, relu: relu)
                largest = max(largest, linear.outFeatures)
                widestInput = max(widestInput, linear.inFeatures)
                widestOutput = max(widestOutput, linear.outFeatures)
            case let bn as BatchNorm2d:
                let relu = next(i) is ReLU
                if relu { i += 1 }
                var scale = [Float](repeating: 0, count: bn.channels), shift = scale
                for c in 0..<bn.channels {
                    let s = Double(bn.weight.value.data[c]) / (Double(bn.runningVariance.data[c]) + Double(bn.epsilon)).squareRoot()
                    scale[c] = Float(s)
                    shift[c] = Float(Double(bn.bias.value.data[c]) - Double(bn.runningMean.data[c]) * s)
                }
                step = .affine(scale: scale, shift: shift, spatial: inputSize / bn.channels, relu: relu)
            case is ReLU:
                step = .relu(count: inputSize)
            case let pool as MaxPool2d:
                step = .maxPool(kernel: pool.kernel, stride: pool.stride, channels: input[0], height: input[1], width: input[2])
            case is GlobalAveragePool:
                step = .globalAveragePool(channels: input[0], spatial: input[1] * input[2])
            case is Flatten:
                step = nil
            case let block as ResidualBlock:
                let first = FoldedConvolution(block.conv1, batchNorm: block.bn1, relu: true, inHeight: input[1], inWidth: input[2])
                let g = first.geometry
                let second = FoldedConvolution(block.conv2, batchNorm: block.bn2, relu: false,
                                               inHeight: g.outHeight, inWidth: g.outWidth)
                let projection = block.shortcut.map {
                    FoldedConvolution($0.conv, batchNorm: $0.bn, relu: false, inHeight: input[1], inWidth: input[2])
                }
                columnsNeeded = max(columnsNeeded, first.columnsNeeded, second.columnsNeeded, projection?.columnsNeeded ?? 0)
                largest = max(largest, g.outputSize)
                step = .residual(first: first, second: second, projection: projection)
            default:
                throw NumericsError.invalidSpec("the inference engine cannot compile a \(type(of: layer)) layer")
            }
            if let step { steps.append(step) }
        }
        self.steps = steps
        self.head = network.head
        self.maxBatchSize = maxBatchSize
        self.inputShape = network.inputShape
        self.inputSize = network.inputShape.reduce(1, *)
        self.featureCount = shape.reduce(1, *)
        self.classes = network.classes
        self.bufferSize = largest * maxBatchSize
        self.arena = .allocate(capacity: 4 * bufferSize)
        self.arena.initialize(repeating: 0, count: 4 * bufferSize)
        self.columns = .allocate(capacity: max(1, columnsNeeded))
        self.columns.initialize(repeating: 0, count: max(1, columnsNeeded))
        self.blockInput = .allocate(capacity: Self.rowBlock * widestInput)
        self.blockInput.initialize(repeating: 0, count: Self.rowBlock * widestInput)
        self.blockOutput = .allocate(capacity: Self.rowBlock * widestOutput)
        self.blockOutput.initialize(repeating: 0, count: Self.rowBlock * widestOutput)
    }

    deinit {
        arena.deallocate()
        columns.deallocate()
        blockInput.deallocate()
        blockOutput.deallocate()
    }

    /// Logits [B, C] for a batch [B, ...inputShape], 1 ≤ B ≤ maxBatchSize.
    ///
    /// - Throws: `NumericsError.invalidInput` if the batch's shape is wrong or B is out of range.
    public func logits(for batch: Tensor) throws -> Tensor {
        guard batch.rank == inputShape.count + 1, Array(batch.shape.dropFirst()) == inputShape else {
            throw NumericsError.invalidInput("expected a batch of shape [B, \(inputShape.map(String.init).joined(separator: ", "))], got \(batch.shape)")
        }
        var result = Tensor(shape: [batch.shape[0], classes])
        try batch.data.withUnsafeBufferPointer { x in
            try result.data.withUnsafeMutableBufferPointer { y in
                try logits(for: x, batchSize: batch.shape[0], into: y)
            }
        }
        return result
    }

    /// Writes the logits [B, C] of `input` [B, ...inputShape] (row-major) into the first B·C
    /// elements of `output`.
    ///
    /// - Throws: `NumericsError.invalidInput` if B is not in 1…maxBatchSize, `input` does not
    ///   hold B samples or `output` is shorter than B·C.
    public func logits(for input: UnsafeBufferPointer<Float>, batchSize: Int,
                       into output: UnsafeMutableBufferPointer<Float>) throws {
        guard (1...maxBatchSize).contains(batchSize) else {
            throw NumericsError.invalidInput("batch size \(batchSize) is not in 1…\(maxBatchSize)")
        }
        guard input.count == batchSize * inputSize, let base = input.baseAddress else {
            throw NumericsError.invalidInput("\(input.count) input values do not make \(batchSize) samples of \(inputShape)")
        }
        guard output.count >= batchSize * classes, let out = output.baseAddress else {
            throw NumericsError.invalidInput("room for \(output.count) logits, need \(batchSize * classes)")
        }
        let features = runBackbone(base, batch: batchSize)
        let logits = head.forward(
            Tensor(shape: [batchSize, featureCount], data: Array(UnsafeBufferPointer(start: features, count: batchSize * featureCount))),
            training: false)
        logits.data.withUnsafeBufferPointer { out.update(from: $0.baseAddress!, count: batchSize * classes) }
    }

    /// Runs every step; returns where the features [B, N] are.
    private func runBackbone(_ input: UnsafePointer<Float>, batch: Int) -> UnsafePointer<Float> {
        let scratch1 = arena + 2 * bufferSize, scratch2 = arena + 3 * bufferSize
        var source = input
        var target = arena
        for step in steps {
            switch step {
            case let .convolution(conv):
                conv.run(source, batch: batch, into: target, columns: columns)
            case let .dense(weight, bias, inputs, outputs, relu):
                dense(source, into: target, batch: batch, weight: weight, bias: bias, inputs: inputs, outputs: outputs,
                      relu: relu)
            case let .affine(scale, shift, spatial, relu):
                for plane in 0..<(batch * scale.count) {
                    let c = plane % scale.count, s = scale[c], t = shift[c]
                    let x = source + plane * spatial, y = target + plane * spatial
                    for i in 0..<spatial { y[i] = relu ? max(0, x[i] * s + t) : x[i] * s + t }
                }
            case let .relu(count):
                for i in 0..<(batch * count) { target[i] = max(0, source[i]) }
            case let .maxPool(kernel, stride, channels, height, width):
                maxPool(source, into: target, planes: batch * channels, kernel: kernel, stride: stride,
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
                first.run(source, batch: batch, into: scratch1, columns: columns)
                second.run(scratch1, batch: batch, into: target, columns: columns)
                let count = batch * second.geometry.outputSize
                let skip: UnsafePointer<Float>
                if let projection {
                    projection.run(source, batch: batch, into: scratch2, columns: columns)
                    skip = UnsafePointer(scratch2)
                } else {
                    skip = source
                }
                for i in 0..<count { target[i] = max(0, target[i] + skip[i]) }
            }
            source = UnsafePointer(target)
            target = target == arena ? arena + bufferSize : arena
        }
        return source
    }

    /// y [B, O] = relu?(x [B, I] · Wᵀ + b), one gemm of `rowBlock` rows at a time.
    private func dense(_ x: UnsafePointer<Float>, into y: UnsafeMutablePointer<Float>, batch: Int,
                       weight: [Float], bias: [Float], inputs: Int, outputs: Int, relu: Bool) {
        let block = Self.rowBlock
        weight.withUnsafeBufferPointer { w in
            var row = 0
            while row < batch {
                let rows = min(block, batch - row)
                let padded = rows < block
                if padded {
                    blockInput.update(from: x + row * inputs, count: rows * inputs)
                    (blockInput + rows * inputs).update(repeating: 0, count: (block - rows) * inputs)
                }
                BLAS.gemm(.none, .transposed, m: block, n: outputs, k: inputs,
                          a: padded ? UnsafePointer(blockInput) : x + row * inputs, lda: inputs,
                          b: w.baseAddress!, ldb: inputs, c: padded ? blockOutput : y + row * outputs, ldc: outputs)
                if padded { (y + row * outputs).update(from: blockOutput, count: rows * outputs) }
                row += rows
            }
        }
        bias.withUnsafeBufferPointer { b in
            for r in 0..<batch {
                let out = y + r * outputs
                if relu {
                    for o in 0..<outputs { out[o] = max(0, out[o] + b[o]) }
                } else {
                    for o in 0..<outputs { out[o] += b[o] }
                }
            }
        }
    }

    private func maxPool(_ x: UnsafePointer<Float>, into y: UnsafeMutablePointer<Float>, planes: Int,
                         kernel: Int, stride: Int, height: Int, width: Int) {
        let oh = (height - kernel) / stride + 1, ow = (width - kernel) / stride + 1
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
