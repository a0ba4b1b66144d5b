/// What an API key may do.
///
/// `infer` keys classify images and read models (predictions, inference, metadata, model
/// lists, statistics); `admin` keys may do that and everything else: training jobs and the
/// model repository's index, load and unload.
public enum Role: String, Sendable, Codable, CaseIterable {
    case infer
    case admin

    /// Whether a key of this role may use a route that needs `needed`.
    public func grants(_ needed: Role) -> Bool {
        self == .admin || needed == .infer
    }
}
