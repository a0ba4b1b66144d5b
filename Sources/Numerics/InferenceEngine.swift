import Dispatch
import LinearAlgebra
import Synchronization

/// A network compiled for batched evaluation-mode inference.
///
/// Compilation folds every BatchNorm that follows a convolution into it (including the 3×3
/// convolutions and the projection of residual blocks), fuses ReLUs into the preceding
/// convolution or linear layer, drops Dropout and Flatten, and packs every weight matrix for
/// `PackedKernels`. Activations are channels-last; a linear layer after a flattened feature map
/// gets its weight columns reordered to match, so the logits are those of the network's own
/// planar layout. Weights are copied: training the network afterwards does not change the
/// engine, except through the head, which is shared.
///
/// A batch goes through in phases. Runs of per-sample steps (convolutions, pooling, residual
/// blocks) hand the samples out one at a time to up to `workers` threads; a linear layer runs
/// over the whole batch with its blocks of 16 outputs shared out among the threads, so its
/// weights stream once per six samples instead of once per sample. Every output is accumulated
/// in an order fixed by the network alone, so a sample's logits do not depend on the size of its
/// batch, on its neighbours or on the number of workers (`batchingDoesNotChangeLogits` checks it).
///
/// Buffers are allocated once: the batch is handed between phases in two buffers sized for
/// `maxBatchSize` samples of the largest phase boundary (for cnn-small the 3,136 pooled
/// features, not the 25,088 of the first convolution's output), and each worker keeps one
/// sample's activations in buffers of its own. `logits(for:batchSize:into:)` allocates nothing
/// but what the head needs.
///
/// Not thread-safe: one caller at a time (a model instance of the batcher owns an engine).
public final class InferenceEngine {
    /// The largest batch `logits` accepts.
    public let maxBatchSize: Int
    /// How many threads one call may use.
    public let workers: Int
    /// The shape of one input sample, without the batch dimension.
    public let inputShape: [Int]
    /// N, the width of the features the head receives.
    public let featureCount: Int
    /// C, the number of logits per sample.
    public let classes: Int

    private let steps: [InferenceStep]
    /// Where each step reads and writes.
    private let routes: [(source: Buffer, target: Buffer)]
    /// The steps in the order they run as phases: runs of per-sample steps, and batch-wide steps
    /// one at a time.
    private let phases: [Range<Int>]
    private let head: any ClassificationHead
    private let inputSize: Int
    /// Elements per sample in the batch buffers: the largest output of a batch-wide step or of
    /// the last step of a per-sample run.
    private let batchStride: Int
    /// Two buffers of maxBatchSize × batchStride elements, where phases hand the batch over:
    /// a per-sample run reads one and writes the other, and so does a batch-wide step.
    private let batchBuffers: UnsafeMutablePointer<Float>
    /// The head's input, [maxBatchSize, N].
    private let features: UnsafeMutablePointer<Float>
    /// Per-worker activations of one sample inside a per-sample run, and padding and Winograd
    /// scratch: they stay in the worker's cache from one sample to the next.
    private let workspaces: [InferenceWorkspace]

