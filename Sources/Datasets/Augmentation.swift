/// Random training-time perturbations applied per image when a batch is formed.
public struct Augmentation: Codable, Equatable, Sendable {
    /// Pad each side with this many zero (black) pixels, then crop a random window of the
    /// original size: a random shift of up to ±`cropPadding` pixels on each axis. 0 disables it.
    public var cropPadding: Int
    /// Mirror left–right with probability ½.
    public var horizontalFlip: Bool

    public init(cropPadding: Int = 0, horizontalFlip: Bool = false) {
        self.cropPadding = max(cropPadding, 0)
        self.horizontalFlip = horizontalFlip
    }

    /// No augmentation.
    public static let none = Augmentation()

    /// Whether any perturbation is enabled.
    public var isEnabled: Bool { cropPadding > 0 || horizontalFlip }
}
