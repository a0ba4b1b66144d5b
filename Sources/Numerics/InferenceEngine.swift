import Dispatch
import LinearAlgebra
import Synchronization

/// A network compiled for batched evaluation-mode inference.
///
/// Compilation folds every BatchNorm that follows a convolution into it (including the 3×3
/// convolutions and the projection of residual blocks), fuses ReLUs into the preceding
/// convolution or linear layer, and drops Dropout and Flatten. Weights are copied: training the
/// network afterwards does not change the engine, except through the head, which is shared.
///
/// With several workers, the samples of a batch are handed out one at a time to threads that run
/// the whole backbone side by side (`DispatchQueue.concurrentPerform`), each with single-threaded
/// BLAS calls: every stage of the network then uses all the cores, not only the gemms, and no
/// BLAS thread spins between calls. Set `BLAS.threadCount = 1` when `workers` > 1.
///
/// Activations live in buffers allocated once for `maxBatchSize` and reused; the backbone
/// allocates nothing per call. Every gemm has a shape fixed by the network alone — per sample
/// and in fixed column tiles for a convolution, one gemv per sample for a linear layer — so a sample's logits do not depend on the size of its batch, on its
/// neighbours or on the number of workers (`batchingDoesNotChangeLogits` checks it). What
/// still allocates per call: the head's [B, N] input tensor and its [B, C] output (the head is
/// a `Layer`), and the result tensor of `logits(for:)`.
///
/// Not thread-safe: one caller at a time (a model instance of the batcher owns an engine).
public final class InferenceEngine {
    /// The largest batch `logits` accepts.
    public let maxBatchSize: Int
    /// How many threads one call may use; the samples of a batch are shared out among them.
    public let workers: Int
    /// The shape of one input sample, without the batch dimension.
    public let inputShape: [Int]
    /// N, the width of the features the head receives.
    public let featureCount: Int
    /// C, the number of logits per sample.
    public let classes: Int

    private let steps: [InferenceStep]
    private let head: any ClassificationHead
    private let inputSize: Int
    /// The largest per-sample activation of any step.
    private let sampleStride: Int
    /// Activation buffers of maxBatchSize × sampleStride elements: two alternate as step
    /// input/output; a network with residual blocks has two more for a block's intermediate and
    /// shortcut. Sample i starts at `i × sampleStride` in each, so workers never share memory.
    private let arena: UnsafeMutablePointer<Float>
    private let bufferSize: Int
    private let bufferCount: Int
    /// Per-worker scratch: patches and linear-layer vectors.
    private let workspaces: [InferenceWorkspace]

    /// Compiles `network` for batches of up to `maxBatchSize` samples, split over up to
    /// `workers` threads.
    ///
    /// - Throws: `NumericsError.invalidSpec` if `maxBatchSize` is not in 1…65536 or the backbone
    ///   holds a layer type the engine does not know.
    public init(network: Network, maxBatchSize: Int, workers: Int = 1) throws {
        guard (1...65_536).contains(maxBatchSize) else {
            throw NumericsError.invalidSpec("maxBatchSize must be in 1…65536, got \(maxBatchSize)")
        }
        guard (1...256).contains(workers) else {
            throw NumericsError.invalidSpec("workers must be in 1…256, got \(workers)")
        }
        // Shapes per sample along the backbone; dropout is the identity in evaluation.
        var layers: [(layer: any Layer, input: [Int])] = []
        var shape = network.inputShape
        for (layer, spec) in zip(network.backbone, network.specs) {
            if !(layer is Dropout) { layers.append((layer, shape)) }
            shape = try spec.outputShape(for: shape)
        }
        var steps: [InferenceStep] = []
        var largest = network.inputShape.reduce(1, *), columnsNeeded = 0, widestInput = 1, widestOutput = 1
        func next(_ i: Int) -> (any Layer)? { i < layers.count ? layers[i].layer : nil }
        var i = 0
        while i < layers.count {
            let (layer, input) = layers[i]
            let inputSize = input.reduce(1, *)
            i += 1
            var step: InferenceStep?
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
        self.workers = workers
        self.inputShape = network.inputShape
        self.inputSize = network.inputShape.reduce(1, *)
        self.featureCount = shape.reduce(1, *)
        self.classes = network.classes
        self.sampleStride = largest
        self.bufferSize = largest * maxBatchSize
        // Residual blocks need the two scratch buffers; plain chains only the alternating pair.
        let hasResidual = steps.contains { if case .residual = $0 { return true } else { return false } }
        self.bufferCount = hasResidual ? 4 : 2
        let capacity = bufferCount * bufferSize
        self.arena = .allocate(capacity: capacity)
        self.arena.initialize(repeating: 0, count: capacity)
        self.workspaces = (0..<min(workers, maxBatchSize)).map { _ in
            InferenceWorkspace(columns: columnsNeeded, vectorInput: widestInput, vectorOutput: widestOutput)
        }
    }

    deinit {
        arena.deallocate()
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
        var features = [Float](repeating: 0, count: batchSize * featureCount)
        features.withUnsafeMutableBufferPointer { gathered in
            let gathered = gathered.baseAddress!
            let threads = min(workspaces.count, batchSize)
            if threads == 1 {
                gathered.update(from: runBackbone(base, batch: batchSize, at: 0, workspace: workspaces[0]),
                                count: batchSize * featureCount)
            } else {
                // Samples are handed out one at a time, so a worker the scheduler delays holds up
                // the batch by one sample at most.
                let next = Atomic<Int>(0)
                DispatchQueue.concurrentPerform(iterations: threads) { worker in
                    while true {
                        let sample = next.wrappingAdd(1, ordering: .relaxed).oldValue
                        guard sample < batchSize else { break }
                        let result = runBackbone(base + sample * inputSize, batch: 1,
                                                 at: sample * sampleStride, workspace: workspaces[worker])
                        (gathered + sample * featureCount).update(from: result, count: featureCount)
                    }
                }
            }
        }
        let logits = head.forward(Tensor(shape: [batchSize, featureCount], data: features), training: false)
        logits.data.withUnsafeBufferPointer { out.update(from: $0.baseAddress!, count: batchSize * classes) }
    }

    /// Runs every step for `batch` samples whose activations start `offset` elements into each
    /// arena buffer; returns where their features [batch, N] are.
    private func runBackbone(_ input: UnsafePointer<Float>, batch: Int, at offset: Int,
                             workspace: InferenceWorkspace) -> UnsafePointer<Float> {
        let first = arena + offset, second = arena + bufferSize + offset
        // Only residual steps use the scratch pair, and the arena has it exactly when there are some.
        let scratch1 = bufferCount == 4 ? arena + 2 * bufferSize + offset : first
        let scratch2 = bufferCount == 4 ? arena + 3 * bufferSize + offset : first
        var source = input
        var target = first
        for step in steps {
            step.run(source, into: target, batch: batch, scratch1: scratch1, scratch2: scratch2, workspace: workspace)
            source = UnsafePointer(target)
            target = target == first ? second : first
        }
        return source
    }
}
