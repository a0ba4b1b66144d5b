import Datasets
import Numerics

/// What a client asks the trainer to do: which data, which network, which head, how long.
///
/// Decoded from the JSON body of `POST /v1/training/jobs`; every field but `model` has a default.
public struct TrainingRequest: Codable, Sendable, Equatable {
    /// The repository name to store the trained model under (a new version is added).
    public var model: String
    /// `fashion-mnist`, `fashion-mnist-pairs`, or `folder:<path>` for an image-folder data set under
    /// the server's data root.
    public var dataset: String = "fashion-mnist"
    /// A backbone preset name (see `BackbonePreset`).
    public var backbone: String = "cnn-small"
    /// The backbone's feature width N, for the presets that end in a fully connected layer;
    /// nil keeps the preset's.
    public var features: Int?
    /// When set, a learned linear layer maps the backbone's N features to this many before the
    /// head: how a fixed head serves more classes than the backbone has features (C ≤ projection).
    public var projection: Int?
    public var head: HeadKind = .hadamard
    /// α's initial value (learned) or its value (fixed); nil picks the head's default.
    public var alpha: Float?
    public var alphaLearned: Bool = true
    /// Hadamard only: skip the all-ones row.
    public var skipAllOnesRow: Bool = true
    public var epochs: Int = 5
    public var batchSize: Int = 128
    public var learningRate: Float = 0.1
    public var momentum: Float = 0.9
    public var nesterov: Bool = true
    public var weightDecay: Float = 5e-4
    /// `cosine`, `step` or `constant`.
    public var schedule: String = "cosine"
    public var warmupEpochs: Int = 0
    public var seed: UInt64 = 1
    /// The share of the training set held out for validation.
    public var validationFraction: Double = 0.1
    /// Random crop with padding and horizontal flips.
    public var augment: Bool = false
    /// Use at most this many training samples (quick jobs); nil uses all.
    public var trainingLimit: Int?

    public init(model: String) { self.model = model }

    /// The widest `features` or `projection` a request may ask for.
    public static let maximumWidth = 8192

    private enum CodingKeys: String, CodingKey {
        case model, dataset, backbone, features, projection, head, alpha, alphaLearned = "alpha_learned", skipAllOnesRow = "skip_all_ones_row"
        case epochs, batchSize = "batch_size", learningRate = "learning_rate", momentum, nesterov
        case weightDecay = "weight_decay", schedule, warmupEpochs = "warmup_epochs", seed
        case validationFraction = "validation_fraction", augment, trainingLimit = "training_limit"
    }

    public init(from decoder: Decoder) throws {
        let c = try decoder.container(keyedBy: CodingKeys.self)
        model = try c.decode(String.self, forKey: .model)
        dataset = try c.decodeIfPresent(String.self, forKey: .dataset) ?? dataset
        backbone = try c.decodeIfPresent(String.self, forKey: .backbone) ?? backbone
        features = try c.decodeIfPresent(Int.self, forKey: .features)
        projection = try c.decodeIfPresent(Int.self, forKey: .projection)
        head = try c.decodeIfPresent(HeadKind.self, forKey: .head) ?? head
        alpha = try c.decodeIfPresent(Float.self, forKey: .alpha)
        alphaLearned = try c.decodeIfPresent(Bool.self, forKey: .alphaLearned) ?? alphaLearned
        skipAllOnesRow = try c.decodeIfPresent(Bool.self, forKey: .skipAllOnesRow) ?? skipAllOnesRow
        epochs = try c.decodeIfPresent(Int.self, forKey: .epochs) ?? epochs
        batchSize = try c.decodeIfPresent(Int.self, forKey: .batchSize) ?? batchSize
        learningRate = try c.decodeIfPresent(Float.self, forKey: .learningRate) ?? learningRate
        momentum = try c.decodeIfPresent(Float.self, forKey: .momentum) ?? momentum
        nesterov = try c.decodeIfPresent(Bool.self, forKey: .nesterov) ?? nesterov
        weightDecay = try c.decodeIfPresent(Float.self, forKey: .weightDecay) ?? weightDecay
        schedule = try c.decodeIfPresent(String.self, forKey: .schedule) ?? schedule
        warmupEpochs = try c.decodeIfPresent(Int.self, forKey: .warmupEpochs) ?? warmupEpochs
        seed = try c.decodeIfPresent(UInt64.self, forKey: .seed) ?? seed
        validationFraction = try c.decodeIfPresent(Double.self, forKey: .validationFraction) ?? validationFraction
        augment = try c.decodeIfPresent(Bool.self, forKey: .augment) ?? augment
        trainingLimit = try c.decodeIfPresent(Int.self, forKey: .trainingLimit)
    }