    /// A step's operand: the caller's input rows, a batch buffer (sample i at i × batchStride),
    /// or one of the worker's own buffers (one sample at a time).
    private enum Buffer: Equatable { case input, batchFirst, batchSecond, workerFirst, workerSecond }

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
        let compiled = try Self.compile(network)
        let steps = compiled.steps
        self.steps = steps
        self.head = network.head
        self.maxBatchSize = maxBatchSize
        self.workers = workers
        self.inputShape = network.inputShape
        self.inputSize = network.inputShape.reduce(1, *)
        self.featureCount = compiled.featureCount
        self.classes = network.classes
        // A per-sample run goes batch buffer → worker buffers → the other batch buffer; a
        // batch-wide step from one batch buffer to the other.
        var routes: [(source: Buffer, target: Buffer)] = []
        var phases: [Range<Int>] = []
        var batchSource = Buffer.input, stride = 1
        var index = 0
        while index < steps.count {
            let batchTarget: Buffer = batchSource == .batchFirst ? .batchSecond : .batchFirst
            var end = index + 1
            if !steps[index].isBatchWide {
                while end < steps.count && !steps[end].isBatchWide { end += 1 }
            }
            var source = batchSource
            for step in index..<end {
                let target: Buffer = step == end - 1 ? batchTarget : (source == .workerFirst ? .workerSecond : .workerFirst)
                routes.append((source, target))
                source = target
            }
            stride = max(stride, steps[end - 1].outputSize)
            phases.append(index..<end)
            batchSource = batchTarget
            index = end
        }
        self.routes = routes
        self.phases = phases
        self.batchStride = stride
        let capacity = 2 * stride * maxBatchSize
        self.batchBuffers = .allocate(capacity: capacity)
        self.batchBuffers.initialize(repeating: 0, count: capacity)
        self.features = .allocate(capacity: maxBatchSize * compiled.featureCount)
        self.features.initialize(repeating: 0, count: maxBatchSize * compiled.featureCount)
        // Residual blocks need the two scratch buffers; plain chains only the alternating pair.
        let hasResidual = steps.contains { if case .residual = $0 { return true } else { return false } }
        self.workspaces = (0..<min(workers, maxBatchSize)).map { _ in
            InferenceWorkspace(activations: compiled.largest, residual: hasResidual, scratch: compiled.scratch)
        }
    }

    deinit {
        batchBuffers.deallocate()
        features.deallocate()
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
        for phase in phases {
            if steps[phase.lowerBound].isBatchWide {
                runBatchWide(phase.lowerBound, input: base, batch: batchSize)
            } else {
                runPerSample(phase, input: base, batch: batchSize)
            }
        }
        let last = routes.last?.target ?? .input
        let (rows, stride) = operand(last, input: base)
        for sample in 0..<batchSize {
            (features + sample * featureCount).update(from: rows + sample * stride, count: featureCount)
        }
        head.infer(features, batch: batchSize, into: out)
    }

    /// Where sample 0 of `buffer` starts, and how far apart its samples are (0 for a worker's
    /// own buffers, which hold one sample at a time).
    private func operand(_ buffer: Buffer, input: UnsafePointer<Float>, worker: Int = 0) -> (UnsafeMutablePointer<Float>, Int) {
        switch buffer {
        case .input: (UnsafeMutablePointer(mutating: input), inputSize)
        case .batchFirst: (batchBuffers, batchStride)
        case .batchSecond: (batchBuffers + maxBatchSize * batchStride, batchStride)
        case .workerFirst: (workspaces[worker].first, 0)
        case .workerSecond: (workspaces[worker].second, 0)
        }
    }

    /// Steps `range`, all per-sample, for every sample; samples are handed out one at a time, so
    /// a worker the scheduler delays holds up the batch by one sample at most.
    private func runPerSample(_ range: Range<Int>, input: UnsafePointer<Float>, batch: Int) {
        let threads = min(workspaces.count, batch)
        let next = Atomic<Int>(0)
        let work = { (worker: Int) in
            let workspace = self.workspaces[worker]
            while true {
                let sample = next.wrappingAdd(1, ordering: .relaxed).oldValue
                guard sample < batch else { break }
                for index in range {
                    let (source, sourceStride) = self.operand(self.routes[index].source, input: input, worker: worker)
                    let (target, targetStride) = self.operand(self.routes[index].target, input: input, worker: worker)
                    self.steps[index].run(source + sample * sourceStride, into: target + sample * targetStride,
                                          scratch1: workspace.scratch1, scratch2: workspace.scratch2, workspace: workspace)
                }
            }
        }
        if threads == 1 { work(0) } else { DispatchQueue.concurrentPerform(iterations: threads, execute: work) }
    }

    /// A batch-wide step, its output blocks shared out among the workers (a lone sample keeps
    /// one thread: waking another costs more than its share of one sample's product).
    private func runBatchWide(_ index: Int, input: UnsafePointer<Float>, batch: Int) {
        let step = steps[index]
        let (source, sourceStride) = operand(routes[index].source, input: input)
        let (target, targetStride) = operand(routes[index].target, input: input)
        let blocks = step.blockCount
        let threads = batch == 1 ? 1 : min(workspaces.count, blocks)
        if threads == 1 {
            step.runBatch(source, sourceStride: sourceStride, into: target, targetStride: targetStride,
                          batch: batch, blocks: 0..<blocks)
            return
        }
        DispatchQueue.concurrentPerform(iterations: threads) { worker in
            let range = (worker * blocks / threads)..<((worker + 1) * blocks / threads)
            step.runBatch(source, sourceStride: sourceStride, into: target, targetStride: targetStride,
                          batch: batch, blocks: range)
        }
    }
}
