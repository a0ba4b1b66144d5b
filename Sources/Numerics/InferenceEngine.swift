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
/// Activations, features and padding scratch live in buffers allocated once for
/// `maxBatchSize`; `logits(for:batchSize:into:)` allocates nothing but what the head needs.
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
    /// The head's input, [maxBatchSize, N].
    private let features: UnsafeMutablePointer<Float>
    /// Per-worker scratch for padded convolution inputs and Winograd transforms.
    private let workspaces: [InferenceWorkspace]

    /// A step's operand: the caller's input rows or one of the two alternating arena buffers.
    private enum Buffer { case input, first, second }

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
        self.steps = compiled.steps
        self.head = network.head
        self.maxBatchSize = maxBatchSize
        self.workers = workers
        self.inputShape = network.inputShape
        self.inputSize = network.inputShape.reduce(1, *)
        self.featureCount = compiled.featureCount
        self.classes = network.classes
        self.sampleStride = compiled.largest
        self.bufferSize = compiled.largest * maxBatchSize
        var routes: [(source: Buffer, target: Buffer)] = []
        var source = Buffer.input
        for _ in compiled.steps {
            let target: Buffer = source == .first ? .second : .first
            routes.append((source, target))
            source = target
        }
        self.routes = routes
        // Residual blocks need the two scratch buffers; plain chains only the alternating pair.
        let hasResidual = steps.contains { if case .residual = $0 { return true } else { return false } }
        self.bufferCount = hasResidual ? 4 : 2
        let capacity = bufferCount * bufferSize
        self.arena = .allocate(capacity: capacity)
        self.arena.initialize(repeating: 0, count: capacity)
        self.features = .allocate(capacity: maxBatchSize * compiled.featureCount)
        self.features.initialize(repeating: 0, count: maxBatchSize * compiled.featureCount)
        self.workspaces = (0..<min(workers, maxBatchSize)).map { _ in InferenceWorkspace(scratch: compiled.scratch) }
    }

    deinit {
        arena.deallocate()
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
        var start = 0
        while start < steps.count {
            if steps[start].isBatchWide {
                runBatchWide(start, input: base, batch: batchSize)
                start += 1
            } else {
                var end = start + 1
                while end < steps.count && !steps[end].isBatchWide { end += 1 }
                runPerSample(start..<end, input: base, batch: batchSize)
                start = end
            }
        }
        let last = routes.last?.target ?? .input
        let (rows, stride) = operand(last, input: base)
        for sample in 0..<batchSize {
            (features + sample * featureCount).update(from: rows + sample * stride, count: featureCount)
        }
        head.infer(features, batch: batchSize, into: out)
    }

    /// Where sample 0 of `buffer` starts, and how far apart its samples are.
    private func operand(_ buffer: Buffer, input: UnsafePointer<Float>) -> (UnsafeMutablePointer<Float>, Int) {
        switch buffer {
        case .input: (UnsafeMutablePointer(mutating: input), inputSize)
        case .first: (arena, sampleStride)
        case .second: (arena + bufferSize, sampleStride)
        }
    }

    /// Steps `range`, all per-sample, for every sample; samples are handed out one at a time, so
    /// a worker the scheduler delays holds up the batch by one sample at most.
    private func runPerSample(_ range: Range<Int>, input: UnsafePointer<Float>, batch: Int) {
        let threads = min(workspaces.count, batch)
        let next = Atomic<Int>(0)
        let work = { (worker: Int) in
            while true {
                let sample = next.wrappingAdd(1, ordering: .relaxed).oldValue
                guard sample < batch else { break }
                // Only residual steps use the scratch pair, and the arena has it exactly when there are some.
                let scratch1 = self.bufferCount == 4 ? self.arena + 2 * self.bufferSize + sample * self.sampleStride : self.arena
                let scratch2 = self.bufferCount == 4 ? self.arena + 3 * self.bufferSize + sample * self.sampleStride : self.arena
                for index in range {
                    let (source, sourceStride) = self.operand(self.routes[index].source, input: input)
                    let (target, targetStride) = self.operand(self.routes[index].target, input: input)
                    self.steps[index].run(source + sample * sourceStride, into: target + sample * targetStride,
                                          scratch1: scratch1, scratch2: scratch2, workspace: self.workspaces[worker])
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
