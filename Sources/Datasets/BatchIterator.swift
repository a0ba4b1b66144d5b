import Numerics

/// Mini-batches of a `LabeledImageSet` for one epoch: normalised Float32 inputs
/// [B, C, H, W] and their labels, shuffled and augmented deterministically from a seed.
///
/// The input tensor's storage is reused from batch to batch: if the caller lets go of the
/// previous batch before asking for the next, no memory is allocated (copy-on-write copies it
/// otherwise, so a retained batch is never overwritten).
public struct BatchIterator: IteratorProtocol, Sequence {
    /// Normalised inputs [B, C, H, W] and one label per row.
    public typealias Element = (input: Tensor, labels: [Int])

    /// The set being batched.
    public let dataset: LabeledImageSet
    /// Images per batch (the last batch may be smaller unless `dropLast`).
    public let batchSize: Int
    /// The per-channel statistics the inputs are standardised with.
    public let normalization: Normalization
    /// The random perturbations applied to each image as its batch is formed.
    public let augmentation: Augmentation
    /// Whether each epoch visits the images in a seeded random order.
    public let shuffle: Bool
    /// Whether a final batch smaller than `batchSize` is skipped.
    public let dropLast: Bool
    /// With the epoch, determines the order and the augmentation.
    public let seed: UInt64
    /// The epoch this iterator currently walks.
    public private(set) var epoch: Int

    private let table: [Float]
    private var order: [Int]
    private var position = 0
    private var generator: SeededGenerator
    private var input: Tensor
    private var labels: [Int]

    /// An iterator at the start of `epoch`.
    ///
    /// - Parameters:
    ///   - shuffle: visit images in a seeded random order (different each epoch); otherwise in order.
    ///   - dropLast: skip a final batch smaller than `batchSize`.
    ///   - seed: with `epoch`, determines the order and the augmentation completely.
    /// - Throws: `DatasetError.invalidParameter` if `batchSize` is not positive or the
    ///   normalisation's channel count differs from the set's.
    public init(dataset: LabeledImageSet, batchSize: Int, normalization: Normalization,
                augmentation: Augmentation = .none, shuffle: Bool = true, dropLast: Bool = false,
                seed: UInt64, epoch: Int = 0) throws {
        guard batchSize > 0 else { throw DatasetError.invalidParameter("batch size \(batchSize) is not positive") }
        guard normalization.channels == dataset.channels else {
            throw DatasetError.invalidParameter("normalisation has \(normalization.channels) channels, the data set \(dataset.channels)")
        }
        self.dataset = dataset
        self.batchSize = batchSize
        self.normalization = normalization
        self.augmentation = augmentation
        self.shuffle = shuffle
        self.dropLast = dropLast
        self.seed = seed
        self.epoch = epoch
        self.table = normalization.table()
        self.order = []
        self.generator = SeededGenerator(seed: seed)
        self.input = Tensor(shape: [0, dataset.channels, dataset.height, dataset.width])
        self.labels = []
        reset(epoch: epoch)
    }

    /// The number of batches in an epoch.
    public var batchCount: Int {
        dropLast ? dataset.count / batchSize : (dataset.count + batchSize - 1) / batchSize
    }

    /// Restarts at the beginning of `epoch`, with that epoch's order and augmentation.
    public mutating func reset(epoch: Int) {
        self.epoch = epoch
        // Mixing the epoch into the seed gives each epoch an independent stream.
        generator = SeededGenerator(seed: seed ^ (UInt64(truncatingIfNeeded: epoch) &* 0x9E37_79B9_7F4A_7C15))
        order = Array(0..<dataset.count)
        if shuffle { order.seededShuffle(using: &generator) }
        position = 0
    }

    /// Where an iterator stands within an epoch: enough to continue it exactly, batches and
    /// augmentation included, in another iterator over the same set and settings.
    public struct Cursor: Equatable, Sendable {
        public var epoch: Int
        /// Images of the epoch already handed out.
        public var offset: Int
        /// The augmentation stream's state (`SeededGenerator.state`).
        public var generatorState: [UInt64]

        public init(epoch: Int, offset: Int, generatorState: [UInt64]) {
            self.epoch = epoch
            self.offset = offset
            self.generatorState = generatorState
        }
    }

    /// The current position, for `restore(_:)`.
    public var cursor: Cursor { Cursor(epoch: epoch, offset: position, generatorState: generator.state) }

    /// Continues from a saved position: the epoch's order is derived again from the seed, the
    /// augmentation stream is put back where it stood.
    ///
    /// - Throws: `DatasetError.invalidParameter` when the epoch is negative, the offset is
    ///   outside the set or the generator state is not one.
    public mutating func restore(_ cursor: Cursor) throws {
        guard cursor.epoch >= 0, (0...dataset.count).contains(cursor.offset) else {
            throw DatasetError.invalidParameter(
                "cannot continue at image \(cursor.offset) of epoch \(cursor.epoch): the set has \(dataset.count) images")
        }
        let generator: SeededGenerator
        do {
            generator = try SeededGenerator(state: cursor.generatorState)
        } catch {
            throw DatasetError.invalidParameter("cannot continue the batches: \(error)")
        }
        reset(epoch: cursor.epoch)
        position = cursor.offset
        self.generator = generator
    }

    /// The next batch of this epoch, or nil when the epoch is over.
    public mutating func next() -> Element? {
        let remaining = dataset.count - position
        guard remaining > 0, !(dropLast && remaining < batchSize) else { return nil }
        let rows = Swift.min(batchSize, remaining)
        let size = dataset.sampleSize
        if input.shape[0] != rows {
            input = Tensor(shape: [rows, dataset.channels, dataset.height, dataset.width])
        }
        labels.removeAll(keepingCapacity: true)
        for row in 0..<rows { labels.append(dataset.labels[order[position + row]]) }

        let shifts = (0..<rows).map { _ in nextShift() }
        let layout = SampleLayout(channels: dataset.channels, height: dataset.height, width: dataset.width)
        let batchOrder = order[position..<position + rows]
        dataset.pixels.withUnsafeBufferPointer { pixels in
            table.withUnsafeBufferPointer { table in
                input.data.withUnsafeMutableBufferPointer { out in
                    for (row, index) in batchOrder.enumerated() {
                        layout.write(source: pixels.baseAddress! + index * size, into: out.baseAddress! + row * size,
                                     table: table.baseAddress!, shift: shifts[row])
                    }
                }
            }
        }
        position += rows
        return (input, labels)
    }

    /// One image's random crop offset and flip, drawn in a fixed order so results depend only
    /// on the seed.
    private mutating func nextShift() -> SampleLayout.Shift {
        guard augmentation.isEnabled else { return .identity }
        let pad = augmentation.cropPadding
        let span = UInt64(2 * pad + 1)
        let dy = pad > 0 ? Int(generator.next().multipliedFullWidth(by: span).high) - pad : 0
        let dx = pad > 0 ? Int(generator.next().multipliedFullWidth(by: span).high) - pad : 0
        let flip = augmentation.horizontalFlip && generator.next() >> 63 == 1
        return SampleLayout.Shift(dy: dy, dx: dx, flip: flip)
    }
}
