/// Random training-time perturbations applied per image when a batch is formed.
public struct Augmentation: Codable, Equatable, Sendable {
    /// Pad each side with this many zero (black) pixels, then crop a random window of the
    /// original size: a random shift of up to ±`cropPadding` pixels on each axis. 0 disables it.
    public let cropPadding: Int
    /// Mirror left–right with probability ½.
    public let horizontalFlip: Bool

    /// The largest accepted `cropPadding`.
    public static let maxCropPadding = 1024

    /// - Throws: `DatasetError.invalidParameter` if `cropPadding` is outside 0...`maxCropPadding`.
    public init(cropPadding: Int = 0, horizontalFlip: Bool = false) throws {
        guard cropPadding >= 0, cropPadding <= Self.maxCropPadding else {
            throw DatasetError.invalidParameter("crop padding \(cropPadding) is outside 0...\(Self.maxCropPadding)")
        }
        self.cropPadding = cropPadding
        self.horizontalFlip = horizontalFlip
    }

    /// Decodes and validates like `init(cropPadding:horizontalFlip:)`; both keys are optional.
    public init(from decoder: Decoder) throws {
        let container = try decoder.container(keyedBy: CodingKeys.self)
        do {
            try self.init(cropPadding: container.decodeIfPresent(Int.self, forKey: .cropPadding) ?? 0,
                          horizontalFlip: container.decodeIfPresent(Bool.self, forKey: .horizontalFlip) ?? false)
        } catch let error as DatasetError {
            throw DecodingError.dataCorrupted(.init(codingPath: decoder.codingPath, debugDescription: error.description))
        }
    }

    /// No augmentation.
    public static let none = Augmentation(uncheckedPadding: 0, horizontalFlip: false)

    private init(uncheckedPadding: Int, horizontalFlip: Bool) {
        self.cropPadding = uncheckedPadding
        self.horizontalFlip = horizontalFlip
    }

    /// Whether any perturbation is enabled.
    public var isEnabled: Bool { cropPadding > 0 || horizontalFlip }
}