    /// Checks every field's range.
    ///
    /// - Throws: `ServiceError` (400) naming the field, its value and what is allowed.
    public func validate() throws {
        func fail(_ message: String) -> ServiceError { .badRequest(message) }
        guard ModelName.isValid(model) else {
            throw fail("model \"\(model)\" must be 1–64 characters of letters, digits, '-', '_' or '.', not starting with '.'")
        }
        guard BuiltinDataset(rawValue: dataset) != nil || dataset.hasPrefix("folder:") else {
            throw fail("dataset \"\(dataset)\" must be one of \(BuiltinDataset.allCases.map { "\"\($0.rawValue)\"" }.joined(separator: ", ")) or \"folder:<path>\"")
        }
        guard let preset = BackbonePreset(rawValue: backbone) else {
            throw fail("backbone \"\(backbone)\" is not a preset; use one of \(BackbonePreset.allCases.map(\.rawValue).joined(separator: ", "))")
        }
        if let features {
            guard preset.hasAdjustableFeatures else {
                throw fail("features: the \(backbone) backbone's width is fixed; choose it for \(BackbonePreset.allCases.filter(\.hasAdjustableFeatures).map(\.rawValue).joined(separator: ", "))")
            }
            guard (1...Self.maximumWidth).contains(features) else { throw fail("features must be 1…\(Self.maximumWidth), got \(features)") }
        }
        if let projection, !(1...Self.maximumWidth).contains(projection) {
            throw fail("projection must be 1…\(Self.maximumWidth), got \(projection)")
        }
        guard (1...1000).contains(epochs) else { throw fail("epochs must be 1…1000, got \(epochs)") }
        guard (1...4096).contains(batchSize) else { throw fail("batch_size must be 1…4096, got \(batchSize)") }
        guard learningRate > 0, learningRate <= 10 else { throw fail("learning_rate must be in (0, 10], got \(learningRate)") }
        guard (0..<1).contains(momentum) else { throw fail("momentum must be in [0, 1), got \(momentum)") }
        guard weightDecay >= 0, weightDecay < 1 else { throw fail("weight_decay must be in [0, 1), got \(weightDecay)") }
        guard ["cosine", "step", "constant"].contains(schedule) else {
            throw fail("schedule \"\(schedule)\" must be cosine, step or constant")
        }
        guard (0..<epochs).contains(warmupEpochs) || warmupEpochs == 0 else {
            throw fail("warmup_epochs must be less than epochs, got \(warmupEpochs)")
        }
        guard (0..<0.9).contains(validationFraction) else {
            throw fail("validation_fraction must be in [0, 0.9), got \(validationFraction)")
        }
        if let alpha, !(alpha.isFinite && alpha > 0) { throw fail("alpha must be a positive number, got \(alpha)") }
        if let trainingLimit, trainingLimit < 1 { throw fail("training_limit must be positive, got \(trainingLimit)") }
    }
}

/// Names of models in the repository: safe as a single path component.
public enum ModelName {
    public static func isValid(_ name: String) -> Bool {
        guard (1...64).contains(name.count), !name.hasPrefix(".") else { return false }
        return name.unicodeScalars.allSatisfy {
            ("a"..."z").contains($0) || ("A"..."Z").contains($0) || ("0"..."9").contains($0) || $0 == "-" || $0 == "_" || $0 == "."
        }
    }
}
