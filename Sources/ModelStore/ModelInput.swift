/// What a model expects as input and how raw images are turned into it.
public struct ModelInput: Codable, Equatable, Sendable {
    /// How an image's pixels map to channels.
    public enum ColorMode: String, Codable, Sendable, CaseIterable {
        /// One channel (luma).
        case gray
        /// Three channels, red, green, blue.
        case rgb

        /// The number of channels this mode produces.
        public var channels: Int { self == .gray ? 1 : 3 }
    }

    /// How an image of another size is brought to [H, W].
    public enum ResizePolicy: String, Codable, Sendable, CaseIterable {
        /// Refuse images whose size differs from [H, W].
        case exact
        /// Scale to [H, W], ignoring the aspect ratio.
        case stretch
        /// Scale the shorter side to fit, then cut the centre [H, W].
        case centerCrop
    }

    /// [C, H, W] of one input, channels first.
    public var shape: [Int]
    /// Gray or RGB; its channel count must equal C.
    public var colorMode: ColorMode
    /// What to do with images of another size.
    public var resize: ResizePolicy
    /// Per-channel mean subtracted after scaling pixels to [0, 1]; C values.
    public var mean: [Float]
    /// Per-channel standard deviation divided by after the mean; C values, each > 0.
    public var std: [Float]

    public init(shape: [Int], colorMode: ColorMode, resize: ResizePolicy = .exact, mean: [Float], std: [Float]) {
        self.shape = shape
        self.colorMode = colorMode
        self.resize = resize
        self.mean = mean
        self.std = std
    }
}
